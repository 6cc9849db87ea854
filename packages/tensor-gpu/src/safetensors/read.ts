/**
 * Reading safetensors: parse and validate a file buffer (hostile input is expected). Turning the
 * raw bytes into Float32Arrays or tensors is convert.ts.
 *
 *   const { tensors, metadata } = await readSafetensors('model.safetensors');
 */
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { parseUntrustedJson } from '../json.js';
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
 * Messages never quote bytes of the file that are not part of a valid header.
 *
 *   const file = parseSafetensors(bytes);
 *   file.tensors.get('w')  // { dtype: 'F32', shape: [2, 3], data: Uint8Array(24) }
 */
export function parseSafetensors(buf: Uint8Array, opts: ParseSafetensorsOptions = {}): SafetensorsFile {
  if (!(buf instanceof Uint8Array)) throw invalid(`expected a Uint8Array, got ${describeValue(buf)}`);
  const headerLen = readHeaderLength(buf, buf.length, opts.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES);
  const dataStart = 8 + headerLen;
  const { entries, metadata } = parseLayout(buf.subarray(8, dataStart), buf.length - dataStart);
  const tensors = new Map<string, RawTensor>();
  for (const e of entries) {
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data: buf.subarray(dataStart + e.begin, dataStart + e.end) });
  }
  return { tensors, metadata };
}

/** Validates the header JSON and that its tensors tile a data section of `dataLen` bytes. */
function parseLayout(headerBytes: Uint8Array, dataLen: number): { entries: Entry[]; metadata: Record<string, string> } {
  const header = parseHeaderJson(headerBytes);
  const entries = Object.entries(header)
    .filter(([name]) => name !== METADATA_KEY)
    .map(([name, value]) => parseEntry(name, value));
  checkCoverage(entries, dataLen);
  return { entries, metadata: parseMetadata(header[METADATA_KEY]) };
}

/**
 * Validates the u64 header length (the first 8 bytes of `start`) against the file length and the
 * limit, before using it.
 */
function readHeaderLength(start: Uint8Array, fileLength: number, maxHeaderBytes: number): number {
  if (fileLength < 8) throw invalid(`file is ${fileLength} bytes, shorter than the 8-byte header length`);
  // u64 -> Number is inexact past 2^53, but such values fail both checks below anyway. The value
  // itself is not quoted: for a file that is not safetensors it would be its first 8 bytes.
  const n = Number(new DataView(start.buffer, start.byteOffset, 8).getBigUint64(0, true));
  if (n > maxHeaderBytes) {
    throw invalid(`header length (the first 8 bytes) is above the limit of ${maxHeaderBytes} bytes: not a safetensors file?`);
  }
  if (n > fileLength - 8) {
    throw invalid(`header length (the first 8 bytes) goes beyond the end of the file (${fileLength - 8} bytes after the length): a truncated file?`);
  }
  return n;
}

/** Deepest nesting a valid header has: the top object, an entry, its shape or offsets array. */
const HEADER_MAX_DEPTH = 3;

/** Decodes the header as strict UTF-8 JSON whose top level is an object without duplicate keys. */
function parseHeaderJson(bytes: Uint8Array): Record<string, unknown> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch (err) {
    throw new TensorGpuError('SAFETENSORS_INVALID', 'safetensors: header is not valid UTF-8', { cause: err });
  }
  if (!text.startsWith('{')) {
    throw invalid(`header must be a JSON object starting with "{" at byte 8, ${text.length === 0 ? 'but it is empty' : 'not another character'}`);
  }
  let header: unknown;
  try {
    header = parseUntrustedJson(text, { maxDepth: HEADER_MAX_DEPTH, what: 'header' });
  } catch (err) {
    throw new TensorGpuError('SAFETENSORS_INVALID', `safetensors: ${(err as Error).message}`, { cause: err });
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) {
    throw invalid(`header JSON must be an object, got ${describeValue(header)}`);
  }
  return header as Record<string, unknown>;
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

/** A tensor of a header, without its data: where its bytes lie in the file. */
export interface SafetensorsEntry {
  dtype: SafetensorsDtype;
  shape: number[];
  /** Offset of its first byte from the start of the file. */
  byteOffset: number;
  byteLength: number;
}

