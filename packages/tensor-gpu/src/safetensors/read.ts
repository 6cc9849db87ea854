/**
 * Reading safetensors: parse and validate a file buffer (hostile input is expected). Turning the
 * raw bytes into Float32Arrays or tensors is convert.ts.
 *
 *   const { tensors, metadata } = await readSafetensors('model.safetensors');
 */
import { open } from 'node:fs/promises';
import { TensorGpuError } from '../errors.js';
import {
  byteLengthOf,
  describeValue,
  isForeignDtype,
  isNonNegativeSafeInteger,
  isSafetensorsDtype,
  shapeProblem,
  type SafetensorsDtype,
} from './dtypes.js';

/** One tensor: dtype, shape and its raw little-endian, row-major bytes. */
export interface RawTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  /** Raw little-endian bytes; for parsed files a view into the file buffer (not necessarily aligned). */
  data: Uint8Array;
}

export interface SafetensorsFile {
  /** Tensors in file (data offset) order. */
  tensors: Map<string, RawTensor>;
  /** The `__metadata__` string map, `{}` when the file has none. */
  metadata: Record<string, string>;
}

export interface ParseSafetensorsOptions {
  /** Largest accepted JSON header, in bytes. Default 100 MB, the reference's limit. */
  maxHeaderBytes?: number;
}

/** The reference implementation's MAX_HEADER_SIZE. */
export const DEFAULT_MAX_HEADER_BYTES = 100_000_000;
const METADATA_KEY = '__metadata__';
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

interface Entry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  begin: number;
  end: number;
}

export function invalid(message: string): TensorGpuError {
  return new TensorGpuError('SAFETENSORS_INVALID', `safetensors: ${message}`);
}

/**
 * Parses and fully validates a safetensors file held in memory. Tensor data are views into `buf`
 * (no copy). Throws TensorGpuError 'SAFETENSORS_INVALID' (or 'SAFETENSORS_UNSUPPORTED' for a
 * dtype the format defines but this module does not decode) saying what is wrong and where.
 *
 *   const file = parseSafetensors(bytes);
 *   file.tensors.get('w')  // { dtype: 'F32', shape: [2, 3], data: Uint8Array(24) }
 */
export function parseSafetensors(buf: Uint8Array, opts: ParseSafetensorsOptions = {}): SafetensorsFile {
  if (!(buf instanceof Uint8Array)) throw invalid(`expected a Uint8Array, got ${describeValue(buf)}`);
  const headerLen = readHeaderLength(buf, opts.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES);
  const header = parseHeaderJson(buf.subarray(8, 8 + headerLen));
  const dataStart = 8 + headerLen;
  const entries = Object.entries(header)
    .filter(([name]) => name !== METADATA_KEY)
    .map(([name, value]) => parseEntry(name, value));
  checkCoverage(entries, buf.length - dataStart);
  const tensors = new Map<string, RawTensor>();
  for (const e of entries) {
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data: buf.subarray(dataStart + e.begin, dataStart + e.end) });
  }
  return { tensors, metadata: parseMetadata(header[METADATA_KEY]) };
}

/** Validates the u64 header length against the buffer and the limit, before using it. */
function readHeaderLength(buf: Uint8Array, maxHeaderBytes: number): number {
  if (buf.length < 8) throw invalid(`file is ${buf.length} bytes, shorter than the 8-byte header length`);
  // u64 -> Number is inexact past 2^53, but such values fail both checks below anyway.
  const exact = new DataView(buf.buffer, buf.byteOffset, 8).getBigUint64(0, true);
  const n = Number(exact);
  if (n > maxHeaderBytes) {
    throw invalid(`header length ${exact} is above the limit of ${maxHeaderBytes} bytes`);
  }
  if (n > buf.length - 8) {
    throw invalid(`header length ${exact} goes beyond the end of the file (${buf.length - 8} bytes after the length)`);
  }
  return n;
}

