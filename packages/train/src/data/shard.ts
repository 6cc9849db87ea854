/**
 * Token shards: a flat little-endian file of token ids (`<prefix>.bin`, uint16 when the vocabulary
 * fits, else uint32) and a JSON sidecar (`<prefix>.json`: dtype, vocab size, tokenizer hash, count,
 * sources). Text is streamed in chunks of whole lines, so files larger than memory tokenize fine;
 * both files are written atomically (writeFileAtomic: temp + fsync + rename + directory fsync).
 *
 *   const meta = await writeTokenShard('data/shakespeare', ['input.txt'], await resolveTokenizer('byte'));
 *   meta.count;                                // 1115394
 *   const shard = await openTokenShard('data/shakespeare');
 *   shard.read(0, 4);                          // Int32Array [70, 105, 114, 115]  ("Firs")
 */
import { createReadStream } from 'node:fs';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { writeFileAtomic } from '@llm/tensor-gpu';
import { openSync, readSync, closeSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { TrainError } from '../errors.js';
import { TRAIN_LIMITS } from '../limits.js';
import type { ResolvedTokenizer } from './tokenizer.js';

export type TokenDtype = 'uint16' | 'uint32';

export interface ShardMeta {
  format: 'llm-ts-tokens';
  version: 1;
  dtype: TokenDtype;
  vocabSize: number;
  tokenizer: { name: string; hash: string };
  count: number;
  documents: number;
  sources: Array<{ path: string; bytes: number }>;
}

export interface WriteShardOptions {
  /** text: each file is one document; jsonl: one JSON object per line with a string `field`. Default from the extension. */
  format?: 'auto' | 'text' | 'jsonl';
  /** JSONL field holding the text (default "text"). */
  field?: string;
  /** Called after each chunk with bytes read and tokens written so far. */
  onProgress?: (bytesRead: number, tokens: number) => void;
  /** Characters encoded per chunk (default 1 MiB of text, cut at a newline). */
  chunkChars?: number;
}

const EOT = '<|endoftext|>';
const ITEM = { uint16: 2, uint32: 4 } as const;

/** Tokenize files into `<prefix>.bin` + `<prefix>.json`. Documents are separated by `<|endoftext|>` when the tokenizer has it. */
export async function writeTokenShard(prefix: string, inputs: string[], tok: ResolvedTokenizer, opts: WriteShardOptions = {}): Promise<ShardMeta> {
  if (inputs.length === 0) throw new TrainError('DATA_MISSING', 'no input files given.');
  for (const p of inputs) await checkFile(p);
  const V = tok.tokenizer.vocabSize;
  const dtype: TokenDtype = V <= 65536 ? 'uint16' : 'uint32';
  await mkdir(dirname(prefix), { recursive: true });
  const tally = { count: 0, documents: 0, sources: [] as ShardMeta['sources'] };
  await writeFileAtomic(`${prefix}.bin`, encodeInputs(inputs, tok, dtype, opts, tally));
  const meta: ShardMeta = { format: 'llm-ts-tokens', version: 1, dtype, vocabSize: V, tokenizer: { name: tok.definition.name, hash: tok.hash }, ...tally };
  await writeFileAtomic(`${prefix}.json`, new TextEncoder().encode(JSON.stringify(meta, null, 2) + '\n'));
  return meta;
}

/** The shard's bytes, chunk by chunk; fills `tally` as it goes and throws DATA_EMPTY (nothing written) when no token came out. */
async function* encodeInputs(
  inputs: string[],
  tok: ResolvedTokenizer,
  dtype: TokenDtype,
  opts: WriteShardOptions,
  tally: { count: number; documents: number; sources: ShardMeta['sources'] },
): AsyncGenerator<Uint8Array> {
  const eot = tok.tokenizer.specialTokens.get(EOT);
  const bytes = (ids: number[]) => {
    tally.count += ids.length;
    return new Uint8Array((dtype === 'uint16' ? Uint16Array.from(ids) : Uint32Array.from(ids)).buffer);
  };
  const doc = (ids: number[]) => {
    tally.documents++;
    return bytes(eot !== undefined ? [...ids, eot] : ids);
  };
  let bytesRead = 0;
  for (const path of inputs) {
    const size = (await stat(path)).size;
    const jsonl = opts.format === 'jsonl' || ((opts.format ?? 'auto') === 'auto' && /\.jsonl$/i.test(path));
    let pending = '';
    let lastNewline = -1;
    let line = 0;
    const stream = createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 20 });
    const chunkChars = opts.chunkChars ?? 1 << 20;
    for await (const chunk of stream as AsyncIterable<string>) {
      pending += chunk;
      // the last newline of pending, found in the new chunk only (no quadratic rescans of a long line)
      const inChunk = chunk.lastIndexOf('\n');
      if (inChunk >= 0) lastNewline = pending.length - chunk.length + inChunk;
      let cut = lastNewline;
      if (jsonl && cut < 0 && pending.length > TRAIN_LIMITS.maxJsonlLineChars) {
        throw new TrainError('DATA_INVALID', `${path}:${line + 1}: a JSONL line longer than ${TRAIN_LIMITS.maxJsonlLineChars} characters (TRAIN_LIMITS.maxJsonlLineChars); one document per line, split it.`);
      }
      if (!jsonl && cut < 0 && pending.length >= 4 * chunkChars) cut = breakPoint(pending); // text without newlines: cut at a space, else anywhere
      if (cut < 0 || (!jsonl && pending.length < chunkChars)) continue;
      const head = pending.slice(0, cut + 1);
      pending = pending.slice(cut + 1);
      lastNewline = -1; // cut at the last newline, or (text without one) at a space: none is left
      if (jsonl) {
        for (const l of head.split('\n').slice(0, -1)) {
          line++;
          if (l.trim()) yield doc(tok.tokenizer.encodeOrdinary(jsonlText(l, opts.field ?? 'text', path, line)));
        }
      } else {
        yield bytes(tok.tokenizer.encodeOrdinary(head));
      }
      bytesRead = Math.min(size, bytesRead + Buffer.byteLength(head));
      opts.onProgress?.(bytesRead, tally.count);
    }
    if (jsonl) {
      if (pending.trim()) yield doc(tok.tokenizer.encodeOrdinary(jsonlText(pending, opts.field ?? 'text', path, line + 1)));
    } else {
      yield doc(tok.tokenizer.encodeOrdinary(pending));
    }
    tally.sources.push({ path: basename(path), bytes: size });
  }
  if (tally.count === 0) throw new TrainError('DATA_EMPTY', `no tokens in ${inputs.join(', ')}: the input is empty.`);
}