/** What readSafetensorsHeader returns: the validated layout of a file, no tensor data read. */
export interface SafetensorsHeader {
  /** Tensors in file (data offset) order. */
  tensors: Map<string, SafetensorsEntry>;
  metadata: Record<string, string>;
  /** Size of the file in bytes. */
  fileBytes: number;
}

/**
 * Reads and parses a safetensors file (or parses a buffer you already hold). The header is read
 * and validated against the file's size first; only then is the whole file loaded into one buffer
 * (tensors are views into it). A path must name a regular file (a FIFO or a device is refused
 * without blocking on it). Other I/O errors (ENOENT, ...) are Node's own.
 *
 *   const { tensors } = await readSafetensors('/models/tiny.safetensors');
 *   [...tensors.keys()]  // ['wte', 'wpe', ...]
 */
export async function readSafetensors(
  pathOrBuffer: string | Uint8Array,
  opts?: ParseSafetensorsOptions,
): Promise<SafetensorsFile> {
  if (typeof pathOrBuffer !== 'string') return parseSafetensors(pathOrBuffer, opts);
  const fh = await openRegularFile(pathOrBuffer);
  try {
    const { size } = await fh.stat();
    await readLayout(fh, size, opts);
    return parseSafetensors(await readWholeFile(fh, pathOrBuffer, size), opts);
  } finally {
    await fh.close();
  }
}

/**
 * Reads and validates only the header of a safetensors file: names, dtypes, shapes and where each
 * tensor's bytes lie, checked against the file's size. Nothing is allocated for tensor data, so a
 * caller can check shapes (and sizes) before reading a file of any size.
 *
 *   const { tensors, fileBytes } = await readSafetensorsHeader('model.safetensors');
 *   tensors.get('lm_head.weight')  // { dtype: 'F16', shape: [50257, 768], byteOffset: 1234, byteLength: 77194752 }
 */
export async function readSafetensorsHeader(path: string, opts?: ParseSafetensorsOptions): Promise<SafetensorsHeader> {
  const fh = await openRegularFile(path);
  try {
    const { size } = await fh.stat();
    const { dataStart, entries, metadata } = await readLayout(fh, size, opts);
    const tensors = new Map<string, SafetensorsEntry>();
    for (const e of entries) {
      tensors.set(e.name, { dtype: e.dtype, shape: e.shape, byteOffset: dataStart + e.begin, byteLength: e.end - e.begin });
    }
    return { tensors, metadata, fileBytes: size };
  } finally {
    await fh.close();
  }
}

/** Opens `path` for reading without blocking on a FIFO, and refuses anything but a regular file. */
async function openRegularFile(path: string): Promise<FileHandle> {
  const fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    if (!(await fh.stat()).isFile()) throw invalid(`${path} is not a regular file`);
    return fh;
  } catch (err) {
    await fh.close();
    throw err;
  }
}

/** Reads the length and the header of an open file of `size` bytes and validates its layout. */
async function readLayout(
  fh: FileHandle,
  size: number,
  opts: ParseSafetensorsOptions = {},
): Promise<{ dataStart: number; entries: Entry[]; metadata: Record<string, string> }> {
  const start = await readRange(fh, 0, Math.min(8, size));
  const headerLen = readHeaderLength(start, size, opts.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES);
  const header = await readRange(fh, 8, headerLen);
  const dataStart = 8 + headerLen;
  return { dataStart, ...parseLayout(header, size - dataStart) };
}

/** `length` bytes from `position` (throws if the file is shorter than that now). */
async function readRange(fh: FileHandle, position: number, length: number): Promise<Uint8Array> {
  const buf = new Uint8Array(length);
  let off = 0;
  while (off < length) {
    const { bytesRead } = await fh.read(buf, off, Math.min(length - off, 1 << 30), position + off);
    if (bytesRead === 0) throw invalid(`file shrank while being read (${position + off} of ${position + length} bytes)`);
    off += bytesRead;
  }
  return buf;
}

/** The whole file in one buffer (so files past fs.readFile's 2 GiB limit work, up to a typed array's). */
async function readWholeFile(fh: FileHandle, path: string, size: number): Promise<Uint8Array> {
  try {
    return await readRange(fh, 0, size);
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    throw new TensorGpuError(
      'SAFETENSORS_UNSUPPORTED',
      `safetensors: ${path} is ${size} bytes, more than one buffer can hold here (${err.message}); split it into shards of at most 2 GB`,
      { cause: err },
    );
  }
}
