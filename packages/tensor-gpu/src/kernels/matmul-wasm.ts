/**
 * A faster BatchMatMul (and _FusedMatMul) for tfjs-backend-wasm: an AssemblyScript SIMD kernel
 * (assembly/matmul.ts) that computes directly on the wasm backend's heap (it imports the
 * backend's memory, so inputs and outputs are never copied). Unlike the stock kernel it is fast
 * for all four transpose combinations and for batched / broadcast products, which is what
 * matMul gradients need (the stock one runs those at ~1.3 GFLOP/s).
 */
import { tf } from '../tf.js';
import { MATMUL_WASM_BASE64 } from './matmul.wasm.generated.js';

type TensorInfo = tf.TensorInfo;
type KernelConfig = tf.KernelConfig;
type KernelParams = Parameters<tf.KernelFunc>[0];

/** The parts of tfjs-backend-wasm's BackendWasm this kernel uses. */
interface WasmBackendLike {
  wasm: { asm?: { memory?: object }; _malloc(bytes: number): number; _free(ptr: number): void };
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  disposeData(dataId: object): void;
}

/** Exports of assembly/matmul.ts (pointers are byte offsets into the backend's heap). */
interface MatMulExports {
  matmul(
    a: number, b: number, c: number, batch: number, M: number, N: number, K: number,
    transA: number, transB: number, strideA: number, strideB: number, pack: number,
  ): void;
  packBytes(M: number, N: number, K: number): number;
  biasAct(c: number, rows: number, N: number, bias: number, biasLen: number, act: number,
    alpha: number): void;
}

/** Minimal typing of the WebAssembly global (lib.dom is not in this package's libs). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}
const WASM = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

type Exports = MatMulExports | null;
let compiled: object | null = null;
/** One instance per wasm backend instance (a new backend has a new heap); null: unusable. */
const instances = new WeakMap<WasmBackendLike, { memory?: object; exports: Exports }>();

/** Instantiates the kernel module on `memory`, or null if it cannot link (e.g. shared memory). */
function instantiate(memory: object | undefined): MatMulExports | null {
  if (memory === undefined) return null;
  compiled ??= new WASM.Module(Buffer.from(MATMUL_WASM_BASE64, 'base64'));
  try {
    const env = { memory, abort: () => {} };
    return new WASM.Instance(compiled, { env }).exports as MatMulExports;
  } catch {
    return null;
  }
}

/**
 * The kernel module instantiated on `backend`'s memory (lazily, once per backend instance);
 * null when it cannot be (the stock kernels are used then).
 */
function exportsFor(backend: WasmBackendLike): MatMulExports | null {
  const memory = backend.wasm.asm?.memory;
  const cached = instances.get(backend);
  if (cached !== undefined && cached.memory === memory) return cached.exports;
  const exports = instantiate(memory);
  instances.set(backend, { memory, exports });
  return exports;
}

/** How one BatchMatMul maps onto `matmul(...)`: C[b] = op(A[b])·op(B[b]), C[b] [M, N]. */
interface MatMulPlan {
  batch: number;
  M: number;
  N: number;
  K: number;
  /** Elements between batches of A / B (0 broadcasts a batch-1 side). */
  strideA: number;
  strideB: number;
  outShape: number[];
}

type Plan = MatMulPlan | null;

const sizeOf = (shape: number[]): number => shape.reduce((n, d) => n * d, 1);

/** Broadcast outer (batch) dims, or null unless one side's batch is 1 or both are equal. */
function outerShape(outerA: number[], outerB: number[]): number[] | null {
  let outer: number[];
  try {
    outer = tf.broadcast_util.assertAndGetBroadcastShape(outerA, outerB);
  } catch {
    return null;
  }
  const [bA, bB, bOut] = [sizeOf(outerA), sizeOf(outerB), sizeOf(outer)];
  const ok = (bA === bB && bOut === bA) || (bA === 1 && bOut === bB) || (bB === 1 && bOut === bA);
  return ok ? outer : null;
}

/**
 * Plans a BatchMatMul of a [...batchA, M, K] (or [..., K, M] when transA) by b [...batchB, K, N]
 * (or [..., N, K] when transB); null when this kernel does not handle it (the stock one will).
 * Example: planMatMul([6, 4, 3], [3, 5], false, false) gives batch 1, M 24, N 5, K 3 (a batched
 * A times a shared B is one [24, 3]·[3, 5] product).
 * @internal exported for tests.
 */