/** Where to cut text that has no newline: after its last white space, else before its last character (never inside a surrogate pair). */
function breakPoint(text: string): number {
  const space = text.search(/\s(?=\S*$)/);
  if (space >= 0) return space;
  const last = text.length - 2;
  return text.charCodeAt(last) >= 0xd800 && text.charCodeAt(last) < 0xdc00 ? last - 1 : last;
}

function jsonlText(line: string, field: string, path: string, n: number): string {
  let obj: unknown;
  try {
    obj = JSON.parse(line);
  } catch (e) {
    throw new TrainError('DATA_INVALID', `${path}:${n}: not valid JSON (${(e as Error).message}).`);
  }
  const text = (obj as Record<string, unknown> | null)?.[field];
  if (typeof text !== 'string') throw new TrainError('DATA_INVALID', `${path}:${n}: expected an object with a string "${field}" field.`);
  return text;
}

async function checkFile(path: string): Promise<void> {
  try {
    if (!(await stat(path)).isFile()) throw new Error('not a file');
  } catch {
    throw new TrainError('DATA_MISSING', `data file ${path} does not exist or is not a file.`);
  }
}

/** Read access to a shard's token ids (whole file in memory up to 1 GiB, positioned reads beyond). */
export class TokenShard {
  readonly meta: ShardMeta;
  private readonly data: Uint16Array | Uint32Array | null;
  private readonly fd: number | null;

