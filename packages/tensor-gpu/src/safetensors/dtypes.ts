/**
 * The safetensors dtype table, shape arithmetic shared by the reader and the writer, byte-order
 * helpers, and the f16 / bf16 <-> f32 bit conversions.
 *
 *   DTYPE_INFO.BF16.size                       // 2
 *   float32ToFloat16Bits([1, -2])              // Uint16Array [0x3c00, 0xc000]
 *   bfloat16BitsToFloat32([0x3f80])            // Float32Array [1]
 */

/** The dtypes this module reads and writes (F32, F16, BF16, I32, I8 and U8 cover most models). */
export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

export interface DtypeInfo {
  /** Bytes per element. */
  readonly size: number;
  /**
   * Rank of the dtype in the reference implementation's `Dtype` enum (increasing alignment).
   * The reference writer lays tensors out by rank descending, then by name; so do we.
   */
  readonly rank: number;
}

export const DTYPE_INFO: Readonly<Record<SafetensorsDtype, DtypeInfo>> = {
  BOOL: { size: 1, rank: 0 },
  U8: { size: 1, rank: 1 },
  I8: { size: 1, rank: 2 },
  I16: { size: 2, rank: 3 },
  F16: { size: 2, rank: 4 },
  BF16: { size: 2, rank: 5 },
  I32: { size: 4, rank: 6 },
  F32: { size: 4, rank: 7 },
  F64: { size: 8, rank: 8 },
  I64: { size: 8, rank: 9 },
};

/** Dtype names the reference format defines but this module does not decode. */
const FOREIGN_DTYPES: ReadonlySet<string> = new Set([
  'U16',
  'U32',
  'U64',
  'F8_E5M2',
  'F8_E4M3',
  'F8_E8M0',
  'F6_E2M3',
  'F6_E3M2',
  'F4',
  'C64',
]);

/**
 * True for the dtype names this module supports.
 *
 *   isSafetensorsDtype('BF16')  // true
 *   isSafetensorsDtype('U16')   // false (valid in the format, not supported here)
 */
export function isSafetensorsDtype(name: unknown): name is SafetensorsDtype {
  return typeof name === 'string' && Object.hasOwn(DTYPE_INFO, name);
}

/**
 * True for dtype names the format defines that this module cannot decode (U16, F8_E4M3, ...).
 *
 *   isForeignDtype('F8_E4M3')  // true
 */
export function isForeignDtype(name: string): boolean {
  return FOREIGN_DTYPES.has(name);
}

/**
 * Says what is wrong with a shape, or returns undefined when it is an array of non-negative safe
 * integers.
 *
 *   shapeProblem([2, 3])    // undefined
 *   shapeProblem([2, -1])   // 'dim 1 is -1, expected a non-negative safe integer'
 */
export function shapeProblem(shape: unknown): string | undefined {
  if (!Array.isArray(shape)) return `shape must be an array, got ${describeValue(shape)}`;
  for (let i = 0; i < shape.length; i++) {
    const d: unknown = shape[i];
    if (!isNonNegativeSafeInteger(d)) return `dim ${i} is ${describeValue(d)}, expected a non-negative safe integer`;
  }
  return undefined;
}

/**
 * Byte length of a tensor of `shape` (already validated) and `dtype`. Products past 2^53 come out
 * inexact but still larger than any real buffer, so comparisons against a byte length stay right.
 *
 *   byteLengthOf([2, 3], 'F16')  // 12
 *   byteLengthOf([], 'F32')      // 4 (a scalar)
 */
export function byteLengthOf(shape: readonly number[], dtype: SafetensorsDtype): number {
  if (shape.includes(0)) return 0;
  let n = DTYPE_INFO[dtype].size;
  for (const d of shape) n *= d;
  return n;
}

/**
 * True for integers in [0, 2^53).
 *
 *   isNonNegativeSafeInteger(3)    // true
 *   isNonNegativeSafeInteger(1.5)  // false
 */