/** Decodes the header as strict UTF-8 JSON whose top level is an object without duplicate keys. */
function parseHeaderJson(bytes: Uint8Array): Record<string, unknown> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch (err) {
    throw new TensorGpuError('SAFETENSORS_INVALID', 'safetensors: header is not valid UTF-8', { cause: err });
  }
  if (!text.startsWith('{')) throw invalid(`header must start with "{", got ${describeValue(text.slice(0, 20))}`);
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (err) {
    throw new TensorGpuError('SAFETENSORS_INVALID', `safetensors: header is not valid JSON (${String(err)})`, {
      cause: err,
    });
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) {
    throw invalid(`header JSON must be an object, got ${describeValue(header)}`);
  }
  const dup = findDuplicateKey(text);
  if (dup !== undefined) throw invalid(`duplicate key ${JSON.stringify(dup.key)} in header JSON ${dup.where}`);
  return header as Record<string, unknown>;
}

/**
 * Finds a key that occurs twice in one object of an already-validated JSON text (JSON.parse keeps
 * the last one silently). Keys compare after unescaping, so "a" and "\u0061" collide.
 *
 *   findDuplicateKey('{"a":1,"a":2}')  // { key: 'a', where: 'at the top level' }
 */
export function findDuplicateKey(json: string): { key: string; where: string } | undefined {
  const stack: { keys: Set<string> | null; owner: string | undefined }[] = [];
  let expectKey = false;
  let lastKey: string | undefined;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      // The owner of a nested value is the top-level key it sits under.
      const owner = stack.length === 1 ? lastKey : stack.at(-1)?.owner;
      stack.push({ keys: c === 0x7b ? new Set() : null, owner });
      expectKey = c === 0x7b;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
      expectKey = false;
    } else if (c === 0x2c /* , */) {
      expectKey = stack.at(-1)?.keys != null;
    } else if (c === 0x22 /* " */) {
      const end = endOfString(json, i);
      const top = stack.at(-1);
      if (expectKey && top?.keys) {
        const key = JSON.parse(json.slice(i, end + 1)) as string;
        if (top.keys.has(key)) {
          return { key, where: top.owner === undefined ? 'at the top level' : `in entry ${JSON.stringify(top.owner)}` };
        }
        top.keys.add(key);
        lastKey = key;
        expectKey = false;
      }
      i = end;
    }
  }
  return undefined;
}

/** Index of the closing quote of the JSON string that opens at `start`. */
function endOfString(json: string, start: number): number {
  let i = start + 1;
  while (i < json.length) {
    const c = json.charCodeAt(i);
    if (c === 0x5c /* \ */) i += 2;
    else if (c === 0x22) return i;
    else i++;
  }
  return json.length;
}

/** Validates one header entry: `{ dtype, shape, data_offsets: [begin, end] }`. */
function parseEntry(name: string, value: unknown): Entry {
  const where = `tensor ${JSON.stringify(name)}`;
  if (LONE_SURROGATE.test(name)) throw invalid(`${where}: name contains an unpaired UTF-16 surrogate escape`);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalid(`${where}: entry must be an object, got ${describeValue(value)}`);
  }
  const { dtype, shape, data_offsets: offsets } = value as Record<string, unknown>;
  const checked = checkDtype(where, dtype);
  const problem = shapeProblem(shape);
  if (problem !== undefined) throw invalid(`${where}: ${problem}`);
  if (!Array.isArray(offsets) || offsets.length !== 2) {
    throw invalid(`${where}: data_offsets must be an array [begin, end], got ${describeValue(offsets)}`);
  }
  const [begin, end] = offsets as unknown[];
  if (!isNonNegativeSafeInteger(begin) || !isNonNegativeSafeInteger(end)) {
    throw invalid(
      `${where}: data_offsets [${describeValue(begin)}, ${describeValue(end)}] must be non-negative safe integers`,
    );
  }
  if (begin > end) throw invalid(`${where}: data_offsets begin ${begin} is greater than end ${end}`);
  return { name, dtype: checked, shape: shape as number[], begin, end };
}