  private constructor(meta: ShardMeta, data: Uint16Array | Uint32Array | null, fd: number | null, private readonly path: string | null = null) {
    this.meta = meta;
    this.data = data;
    this.fd = fd;
  }

  get count(): number {
    return this.meta.count;
  }

  /** A shard over ids already in memory (e.g. a generated corpus). */
  static fromIds(ids: ArrayLike<number>, meta: Omit<ShardMeta, 'format' | 'version' | 'dtype' | 'count'>): TokenShard {
    if (!Number.isSafeInteger(meta.vocabSize) || meta.vocabSize < 1 || meta.vocabSize > 2 ** 32) throw new TrainError('INVALID_ARGUMENT', `vocabSize must be an integer in [1, 2^32], got ${meta.vocabSize}.`);
    const dtype: TokenDtype = meta.vocabSize <= 65536 ? 'uint16' : 'uint32';
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (!Number.isInteger(id) || id < 0 || id >= meta.vocabSize) throw new TrainError('INVALID_ARGUMENT', `token id ${id} at position ${i} is outside the vocabulary [0, ${meta.vocabSize}).`);
    }
    const data = dtype === 'uint16' ? Uint16Array.from(ids) : Uint32Array.from(ids);
    return new TokenShard({ format: 'llm-ts-tokens', version: 1, dtype, count: data.length, ...meta }, data, null);
  }

  /** Open `<prefix>.bin` + `<prefix>.json` (prefix may also be the .bin or .json path). */
  static async open(prefixOrPath: string, opts: { maxInMemoryBytes?: number } = {}): Promise<TokenShard> {
    const prefix = prefixOrPath.replace(/\.(bin|json)$/, '');
    const meta = await readMeta(`${prefix}.json`);
    const binPath = `${prefix}.bin`;
    let size: number;
    try {
      size = (await stat(binPath)).size;
    } catch {
      throw new TrainError('DATA_MISSING', `${binPath} does not exist (its sidecar ${prefix}.json does).`);
    }
    const bytes = meta.count * ITEM[meta.dtype];
    if (size !== bytes) throw new TrainError('DATA_INVALID', `${binPath} has ${size} bytes, but its sidecar says ${meta.count} ${meta.dtype} tokens (${bytes} bytes): the shard is truncated or not the one the sidecar describes; re-run the tokenization.`);
    if (bytes <= (opts.maxInMemoryBytes ?? 1 << 30)) {
      const buf = await readFile(binPath);
      if (buf.byteLength !== bytes) throw new TrainError('DATA_INVALID', `${binPath} changed while it was read (${buf.byteLength} bytes, expected ${bytes}).`);
      const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
      const data = meta.dtype === 'uint16' ? new Uint16Array(ab) : new Uint32Array(ab);
      checkIds(data, 0, meta.vocabSize, binPath);
      return new TokenShard(meta, data, null);
    }
    return new TokenShard(meta, null, openSync(binPath, 'r'), binPath);
  }

  /** Tokens [start, start + length) as int32. */
  read(start: number, length: number): Int32Array {
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(length) || start < 0 || length < 0 || start + length > this.count) throw new TrainError('INVALID_ARGUMENT', `read(${start}, ${length}) is outside the shard's ${this.count} tokens.`);
    if (this.data) return Int32Array.from(this.data.subarray(start, start + length));
    const size = ITEM[this.meta.dtype];
    const buf = Buffer.alloc(length * size);
    const got = readSync(this.fd!, buf, 0, buf.length, start * size);
    if (got !== buf.length) throw new TrainError('DATA_INVALID', `${this.path}: read ${got} of ${buf.length} bytes at token ${start}: the file was truncated after it was opened.`);
    const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
    const ids = size === 2 ? new Uint16Array(ab) : new Uint32Array(ab);
    checkIds(ids, start, this.meta.vocabSize, this.path ?? 'token shard'); // a file too big to scan at open is checked as it is read
    return Int32Array.from(ids);
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
  }
}

