/**
 * Raw safetensors tensors (little-endian bytes) → Float32Arrays or tfjs tensors.
 *
 *   const w = rawToTensor(tensors.get('lm_head.weight')!); // float32 tf.Tensor
 */
import { TensorGpuError } from '../errors.js';
import { tf } from '../tf.js';
import {
  DTYPE_INFO,
  byteLengthOf,
  describeValue,
  float16BitsToFloat32,
  bfloat16BitsToFloat32,
  hostOrderCopy,
  isSafetensorsDtype,
  shapeProblem,
} from './dtypes.js';
import { invalid, type RawTensor } from './read.js';

/** Throws unless the tensor's byte length matches its dtype and shape. */
function checkRawTensor(t: RawTensor): void {
  if (!isSafetensorsDtype(t.dtype)) throw invalid(`unknown dtype ${describeValue(t.dtype)}`);
  const problem = shapeProblem(t.shape);
  if (problem !== undefined) throw invalid(problem);
  if (!(t.data instanceof Uint8Array)) throw invalid(`data must be a Uint8Array, got ${describeValue(t.data)}`);
  const expected = byteLengthOf(t.shape, t.dtype);
  if (t.data.byteLength !== expected) {
    throw invalid(`shape [${t.shape.join(',')}] of ${t.dtype} needs ${expected} bytes, data has ${t.data.byteLength}`);
  }
}

/** The element values of any tensor as numbers or bigints, decoded in host order (a copy). */
function decode(t: RawTensor): ArrayLike<number> | BigInt64Array {
  const buf = hostOrderCopy(t.data, DTYPE_INFO[t.dtype].size);
  switch (t.dtype) {
    case 'F64':
      return new Float64Array(buf);
    case 'F32':
      return new Float32Array(buf);
    case 'F16':
      return float16BitsToFloat32(new Uint16Array(buf));
    case 'BF16':
      return bfloat16BitsToFloat32(new Uint16Array(buf));
    case 'I64':
      return new BigInt64Array(buf);
    case 'I32':
      return new Int32Array(buf);
    case 'I16':
      return new Int16Array(buf);
    case 'I8':
      return new Int8Array(buf);
    case 'U8':
      return new Uint8Array(buf);
    case 'BOOL':
      return new Uint8Array(buf).map((b) => (b === 0 ? 0 : 1));
  }
}

/**
 * Decodes any supported dtype into a new Float32Array (F64 and large ints round to float32; BOOL
 * gives 0/1). Handles data at any byte offset.
 *
 *   rawToFloat32({ dtype: 'F16', shape: [2], data: new Uint8Array([0x00, 0x3c, 0x00, 0xc0]) })
 *   // Float32Array [1, -2]
 */
export function rawToFloat32(t: RawTensor): Float32Array {
  checkRawTensor(t);
  const values = decode(t);
  if (values instanceof Float32Array) return values;
  if (values instanceof BigInt64Array) return Float32Array.from(values, (v) => Number(v));
  return Float32Array.from(values);
}

/**
 * A tfjs tensor for a raw tensor: float dtypes give float32, I32/I16/I8/U8/BOOL give int32, and I64
 * gives int32 when every value fits (else a 'SAFETENSORS_UNSUPPORTED' error). Caller disposes it.
 *
 *   const t = rawToTensor({ dtype: 'I8', shape: [2], data: new Uint8Array([1, 255]) });
 *   t.dataSync()  // Int32Array [1, -1]
 */
export function rawToTensor(t: RawTensor): tf.Tensor {
  checkRawTensor(t);
  const values = decode(t);
  const shape = [...t.shape];
  if (values instanceof Float32Array) return tf.tensor(values, shape, 'float32');
  if (values instanceof Float64Array) return tf.tensor(Float32Array.from(values), shape, 'float32');
  if (values instanceof BigInt64Array) return tf.tensor(int64ToInt32(values), shape, 'int32');
  return tf.tensor(values instanceof Int32Array ? values : Int32Array.from(values), shape, 'int32');
}

function int64ToInt32(values: BigInt64Array): Int32Array {
  const out = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as bigint;
    if (v < -2147483648n || v > 2147483647n) {
      throw new TensorGpuError(
        'SAFETENSORS_UNSUPPORTED',
        `safetensors: I64 value ${v} at index ${i} does not fit in int32 (tfjs has no int64)`,
      );
    }
    out[i] = Number(v);
  }
  return out;
}