function checkDtype(where: string, dtype: unknown): SafetensorsDtype {
  if (isSafetensorsDtype(dtype)) return dtype;
  if (typeof dtype === 'string' && isForeignDtype(dtype)) {
    throw new TensorGpuError('SAFETENSORS_UNSUPPORTED', `safetensors: ${where}: dtype ${dtype} is not supported`);
  }
  if (typeof dtype === 'string') throw invalid(`${where}: unknown dtype ${describeValue(dtype)}`);
  throw invalid(`${where}: dtype must be a string, got ${describeValue(dtype)}`);
}

/**
 * Checks sizes, then that the tensors tile the data section exactly: sorted by offsets, each one
 * starts where the previous ended, and the last ends at the end of the file (as the reference).
 */
function checkCoverage(entries: Entry[], dataLen: number): void {
  for (const e of entries) {
    const where = `tensor ${JSON.stringify(e.name)}: data_offsets [${e.begin}, ${e.end}]`;
    if (e.end > dataLen) throw invalid(`${where} end beyond the data section (${dataLen} bytes)`);
    const expected = byteLengthOf(e.shape, e.dtype);
    if (expected !== e.end - e.begin) {
      throw invalid(
        `${where} span ${e.end - e.begin} bytes but shape [${e.shape.join(',')}] of ${e.dtype} ` +
          `needs ${expected} bytes`,
      );
    }
  }
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  let prev: Entry | undefined;
  for (const e of entries) {
    const where = `tensor ${JSON.stringify(e.name)}: data_offsets [${e.begin}, ${e.end}]`;
    if (e.begin < cursor) {
      throw invalid(`${where} overlap tensor ${JSON.stringify(prev?.name)} which ends at ${cursor}`);
    }
    if (e.begin > cursor) throw invalid(`${where} leave a gap: bytes [${cursor}, ${e.begin}) belong to no tensor`);
    cursor = e.end;
    prev = e;
  }
  if (cursor !== dataLen) {
    throw invalid(
      `tensors cover ${cursor} bytes but the data section has ${dataLen}: trailing bytes after the last tensor`,
    );
  }
}

/** Validates `__metadata__` (absent, or a string -> string map). */
function parseMetadata(value: unknown): Record<string, string> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalid(`__metadata__ must be an object of strings, got ${describeValue(value)}`);
  }
  const entries = Object.entries(value);
  for (const [k, v] of entries) {
    if (typeof v !== 'string') {
      throw invalid(`__metadata__ ${JSON.stringify(k)} must be a string, got ${describeValue(v)}`);
    }
    if (LONE_SURROGATE.test(k) || LONE_SURROGATE.test(v)) {
      throw invalid(`__metadata__ ${JSON.stringify(k)} contains an unpaired UTF-16 surrogate escape`);
    }
  }
  return Object.fromEntries(entries) as Record<string, string>;
}

/**
 * Reads and parses a safetensors file (or parses a buffer you already hold). The whole file is
 * loaded into one buffer; tensors are views into it. I/O errors (ENOENT, ...) are Node's own.
 *
 *   const { tensors } = await readSafetensors('/models/tiny.safetensors');
 *   [...tensors.keys()]  // ['wte', 'wpe', ...]
 */
export async function readSafetensors(
  pathOrBuffer: string | Uint8Array,
  opts?: ParseSafetensorsOptions,
): Promise<SafetensorsFile> {
  const buf = typeof pathOrBuffer === 'string' ? await readWholeFile(pathOrBuffer) : pathOrBuffer;
  return parseSafetensors(buf, opts);
}

/** Reads a file in bounded chunks (so files past fs.readFile's 2 GiB limit work). */
async function readWholeFile(path: string): Promise<Uint8Array> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    const buf = new Uint8Array(size);
    let off = 0;
    while (off < size) {
      const { bytesRead } = await fh.read(buf, off, Math.min(size - off, 1 << 30), off);
      if (bytesRead === 0) throw invalid(`${path} shrank while being read (${off} of ${size} bytes)`);
      off += bytesRead;
    }
    return buf;
  } finally {
    await fh.close();
  }
}
