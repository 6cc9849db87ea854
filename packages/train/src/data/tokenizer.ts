/**
 * Tokenizers for training: a path to any tokenizer file @llm/tokenizer-bpe reads, or `byte` for
 * the 256-symbol byte vocabulary (a BPE with no merges: id = byte value, so any text round-trips).
 *
 *   const { tokenizer, hash } = await resolveTokenizer('byte');
 *   tokenizer.encode('hé');   // [104, 195, 169]
 *   hash;                      // 'c5b0…' (16 hex chars, changes with any rank, pattern or special token)
 */
import { createHash } from 'node:crypto';
import { access } from 'node:fs/promises';
import { Tokenizer, loadTokenizer, bytesToBinary, GPT2_PATTERN, type TokenizerDefinition } from '@llm/tokenizer-bpe';
import { TrainError } from '../errors.js';

/** The 256-byte vocabulary as a tokenizer definition (ranks 0–255 = the bytes, no specials). */
export function byteTokenizerDefinition(): TokenizerDefinition {
  const ranks = new Map<string, number>();
  for (let b = 0; b < 256; b++) ranks.set(bytesToBinary(Uint8Array.of(b)), b);
  return { name: 'byte', pattern: GPT2_PATTERN, ranks, specialTokens: new Map() };
}

export interface ResolvedTokenizer {
  tokenizer: Tokenizer;
  definition: TokenizerDefinition;
  /** Identity of the vocabulary (see tokenizerHash). */
  hash: string;
}

/** `byte`, or a tokenizer file (compact JSON, HF tokenizer.json, .tiktoken). */
export async function resolveTokenizer(spec: string): Promise<ResolvedTokenizer> {
  let definition: TokenizerDefinition;
  if (spec === 'byte') {
    definition = byteTokenizerDefinition();
  } else {
    try {
      await access(spec);
    } catch {
      throw new TrainError('DATA_MISSING', `tokenizer file ${spec} does not exist (pass a tokenizer file made by "llm-train tokenizer", an HF tokenizer.json, or "byte").`);
    }
    definition = await loadTokenizer(spec);
  }
  return { tokenizer: new Tokenizer(definition), definition, hash: tokenizerHash(definition) };
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