export function planMatMul(
  aShape: number[], bShape: number[], transA: boolean, transB: boolean,
): MatMulPlan | null {
  const [ra, rb] = [aShape.length, bShape.length];
  if (ra < 2 || rb < 2) return null;
  const [a0, a1, b0, b1] = [aShape[ra - 2]!, aShape[ra - 1]!, bShape[rb - 2]!, bShape[rb - 1]!];
  const [M, K] = transA ? [a1, a0] : [a0, a1];
  const [kB, N] = transB ? [b1, b0] : [b0, b1];
  const outer = outerShape(aShape.slice(0, -2), bShape.slice(0, -2));
  if (K !== kB || outer === null) return null;
  const [batchA, batchB] = [sizeOf(aShape.slice(0, -2)), sizeOf(bShape.slice(0, -2))];
  const outShape = [...outer, M, N];
  if (batchB === 1 && batchA > 1 && !transA) {
    // [batchA, M, K]·[K, N] is one [batchA·M, K]·[K, N] product.
    return { batch: 1, M: batchA * M, N, K, strideA: 0, strideB: 0, outShape };
  }
  const strideA = batchA === 1 ? 0 : M * K;
  const strideB = batchB === 1 ? 0 : K * N;
  return { batch: Math.max(batchA, batchB), M, N, K, strideA, strideB, outShape };
}

/** Byte offset of a tensor's data in the wasm heap. */
function offsetOf(backend: WasmBackendLike, t: TensorInfo): number {
  const data = backend.dataIdMap.get(t.dataId);
  if (data === undefined) throw new Error('matmul-wasm: tensor data is not on the wasm backend');
  return data.memoryOffset;
}

/** Runs the planned product into a new output tensor on `backend`. */
function runPlan(kernel: MatMulExports, backend: WasmBackendLike, a: TensorInfo, b: TensorInfo,
  p: MatMulPlan, transA: boolean, transB: boolean): TensorInfo {
  const out = backend.makeOutput(p.outShape, 'float32');
  if (p.M === 0 || p.N === 0 || p.batch === 0) return out;
  // _malloc may grow the heap; we pass offsets only, so no typed-array view goes stale.
  const pack = backend.wasm._malloc(kernel.packBytes(p.M, p.N, p.K));
  try {
    kernel.matmul(offsetOf(backend, a), offsetOf(backend, b), offsetOf(backend, out), p.batch,
      p.M, p.N, p.K, transA ? 1 : 0, transB ? 1 : 0, p.strideA, p.strideB, pack);
  } finally {
    backend.wasm._free(pack);
  }
  return out;
}

/** Stock kernel configs replaced by registerWasmMatMul, by kernel name. */
const stock = new Map<string, KernelConfig>();

/** Runs the saved stock kernel `name`. */
function runStock(name: string, args: KernelParams): TensorInfo | TensorInfo[] {
  const config = stock.get(name);
  if (config === undefined) throw new Error(`matmul-wasm: stock ${name} kernel missing`);
  return config.kernelFunc(args);
}

/** Reads attrs.transposeA / transposeB and plans the product (null: not float32 / not handled). */
function planFor(args: KernelParams): { plan: Plan; transA: boolean; transB: boolean } {
  const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
  const transA = Boolean(args.attrs?.['transposeA']);
  const transB = Boolean(args.attrs?.['transposeB']);
  const f32 = a.dtype === 'float32' && b.dtype === 'float32';
  return { plan: f32 ? planMatMul(a.shape, b.shape, transA, transB) : null, transA, transB };
}

/** The BatchMatMul kernelFunc installed by registerWasmMatMul. */
function wasmBatchMatMul(args: KernelParams): TensorInfo | TensorInfo[] {
  const { plan, transA, transB } = planFor(args);
  const backend = args.backend as WasmBackendLike;
  const kernel = plan === null ? null : exportsFor(backend);
  if (plan === null || kernel === null) return runStock('BatchMatMul', args);
  const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
  return runPlan(kernel, backend, a, b, plan, transA, transB);
}

/** _FusedMatMul activations applied in place after the bias (codes of biasAct in matmul.ts). */
const IN_PLACE: Record<string, number> = { linear: 0, relu: 1, relu6: 2, leakyrelu: 4 };
/** _FusedMatMul activations applied afterwards by the backend's own unary kernel. */
const POST_KERNEL: Record<string, string> = { elu: 'Elu', sigmoid: 'Sigmoid', prelu: 'Prelu' };

interface FusedInputs {
  a: TensorInfo;
  b: TensorInfo;
  bias?: TensorInfo;
  preluActivationWeights?: TensorInfo;
}

/** Whether t is a float32 rank-1 tensor of size 1 or n (broadcast over the last dim). */
function isRowVector(t: TensorInfo | undefined, n: number): boolean {
  if (t === undefined || t.dtype !== 'float32' || t.shape.length !== 1) return false;
  return t.shape[0] === 1 || t.shape[0] === n;
}

