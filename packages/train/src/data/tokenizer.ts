/**
 * Tokenizers for training: a path to any tokenizer file @llm/tokenizer-bpe reads, `byte` for the
 * 256-symbol byte vocabulary (a BPE with no merges: id = byte value, so any text round-trips), or
 * `char` for the distinct bytes of the data (nanoGPT's character vocabulary for ASCII text).
 *
 *   const { tokenizer, hash } = await resolveTokenizer('byte');
 *   tokenizer.encode('hé');   // [104, 195, 169]
 *   hash;                      // 'c5b0…' (16 hex chars, changes with any rank, pattern or special token)
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Tokenizer, TokenizerError, loadTokenizer, bytesToBinary, GPT2_PATTERN, type TokenizerDefinition } from '@llm/tokenizer-bpe';
import { TrainError } from '../errors.js';

/** The 256-byte vocabulary as a tokenizer definition (ranks 0–255 = the bytes, no specials). */
export function byteTokenizerDefinition(): TokenizerDefinition {
  const ranks = new Map<string, number>();
  for (let b = 0; b < 256; b++) ranks.set(bytesToBinary(Uint8Array.of(b)), b);
  return { name: 'byte', pattern: GPT2_PATTERN, ranks, specialTokens: new Map() };
}

/**
 * nanoGPT's character vocabulary: the distinct bytes of the data, sorted (for ASCII text, exactly
 * its characters — Tiny Shakespeare has 65). Text with other bytes cannot be encoded with it.
 *
 *   charTokenizerDefinition('hello').ranks.size;   // 4 (e, h, l, o)
 */
export function charTokenizerDefinition(data: string | Uint8Array | Iterable<Uint8Array>): TokenizerDefinition {
  const seen = new Uint8Array(256);
  const chunks = typeof data === 'string' ? [Buffer.from(data, 'utf8')] : data instanceof Uint8Array ? [data] : data;
  for (const c of chunks) for (const b of c) seen[b] = 1;
  const bytes = [...seen.keys()].filter((b) => seen[b]);
  if (bytes.length === 0) throw new TrainError('DATA_EMPTY', 'a char vocabulary needs non-empty data.');
  return { name: 'char', pattern: GPT2_PATTERN, ranks: new Map(bytes.map((b, i) => [bytesToBinary(Uint8Array.of(b)), i])), specialTokens: new Map() };
}

export interface ResolvedTokenizer {
  tokenizer: Tokenizer;
  definition: TokenizerDefinition;
  /** Identity of the vocabulary (see tokenizerHash). */
  hash: string;
}

/** `byte`, `char` (the distinct bytes of `dataFiles`), or a tokenizer file (compact JSON, HF tokenizer.json, .tiktoken). */
export async function resolveTokenizer(spec: string, dataFiles: readonly string[] = []): Promise<ResolvedTokenizer> {
  let definition: TokenizerDefinition;
  if (spec === 'byte') {
    definition = byteTokenizerDefinition();
  } else if (spec === 'char') {
    if (dataFiles.length === 0) throw new TrainError('INVALID_ARGUMENT', 'the "char" tokenizer is built from the data: pass the data files.');
    definition = charTokenizerDefinition(await distinctBytes(dataFiles));
  } else {
    const info = await stat(spec).catch(() => null);
    if (!info) throw new TrainError('DATA_MISSING', `tokenizer file ${spec} does not exist (pass a tokenizer file made by "llm-train tokenizer", an HF tokenizer.json, or "byte").`);
    if (!info.isFile()) throw new TrainError('DATA_INVALID', `tokenizer ${spec} is not a file.`);
    try {
      definition = await loadTokenizer(spec);
    } catch (e) {
      // a bad tokenizer file is the user's input: one typed error naming it, whatever the format's own error says
      if (e instanceof TokenizerError) throw new TrainError('DATA_INVALID', `tokenizer ${spec}: ${e.message}`, { cause: e });
      throw e;
    }
  }
  return { tokenizer: new Tokenizer(definition), definition, hash: tokenizerHash(definition) };
}

/** The distinct bytes of regular files, streamed (never a whole file in memory; devices and folders refused). */
async function distinctBytes(files: readonly string[]): Promise<Uint8Array> {
  const seen = new Uint8Array(256);
  for (const f of files) {
    const info = await stat(f).catch(() => null);
    if (!info?.isFile()) throw new TrainError('DATA_MISSING', `data file ${f} does not exist or is not a file.`);
    for await (const chunk of createReadStream(f) as AsyncIterable<Buffer>) for (const b of chunk) seen[b] = 1;
  }
  return Uint8Array.from(seen.keys()).filter((b) => seen[b] === 1);
}

/** sha256 (first 16 hex chars) over the pattern, every rank's bytes in rank order and the special tokens. */
export function tokenizerHash(def: TokenizerDefinition): string {
  const h = createHash('sha256');
  h.update(def.pattern);
  h.update('\0');
  for (const [bin, rank] of [...def.ranks].sort((a, b) => a[1] - b[1])) h.update(`${rank}:${bin.length}:`).update(Buffer.from(bin, 'latin1'));
  for (const [text, id] of [...def.specialTokens].sort((a, b) => a[1] - b[1])) h.update(`\0${id}:${text}`);
  return h.digest('hex').slice(0, 16);
}
