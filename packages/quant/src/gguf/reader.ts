/**
 * GGUF reader for untrusted files. Every count, length, type, dimension and offset is checked
 * against the bytes that remain and against GGUF_LIMITS before anything is allocated; any
 * violation is a QuantError GGUF_INVALID (GGUF_UNSUPPORTED for a valid file we cannot use, e.g.
 * another version), never a RangeError, a crash or a huge allocation.
 *
 *   const g = await readGguf('model.gguf');
 *   g.metadata.get('general.architecture')?.value;   // 'llama'
 *   g.tensors[0];                                      // { name: 'token_embd.weight', shape: [V, C], type: 0, … }
 *   tensorData(g, g.tensors[0]);                       // its bytes (a view, no copy)
 */
import { readFile, stat } from 'node:fs/promises';
import { QuantError } from '../errors.js';
import {
  GGML_TYPE_SIZES,
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_LIMITS,
  GGUF_MAGIC,
  GGUF_VERSION,
  SCALAR_SIZE,
  alignUp,
  type GgufArray,
  type GgufLimits,
  type GgufTensorInfo,
  type GgufValue,
  type GgufValueType,
} from './format.js';

export interface GgufFile {
  version: number;
  metadata: Map<string, GgufValue>;
  tensors: GgufTensorInfo[];
  alignment: number;
  /** Absolute offset of the data section. */
  dataOffset: number;
  /** The whole file. */
  bytes: Uint8Array;
}

export interface ReadGgufOptions {
  limits?: Partial<GgufLimits>;
}

const invalid = (msg: string): QuantError => new QuantError('GGUF_INVALID', `GGUF: ${msg}`);