/** Whether wasmFusedMatMul handles this bias / activation / prelu-weights combination. */
function fusedSupported(inputs: FusedInputs, activation: string, N: number): boolean {
  const { bias, preluActivationWeights: prelu } = inputs;
  if (bias != null && !isRowVector(bias, N)) return false;
  if (activation === 'prelu') return isRowVector(prelu, N);
  return prelu == null && (activation in IN_PLACE || activation in POST_KERNEL);
}

/** Runs the wasm backend's kernel `name` on {x: out (, alpha)} and frees `out`. */
function applyPostKernel(backend: WasmBackendLike, name: string, out: TensorInfo,
  alpha: TensorInfo | undefined): TensorInfo {
  const config = tf.getKernel(name, 'wasm');
  if (config === undefined) throw new Error(`matmul-wasm: no ${name} kernel for wasm`);
  const inputs = alpha === undefined ? { x: out } : { x: out, alpha };
  const y = config.kernelFunc({ inputs, backend, attrs: {} }) as TensorInfo;
  backend.disposeData(out.dataId);
  return y;
}

/** The _FusedMatMul kernelFunc: matmul, then bias ([N] or [1]) and activation. */
function wasmFusedMatMul(args: KernelParams): TensorInfo | TensorInfo[] {
  const { plan, transA, transB } = planFor(args);
  const inputs = args.inputs as unknown as FusedInputs;
  const activation = String(args.attrs?.['activation'] ?? 'linear');
  const backend = args.backend as WasmBackendLike;
  const ok = plan !== null && fusedSupported(inputs, activation, plan.N);
  const kernel = ok ? exportsFor(backend) : null;
  if (plan === null || kernel === null) return runStock('_FusedMatMul', args);
  const out = runPlan(kernel, backend, inputs.a, inputs.b, plan, transA, transB);
  const act = IN_PLACE[activation] ?? 0;
  const { bias } = inputs;
  const rows = plan.batch * plan.M;
  if (rows * plan.N > 0 && (bias != null || act !== 0)) {
    const alpha = Number(args.attrs?.['leakyreluAlpha'] ?? 0.2);
    const biasPtr = bias == null ? 0 : offsetOf(backend, bias);
    kernel.biasAct(offsetOf(backend, out), rows, plan.N, biasPtr, bias?.shape[0] ?? 0, act, alpha);
  }
  const post = POST_KERNEL[activation];
  if (post === undefined) return out;
  return applyPostKernel(backend, post, out, inputs.preluActivationWeights);
}

const KERNELS: Record<string, (args: KernelParams) => TensorInfo | TensorInfo[]> = {
  BatchMatMul: wasmBatchMatMul,
  _FusedMatMul: wasmFusedMatMul,
};

/**
 * Replaces tfjs-backend-wasm's BatchMatMul and _FusedMatMul kernels with the SIMD kernel
 * (idempotent). Cases it does not handle (non-float32, incompatible batch dims, a bias or prelu
 * weights other than [N] / [1]) go to the saved stock kernels.
 * Example: `registerWasmMatMul(); await tf.setBackend('wasm'); tf.matMul(a, b, true, false);`
 */
export function registerWasmMatMul(): void {
  for (const [name, kernelFunc] of Object.entries(KERNELS)) {
    const current = tf.getKernel(name, 'wasm');
    if (current === undefined) throw new Error(`matmul-wasm: no ${name} kernel for wasm`);
    if (current.kernelFunc === kernelFunc) continue;
    stock.set(name, current);
    tf.unregisterKernel(name, 'wasm');
    // Keep the stock setupFunc: the fallback path needs its cwrap'd C++ function.
    tf.registerKernel({ ...current, kernelFunc });
  }
}

/**
 * Restores the stock kernel configs saved by registerWasmMatMul (no-op when not registered).
 * Example: `unregisterWasmMatMul(); tf.getKernel('BatchMatMul', 'wasm') // the stock config`
 */
export function unregisterWasmMatMul(): void {
  for (const [name, kernelFunc] of Object.entries(KERNELS)) {
    const config = stock.get(name);
    if (config === undefined || tf.getKernel(name, 'wasm')?.kernelFunc !== kernelFunc) continue;
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel(config);
  }
}

/**
 * Whether the SIMD kernel is the current wasm BatchMatMul.
 * Example: `registerWasmMatMul(); isWasmMatMulRegistered() // true`
 */
export function isWasmMatMulRegistered(): boolean {
  return tf.getKernel('BatchMatMul', 'wasm')?.kernelFunc === wasmBatchMatMul;
}
