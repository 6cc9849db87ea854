/**
 * Writing safetensors, byte-compatible with the reference Python/Rust `safetensors` library:
 * tensors sorted by dtype rank (alignment) descending then by name, `__metadata__` first, compact
 * JSON padded with spaces to a multiple of 8, data back to back in the same order.
 *
 *   await writeSafetensors('model.safetensors', { wte: embeddings, bias: rawBias }, { format: 'pt' });
 */
import { writeFileAtomic } from '../atomic-write.js';
import { TensorGpuError } from '../errors.js';
import { tf } from '../tf.js';
import {
  DTYPE_INFO,
  byteLengthOf,
  describeValue,
  float32ToBfloat16Bits,
  float32ToFloat16Bits,
  isSafetensorsDtype,
  shapeProblem,
  toLittleEndianBytes,
  type SafetensorsDtype,
} from './dtypes.js';
import type { RawTensor } from './read.js';

/** What the writer accepts per name: raw bytes, or a live tfjs tensor (stored in its own dtype). */
export type TensorInput = RawTensor | tf.Tensor;
export type TensorsInput = Record<string, TensorInput> | Map<string, TensorInput>;

const METADATA_KEY = '__metadata__';
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

interface Named {
  name: string;
  raw: RawTensor;
}

function writeError(message: string): TensorGpuError {
  return new TensorGpuError('SAFETENSORS_WRITE', `safetensors: ${message}`);
}

/**
 * Raw little-endian bytes of a tfjs tensor. float32 defaults to F32, int32 to I32, bool to BOOL.
 * F16/BF16 round to nearest even; integer targets require integral values in range (else a
 * 'SAFETENSORS_WRITE' error). The tensor is read (dataSync), not disposed.
 *
 *   tensorToRaw(tf.tensor([1, -2]), 'F16')  // { dtype: 'F16', shape: [2], data: [0x00,0x3c,0x00,0xc0] }
 */
export function tensorToRaw(t: tf.Tensor, dtype?: SafetensorsDtype): RawTensor {
  if (!(t instanceof tf.Tensor)) throw writeError(`expected a tf.Tensor, got ${describeValue(t)}`);
  if (t.isDisposed) throw writeError('cannot store a disposed tensor');
  if (t.dtype !== 'float32' && t.dtype !== 'int32' && t.dtype !== 'bool') {
    throw writeError(`tfjs dtype ${t.dtype} cannot be stored (float32, int32 and bool can)`);
  }
  const target = dtype ?? ({ float32: 'F32', int32: 'I32', bool: 'BOOL' } as const)[t.dtype];
  if (!isSafetensorsDtype(target)) throw writeError(`unknown dtype ${describeValue(target)}`);
  return { dtype: target, shape: [...t.shape], data: encode(t.dataSync() as ArrayLike<number>, target) };
}

/** Encodes numbers as `dtype`, little-endian, into fresh bytes. */
function encode(values: ArrayLike<number>, dtype: SafetensorsDtype): Uint8Array {
  switch (dtype) {
    case 'F64':
      return toLittleEndianBytes(Float64Array.from(values));
    case 'F32':
      return toLittleEndianBytes(Float32Array.from(values));
    case 'F16':
      return toLittleEndianBytes(float32ToFloat16Bits(values));
    case 'BF16':
      return toLittleEndianBytes(float32ToBfloat16Bits(values));
    case 'I64':
      return toLittleEndianBytes(BigInt64Array.from(checkInts(values, dtype), (v) => BigInt(v)));
    case 'I32':
      return toLittleEndianBytes(Int32Array.from(checkInts(values, dtype)));
    case 'I16':
      return toLittleEndianBytes(Int16Array.from(checkInts(values, dtype)));
    case 'I8':
      return toLittleEndianBytes(Int8Array.from(checkInts(values, dtype)));
    case 'U8':
      return Uint8Array.from(checkInts(values, dtype));
    case 'BOOL':
      return Uint8Array.from(values, (v) => (v === 0 ? 0 : 1));
  }
}

const INT_RANGE: Partial<Record<SafetensorsDtype, [number, number]>> = {
  I64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  I32: [-2147483648, 2147483647],
  I16: [-32768, 32767],
  I8: [-128, 127],
  U8: [0, 255],
};

/** Returns `values` after checking each is an integer in the dtype's range (no silent wrapping). */
function checkInts(values: ArrayLike<number>, dtype: SafetensorsDtype): ArrayLike<number> {
  const [min, max] = INT_RANGE[dtype] ?? [0, 0];
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (!Number.isInteger(v) || v < min || v > max) {
      throw writeError(`value ${v} at index ${i} is not a ${dtype} (integers in [${min}, ${max}])`);
    }
  }
  return values;
}

/**
 * The complete file as one buffer. Validates everything first (names, dtypes, shapes vs byte
 * lengths, metadata); throws TensorGpuError 'SAFETENSORS_WRITE' on bad input.
 *
 *   const bytes = serializeSafetensors({ w: { dtype: 'U8', shape: [2], data: new Uint8Array([1, 2]) } });
 *   // 8-byte length, '{"w":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}' + 3 spaces, then 1, 2
 */
export function serializeSafetensors(tensors: TensorsInput, metadata?: Record<string, string>): Uint8Array {
  const chunks = planSafetensors(tensors, metadata);
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.byteLength;
  }
  return out;
}

/**
 * Writes a safetensors file atomically: input is validated before the file system is touched,
 * and a failure at any point leaves an existing file at `path` as it was. I/O errors are Node's.
 *
 *   await writeSafetensors('/tmp/ckpt.safetensors', new Map([['w', tensor]]), { step: '100' });
 */