class Cursor {
  pos = 0;
  private readonly dv: DataView;
  private readonly dec = new TextDecoder('utf-8', { fatal: true });
  constructor(
    readonly buf: Uint8Array,
    readonly limits: GgufLimits,
  ) {
    this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  get left(): number {
    return this.buf.byteLength - this.pos;
  }
  need(n: number, what: string): void {
    if (n > this.left) throw invalid(`file truncated: ${what} needs ${n} bytes at offset ${this.pos}, ${this.left} left`);
  }
  u8(w: string): number {
    this.need(1, w);
    return this.dv.getUint8(this.pos++);
  }
  u32(w: string): number {
    this.need(4, w);
    const v = this.dv.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }
  /** u64 as a safe number (values above 2^53 are refused: no file this reader accepts is that large). */
  u64(w: string): number {
    this.need(8, w);
    const v = this.dv.getBigUint64(this.pos, true);
    this.pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw invalid(`${w} is ${v}, larger than any file`);
    return Number(v);
  }
  string(w: string): string {
    const n = this.u64(`${w} length`);
    if (n > this.limits.maxStringBytes) throw invalid(`${w} is ${n} bytes long, above the limit of ${this.limits.maxStringBytes} (limits.maxStringBytes)`);
    this.need(n, w);
    const s = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    try {
      return this.dec.decode(s);
    } catch {
      throw invalid(`${w} is not valid UTF-8`);
    }
  }
  scalar(type: number, w: string): number | bigint | boolean | string {
    if (type === 8) return this.string(w);
    const size = SCALAR_SIZE[type];
    if (size === undefined) throw invalid(`${w} has unknown value type ${type} (0..12 are defined)`);
    this.need(size, w);
    const p = this.pos;
    this.pos += size;
    switch (type) {
      case 0: return this.dv.getUint8(p);
      case 1: return this.dv.getInt8(p);
      case 2: return this.dv.getUint16(p, true);
      case 3: return this.dv.getInt16(p, true);
      case 4: return this.dv.getUint32(p, true);
      case 5: return this.dv.getInt32(p, true);
      case 6: return this.dv.getFloat32(p, true);
      case 7: {
        const b = this.dv.getUint8(p);
        if (b > 1) throw invalid(`${w} is a bool holding ${b}`);
        return b === 1;
      }
      case 10: return this.dv.getBigUint64(p, true);
      case 11: return this.dv.getBigInt64(p, true);
      default: return this.dv.getFloat64(p, true); // 12
    }
  }
  value(type: number, w: string, depth = 0): GgufValue {
    if (type !== 9) return { type, value: this.scalar(type, w) } as GgufValue;
    if (depth >= this.limits.maxArrayDepth) throw invalid(`${w}: arrays nested deeper than ${this.limits.maxArrayDepth} (limits.maxArrayDepth)`);
    const itemType = this.u32(`${w} item type`);
    if (itemType > 12) throw invalid(`${w} has unknown array item type ${itemType}`);
    const count = this.u64(`${w} count`);
    if (count > this.limits.maxArrayLength) throw invalid(`${w} has ${count} items, above the limit of ${this.limits.maxArrayLength} (limits.maxArrayLength)`);
    // Each item takes at least this many bytes: a lying count fails here, before the array grows.
    const minItem = itemType === 8 || itemType === 9 ? 8 : SCALAR_SIZE[itemType]!;
    if (count * minItem > this.left) throw invalid(`${w} claims ${count} items, more than the ${this.left} bytes left can hold`);
    const items: GgufArray['value'] = [];
    for (let i = 0; i < count; i++) {
      items.push(itemType === 9 ? (this.value(9, `${w}[${i}]`, depth + 1) as GgufArray) : this.scalar(itemType, `${w}[${i}]`));
    }
    return { type: 9, itemType: itemType as GgufValueType, value: items };
  }
}

/** Parse a GGUF held in memory (see readGguf). */
export function parseGguf(bytes: Uint8Array, opts: ReadGgufOptions = {}): GgufFile {
  const limits = { ...GGUF_LIMITS, ...(opts.limits ?? {}) };
  if (bytes.byteLength > limits.maxFileBytes) throw new QuantError('LIMIT_EXCEEDED', `GGUF: file of ${bytes.byteLength} bytes is above the limit of ${limits.maxFileBytes} (limits.maxFileBytes)`);
  const c = new Cursor(bytes, limits);
  if (bytes.byteLength < 4 || c.u32('magic') !== GGUF_MAGIC) throw invalid('not a GGUF file (the first 4 bytes are not "GGUF")');
  const version = c.u32('version');
  if (version !== GGUF_VERSION && version !== 2) {
    throw new QuantError(version === 1 || (version > 3 && version < 0x10000) ? 'GGUF_UNSUPPORTED' : 'GGUF_INVALID', `GGUF: version ${version} is not supported (2 and 3 are)`);
  }
  const nTensors = c.u64('tensor count');
  const nKv = c.u64('metadata count');
  if (nTensors > limits.maxTensors) throw invalid(`${nTensors} tensors, above the limit of ${limits.maxTensors} (limits.maxTensors)`);
  if (nKv > limits.maxKv) throw invalid(`${nKv} metadata entries, above the limit of ${limits.maxKv} (limits.maxKv)`);
  // Minimum sizes: a KV is ≥ 8 (key length) + 4 (type) + 1 bytes; a tensor info ≥ 8 + 4 + 4 + 8.
  if (nKv * 13 + nTensors * 24 > c.left) throw invalid(`header claims ${nKv} metadata entries and ${nTensors} tensors, more than the ${c.left} bytes left can hold`);
  const metadata = new Map<string, GgufValue>();
  for (let i = 0; i < nKv; i++) {
    const key = c.string(`metadata key #${i}`);
    if (metadata.has(key)) throw invalid(`metadata key "${key}" appears twice`);
    const type = c.u32(`type of "${key}"`);
    metadata.set(key, c.value(type, `metadata "${key}"`));
  }
  let alignment = GGUF_DEFAULT_ALIGNMENT;
  const a = metadata.get('general.alignment');
  if (a !== undefined) {
    if (a.type !== 4 || a.value === 0 || (a.value & (a.value - 1)) !== 0 || a.value > 1 << 16) throw invalid(`general.alignment must be a u32 power of two ≤ 65536, got ${JSON.stringify(String(a.value))}`);
    alignment = a.value;
  }
  const tensors: GgufTensorInfo[] = [];
  const names = new Set<string>();
  for (let i = 0; i < nTensors; i++) {
    const name = c.string(`tensor #${i} name`);
    if (names.has(name)) throw invalid(`tensor "${name}" appears twice`);
    names.add(name);
    const nDims = c.u32(`tensor "${name}" n_dims`);
    if (nDims < 1 || nDims > limits.maxDims) throw invalid(`tensor "${name}" has ${nDims} dimensions (1..${limits.maxDims} allowed)`);
    const ne: number[] = [];
    let n = 1;
    for (let d = 0; d < nDims; d++) {
      const v = c.u64(`tensor "${name}" ne[${d}]`);
      ne.push(v);
      n *= v;
      if (n > bytes.byteLength * 8) throw invalid(`tensor "${name}" has more elements than the file can hold`);
    }
    const type = c.u32(`tensor "${name}" type`);
    const size = GGML_TYPE_SIZES[type];
    if (!size) throw new QuantError('GGUF_UNSUPPORTED', `GGUF: tensor "${name}" has ggml type ${type}, which this reader does not know`);
    if (ne[0]! % size[0] !== 0) throw invalid(`tensor "${name}": ne[0]=${ne[0]} is not a multiple of its type's block size ${size[0]}`);
    const offset = c.u64(`tensor "${name}" offset`);
    if (offset % alignment !== 0) throw invalid(`tensor "${name}" offset ${offset} is not a multiple of the alignment ${alignment}`);
    tensors.push({ name, ne, shape: [...ne].reverse(), type, offset, byteLength: (n / size[0]) * size[1] });
  }
  const dataOffset = alignUp(c.pos, alignment);
  for (const t of tensors) {
    if (dataOffset + t.offset + t.byteLength > bytes.byteLength) {
      throw invalid(`tensor "${t.name}" (${t.byteLength} bytes at data offset ${t.offset}) runs past the end of the file (${bytes.byteLength} bytes)`);
    }
  }
  const sorted = [...tensors].sort((x, y) => x.offset - y.offset);
  for (let i = 1; i < sorted.length; i++) {
    const p = sorted[i - 1]!;
    if (p.offset + p.byteLength > sorted[i]!.offset) throw invalid(`tensors "${p.name}" and "${sorted[i]!.name}" overlap`);
  }
  return { version, metadata, tensors, alignment, dataOffset, bytes };
}

/** Read and parse a GGUF file (checked against `opts.limits` before reading it whole). */
export async function readGguf(path: string, opts: ReadGgufOptions = {}): Promise<GgufFile> {
  const limits = { ...GGUF_LIMITS, ...(opts.limits ?? {}) };
  const st = await stat(path).catch((e: NodeJS.ErrnoException) => {
    throw e.code === 'ENOENT' ? new QuantError('INVALID_ARGUMENT', `${path}: no such file`) : e;
  });
  if (!st.isFile()) throw new QuantError('INVALID_ARGUMENT', `${path} is not a file`);
  if (st.size > limits.maxFileBytes) throw new QuantError('LIMIT_EXCEEDED', `GGUF: ${path} is ${st.size} bytes, above the limit of ${limits.maxFileBytes} (limits.maxFileBytes)`);
  const buf = await readFile(path);
  return parseGguf(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), opts);
}

/** The bytes of one tensor (a view into the file). */
export function tensorData(g: GgufFile, t: GgufTensorInfo): Uint8Array {
  const start = g.dataOffset + t.offset;
  return g.bytes.subarray(start, start + t.byteLength);
}

/** A metadata value's plain JS value (strings, numbers, arrays of them), or undefined. */
export function metaValue(g: GgufFile, key: string): unknown {
  const v = g.metadata.get(key);
  if (!v) return undefined;
  return v.type === 9 ? v.value : v.value;
}