/** Shorthand for TokenShard.open. */
export const openTokenShard = (prefix: string): Promise<TokenShard> => TokenShard.open(prefix);

/** Token ids at or above the vocabulary (a damaged shard, or a sidecar of another tokenizer) are DATA_INVALID: they would index past the embedding. */
function checkIds(ids: Uint16Array | Uint32Array, offset: number, vocabSize: number, path: string): void {
  if (vocabSize >= (ids instanceof Uint16Array ? 65536 : 2 ** 32)) return; // every value of the dtype is in range
  for (let i = 0; i < ids.length; i++) {
    if (ids[i]! >= vocabSize) {
      throw new TrainError('DATA_INVALID', `${path}: token id ${ids[i]} at position ${offset + i} is outside the vocabulary [0, ${vocabSize}) its sidecar declares: the shard is damaged or tokenized with another tokenizer; re-run the tokenization.`);
    }
  }
}

/** Largest sidecar read (it holds the source list: kilobytes). */
const MAX_SIDECAR_BYTES = 16 << 20;

async function readMeta(path: string): Promise<ShardMeta> {
  const info = await stat(path).catch(() => null);
  if (!info) throw new TrainError('DATA_MISSING', `token shard sidecar ${path} does not exist (tokenize the data first).`);
  if (!info.isFile() || info.size > MAX_SIDECAR_BYTES) throw new TrainError('DATA_INVALID', `${path} is not a token shard sidecar (${info.isFile() ? `${info.size} bytes, over ${MAX_SIDECAR_BYTES}` : 'not a file'}).`);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new TrainError('DATA_INVALID', `${path} cannot be read: ${(e as Error).message}.`);
  }
  let m: Partial<ShardMeta>;
  try {
    m = JSON.parse(text) as Partial<ShardMeta>;
  } catch (e) {
    throw new TrainError('DATA_INVALID', `${path} is not valid JSON: ${(e as Error).message}.`);
  }
  const ok = m && typeof m === 'object' && m.format === 'llm-ts-tokens' && m.version === 1 && (m.dtype === 'uint16' || m.dtype === 'uint32') &&
    Number.isInteger(m.count) && m.count! >= 0 && Number.isInteger(m.vocabSize) && typeof m.tokenizer?.hash === 'string';
  if (!ok) throw new TrainError('DATA_INVALID', `${path} is not an llm-ts token shard sidecar (format, version, dtype, count, vocabSize, tokenizer.hash).`);
  const bad = (what: string) => {
    throw new TrainError('DATA_INVALID', `${path}: ${what}; the sidecar is damaged: re-run the tokenization.`);
  };
  if (m.count! > Number.MAX_SAFE_INTEGER / 4) bad(`count ${m.count} is not a possible token count`);
  if (m.vocabSize! < 1 || m.vocabSize! > 2 ** 32) bad(`vocabSize ${m.vocabSize} is outside [1, 2^32]`);
  if (m.dtype === 'uint16' && m.vocabSize! > 65536) bad(`dtype uint16 cannot hold the ids of a ${m.vocabSize}-token vocabulary`);
  if (typeof m.tokenizer!.name !== 'string') bad('tokenizer.name must be a string');
  if (m.documents !== undefined && (!Number.isInteger(m.documents) || m.documents < 0)) bad(`documents must be an integer ≥ 0, got ${JSON.stringify(m.documents)}`);
  if (m.sources !== undefined && (!Array.isArray(m.sources) || m.sources.some((x) => typeof x?.path !== 'string' || !Number.isInteger(x?.bytes) || x.bytes < 0))) {
    bad('sources must be a list of { path, bytes }');
  }
  return { sources: [], documents: 0, ...m } as ShardMeta;
}