export async function writeSafetensors(
  path: string,
  tensors: TensorsInput,
  metadata?: Record<string, string>,
): Promise<void> {
  await writeFileAtomic(path, planSafetensors(tensors, metadata));
}

/**
 * The file as chunks: [length + header, data of each tensor in layout order].
 *
 *   planSafetensors({ w: raw }).length  // 2
 */
export function planSafetensors(tensors: TensorsInput, metadata?: Record<string, string>): Uint8Array[] {
  const named = collectTensors(tensors).sort(
    (a, b) => DTYPE_INFO[b.raw.dtype].rank - DTYPE_INFO[a.raw.dtype].rank || compareCodePoints(a.name, b.name),
  );
  const header = headerBytes(named, checkMetadata(metadata));
  return [header, ...named.map((t) => t.raw.data)];
}

/** Validates names and tensors, converting tfjs tensors to raw bytes. */
function collectTensors(tensors: TensorsInput): Named[] {
  if (tensors === null || typeof tensors !== 'object') {
    throw writeError(`tensors must be a Map or an object, got ${describeValue(tensors)}`);
  }
  const entries: [unknown, unknown][] = tensors instanceof Map ? [...tensors] : Object.entries(tensors);
  const seen = new Set<string>();
  return entries.map(([name, value]) => {
    checkName(name, seen);
    const raw = value instanceof tf.Tensor ? tensorToRaw(value) : value;
    checkRaw(name, raw);
    return { name, raw };
  });
}

function checkName(name: unknown, seen: Set<string>): asserts name is string {
  if (typeof name !== 'string' || name === '') {
    throw writeError(`tensor names must be non-empty strings, got ${describeValue(name)}`);
  }
  if (name === METADATA_KEY) throw writeError(`"${METADATA_KEY}" is reserved and cannot name a tensor`);
  if (LONE_SURROGATE.test(name)) throw writeError(`tensor ${JSON.stringify(name)}: name has an unpaired surrogate`);
  if (seen.has(name)) throw writeError(`duplicate tensor name ${JSON.stringify(name)}`);
  seen.add(name);
}

function checkRaw(name: string, raw: unknown): asserts raw is RawTensor {
  const where = `tensor ${JSON.stringify(name)}`;
  if (raw === null || typeof raw !== 'object') {
    throw writeError(`${where}: expected a RawTensor or tf.Tensor, got ${describeValue(raw)}`);
  }
  const { dtype, shape, data } = raw as Partial<RawTensor>;
  if (!isSafetensorsDtype(dtype)) throw writeError(`${where}: unknown or unsupported dtype ${describeValue(dtype)}`);
  const problem = shapeProblem(shape);
  if (problem !== undefined) throw writeError(`${where}: ${problem}`);
  if (!(data instanceof Uint8Array))
    throw writeError(`${where}: data must be a Uint8Array, got ${describeValue(data)}`);
  const expected = byteLengthOf(shape as number[], dtype);
  if (data.byteLength !== expected) {
    throw writeError(
      `${where}: shape [${(shape as number[]).join(',')}] of ${dtype} needs ${expected} bytes, data has ${
        data.byteLength
      }`,
    );
  }
}

/** Validates metadata; returns its entries sorted by key (empty or absent metadata is omitted). */
function checkMetadata(metadata: Record<string, string> | undefined): [string, string][] {
  if (metadata === undefined) return [];
  if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) {
    throw writeError(`metadata must be an object of strings, got ${describeValue(metadata)}`);
  }
  const entries = Object.entries(metadata as Record<string, unknown>);
  for (const [k, v] of entries) {
    if (typeof v !== 'string')
      throw writeError(`metadata ${JSON.stringify(k)} must be a string, got ${describeValue(v)}`);
    if (LONE_SURROGATE.test(k) || LONE_SURROGATE.test(v)) {
      throw writeError(`metadata ${JSON.stringify(k)} has an unpaired surrogate`);
    }
  }
  return (entries as [string, string][]).sort(([a], [b]) => compareCodePoints(a, b));
}

/**
 * Orders strings by Unicode code point, which is the byte order of their UTF-8 (Rust's String
 * order), unlike JS `<` which compares UTF-16 code units.
 *
 *   compareCodePoints('\u{1F600}', '\uFFFD') > 0  // true ('<' says the opposite)
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointKey(x) - codePointKey(y);
  }
  return a.length - b.length;
}

/** Moves surrogates (astral code points) above U+E000..U+FFFF, keeping all else in order. */
function codePointKey(unit: number): number {
  if (unit >= 0xd800 && unit <= 0xdfff) return unit + 0x2000;
  return unit >= 0xe000 ? unit - 0x800 : unit;
}

/** The 8-byte little-endian length followed by the compact JSON header, space-padded to 8n. */
function headerBytes(named: Named[], metadata: [string, string][]): Uint8Array {
  // Built by hand, not from an object: JS objects would move integer-like names to the front.
  const parts: string[] = [];
  if (metadata.length > 0) {
    const fields = metadata.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`);
    parts.push(`"${METADATA_KEY}":{${fields.join(',')}}`);
  }
  let offset = 0;
  for (const { name, raw } of named) {
    const end = offset + raw.data.byteLength;
    const info = `{"dtype":"${raw.dtype}","shape":[${raw.shape.join(',')}],"data_offsets":[${offset},${end}]}`;
    parts.push(`${JSON.stringify(name)}:${info}`);
    offset = end;
  }
  const json = new TextEncoder().encode(`{${parts.join(',')}}`);
  const padded = Math.ceil(json.byteLength / 8) * 8;
  const out = new Uint8Array(8 + padded).fill(0x20, 8 + json.byteLength);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(json, 8);
  return out;
}
