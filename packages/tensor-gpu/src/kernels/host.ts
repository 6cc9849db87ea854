/**
 * Host-memory access for kernels written in TypeScript. On the `cpu` backend tensors live in JS
 * typed arrays, on `wasm` in the WebAssembly heap; both can be read and written in place, so a
 * kernel can loop over them without copies. Other backends (tensorflow, webgl) return null and
 * callers fall back to composite tfjs ops.
 *
 *   const host = hostAccess(backend);
 *   const out = host.output([n], 'float32');  // allocate outputs FIRST (wasm may grow its heap)
 *   const x = host.read(inputs.x);            // then take views of inputs and outputs
 *   const o = host.view(out);
 */
import type { tf } from '../tf.js';

type TensorInfo = tf.TensorInfo;
type DataType = tf.DataType;
export type HostArray = Float32Array | Int32Array | Uint8Array;

export interface HostAccess {
  /** Allocate an output tensor (contents unspecified until written through `view`). */
  output(shape: number[], dtype: DataType): TensorInfo;
  /** A typed view of a tensor's data; valid until the next allocation on this backend. */
  read(info: TensorInfo): HostArray;
  /** Same as read, for outputs. */
  view(info: TensorInfo): HostArray;
}

interface CpuBackend {
  data: { get(id: object): { values: HostArray } };
  makeTensorInfo(shape: number[], dtype: DataType, values?: HostArray): TensorInfo;
}
interface WasmBackend {
  makeOutput(shape: number[], dtype: DataType): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): HostArray;
}

/** Host access for the backend instance a kernel receives, or null if its memory is not ours. */
export function hostAccess(backend: unknown, backendName: string): HostAccess | null {
  if (backendName === 'cpu') return cpuAccess(backend as CpuBackend);
  if (backendName === 'wasm') return wasmAccess(backend as WasmBackend);
  return null;
}

function cpuAccess(b: CpuBackend): HostAccess {
  const read = (info: TensorInfo) => b.data.get(info.dataId).values;
  return {
    output: (shape, dtype) => b.makeTensorInfo(shape, dtype, newArray(size(shape), dtype)),
    read,
    view: read,
  };
}

function wasmAccess(b: WasmBackend): HostAccess {
  const read = (info: TensorInfo) => b.typedArrayFromHeap(info);
  return { output: (shape, dtype) => b.makeOutput(shape, dtype), read, view: read };
}

function newArray(n: number, dtype: DataType): HostArray {
  if (dtype === 'float32') return new Float32Array(n);
  if (dtype === 'int32') return new Int32Array(n);
  if (dtype === 'bool') return new Uint8Array(n);
  throw new Error(`host kernels do not support dtype ${dtype}`);
}

export function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