export function isNonNegativeSafeInteger(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/**
 * A short, bounded description of an untrusted value for error messages.
 *
 *   describeValue('F32')   // '"F32"'
 *   describeValue(null)    // 'null'
 */
export function describeValue(v: unknown): string {
  let s: string;
  if (Array.isArray(v)) s = 'an array';
  else if (v === null) s = 'null';
  else if (typeof v === 'object') s = 'an object';
  else s = typeof v === 'string' ? JSON.stringify(v) : String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** True when this machine stores numbers little-endian (every platform Node ships on today). */
export const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Copies little-endian file bytes into a fresh (hence aligned) buffer in host byte order, ready
 * for a typed-array view. Works for data at any byte offset.
 *
 *   new Float32Array(hostOrderCopy(bytes, 4))
 */
export function hostOrderCopy(bytes: Uint8Array, itemSize: number): ArrayBuffer {
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  if (!HOST_IS_LITTLE_ENDIAN) swapBytes(copy, itemSize);
  return copy.buffer;
}

/**
 * The little-endian bytes of a typed array you own and will not reuse: a view over its memory on
 * little-endian hosts, swapped in place on big-endian ones.
 *
 *   toLittleEndianBytes(new Uint16Array([0x3c00]))  // Uint8Array [0x00, 0x3c]
 */
export function toLittleEndianBytes(owned: ArrayBufferView & { BYTES_PER_ELEMENT: number }): Uint8Array {
  const bytes = new Uint8Array(owned.buffer, owned.byteOffset, owned.byteLength);
  if (!HOST_IS_LITTLE_ENDIAN) swapBytes(bytes, owned.BYTES_PER_ELEMENT);
  return bytes;
}

function swapBytes(bytes: Uint8Array, itemSize: number): void {
  if (itemSize === 1) return;
  for (let i = 0; i + itemSize <= bytes.length; i += itemSize) bytes.subarray(i, i + itemSize).reverse();
}

// ---- f16 / bf16 <-> f32 ----------------------------------------------------------------------

/** The float32 bit patterns of `values` (rounded to float32 first when they are doubles). */
function float32Bits(values: ArrayLike<number>): Uint32Array {
  const f = values instanceof Float32Array ? values : Float32Array.from(values);
  return new Uint32Array(f.buffer, f.byteOffset, f.length);
}

/**
 * IEEE binary16 bit patterns of `values`, rounding to nearest, ties to even (like numpy's
 * `astype(float16)`): overflow gives ±Infinity, tiny values become subnormals or ±0, NaN stays NaN
 * (sign and top payload bits kept). Inputs are rounded to float32 first.
 *
 *   float32ToFloat16Bits([1, -2, 65504, 1e-8])  // Uint16Array [0x3c00, 0xc000, 0x7bff, 0x0000]
 */
export function float32ToFloat16Bits(values: ArrayLike<number>): Uint16Array {
  const bits = float32Bits(values);
  const out = new Uint16Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = f32BitsToF16Bits(bits[i] as number);
  return out;
}

function f32BitsToF16Bits(x: number): number {
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant === 0 ? 0 : mant >>> 13 || 1);
  const halfExp = exp - 112; // rebias 127 -> 15
  if (halfExp >= 31) return sign | 0x7c00;
  if (halfExp <= 0) {
    if (halfExp < -10) return sign; // below half the smallest subnormal: rounds to ±0
    return sign | roundShift(mant | 0x800000, 14 - halfExp);
  }
  // The rounding carry may ripple into the exponent, up to 0x7c00 (Infinity): that is correct.
  return sign | (((halfExp << 10) | (mant >>> 13)) + roundBit(mant, 13));
}

/** `m >> shift`, rounded to nearest, ties to even. */
function roundShift(m: number, shift: number): number {
  return (m >>> shift) + roundBit(m, shift);
}

/** 1 when dropping the low `shift` bits of m must round the kept part up (ties to even). */
function roundBit(m: number, shift: number): number {
  const rest = m & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  return rest > half || (rest === half && ((m >>> shift) & 1) === 1) ? 1 : 0;
}

/**
 * Float32 values of IEEE binary16 bit patterns (exact: every f16 is a f32).
 *
 *   float16BitsToFloat32([0x3c00, 0x7c00, 0x0001])  // Float32Array [1, Infinity, 5.960464477539063e-8]
 */
export function float16BitsToFloat32(bits: ArrayLike<number>): Float32Array {
  const out = new Float32Array(bits.length);
  const outBits = new Uint32Array(out.buffer);
  for (let i = 0; i < bits.length; i++) outBits[i] = f16BitsToF32Bits((bits[i] as number) & 0xffff);
  return out;
}

function f16BitsToF32Bits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >>> 10) & 0x1f;
  let mant = h & 0x3ff;
  if (exp === 0x1f) return (sign | 0x7f800000 | (mant << 13)) >>> 0;
  if (exp !== 0) return (sign | ((exp + 112) << 23) | (mant << 13)) >>> 0;
  if (mant === 0) return sign >>> 0;
  // Subnormal: shift the mantissa up until its leading 1 becomes the implicit bit.
  let e = 113;
  while ((mant & 0x400) === 0) {
    mant <<= 1;
    e--;
  }
  return (sign | (e << 23) | ((mant & 0x3ff) << 13)) >>> 0;
}

/**
 * bfloat16 bit patterns of `values` (the top 16 bits of the float32), rounding to nearest, ties
 * to even; NaN stays a (quiet) NaN with its sign. Inputs are rounded to float32 first.
 *
 *   float32ToBfloat16Bits([1, -2, 3.140625])  // Uint16Array [0x3f80, 0xc000, 0x4049]
 */
export function float32ToBfloat16Bits(values: ArrayLike<number>): Uint16Array {
  const bits = float32Bits(values);
  const out = new Uint16Array(bits.length);
  for (let i = 0; i < bits.length; i++) {
    const x = bits[i] as number;
    const isNaN = (x & 0x7f800000) === 0x7f800000 && (x & 0x7fffff) !== 0;
    out[i] = isNaN ? (x >>> 16) | 0x40 : (x + 0x7fff + ((x >>> 16) & 1)) >>> 16;
  }
  return out;
}

/**
 * Float32 values of bfloat16 bit patterns (exact).
 *
 *   bfloat16BitsToFloat32([0x3f80, 0xc000])  // Float32Array [1, -2]
 */
export function bfloat16BitsToFloat32(bits: ArrayLike<number>): Float32Array {
  const out = new Float32Array(bits.length);
  const outBits = new Uint32Array(out.buffer);
  for (let i = 0; i < bits.length; i++) outBits[i] = ((bits[i] as number) & 0xffff) << 16;
  return out;
}
