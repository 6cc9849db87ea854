/**
 * tiktoken's rank formats.
 *
 * `.tiktoken` files (what tiktoken downloads, e.g. cl100k_base.tiktoken): one token per line,
 * base64 of its bytes, a space, its rank:
 *
 *   parseTiktokenFile('IQ== 0\nIg== 1\n')    // → Map { '!' => 0, '"' => 1 }
 *   serializeTiktokenFile(ranks)             // → the same text back (lines by rank)
 *   await loadTiktokenFile('o200k_base.tiktoken', { name: 'o200k_base', pattern: O200K_PATTERN,
 *     specialTokens: new Map([['<|endoftext|>', 199999]]) })   // → TokenizerDefinition
 *
 * The npm `tiktoken` package's `encoders/*.json` ({ pat_str, special_tokens, bpe_ranks }), whose
 * bpe_ranks compress runs of consecutive ranks as "<label> <first rank> <base64> <base64> …":
 *
 *   parseTiktokenJson(require('tiktoken/encoders/cl100k_base.json'), { name: 'cl100k_base' })
 *
 * Malformed input throws TokenizerError('INVALID_FORMAT') naming the line (1-based); input over a
 * limit (ranks ≥ maxVocabSize, a token over maxTokenBytes, …: see limits.ts) LIMIT_EXCEEDED,
 * checked before the token is decoded.
 */
import type { TokenizerDefinition } from '../definition.js';
import { TokenizerError } from '../errors.js';
import { TOKENIZER_LIMITS, type TokenizerLimits, limitExceeded, parseJsonLimited, readTextFileLimited, resolveLimits } from '../limits.js';
import { translateTiktokenPattern } from '../pattern-translate.js';
import { writeTextAtomic } from './atomic-write.js';
import { base64ToBinary, binaryToBase64 } from './base64.js';
import { TokenBudget, checkFilePattern, checkSpecials } from './size-checks.js';

const MAX_RANK = 0x7ffffffe;

function bad(where: string, what: string): TokenizerError {
  return new TokenizerError('INVALID_FORMAT', `${where}: ${what}`);
}

/** Collects tokens and ranks, rejecting duplicates of either and ranks ≥ maxVocabSize. */
class RankCollector {
  readonly ranks = new Map<string, number>();
  /** Ranks seen: a bitmap for the usual dense ranks below 2^24, a Set above (hostile files). */
  private seen = new Uint8Array(1 << 14);
  private readonly seenLarge = new Set<number>();
  readonly budget: TokenBudget;

  constructor(
    private readonly limits: TokenizerLimits,
    where: string,
  ) {
    this.budget = new TokenBudget(limits, where);
  }

  /** Checks a token of `bytes` bytes before it is decoded. */
  checkToken(bytes: number, where: string): void {
    this.budget.add(bytes, where);
  }

  add(token: string, rank: number, where: string): void {
    if (rank >= this.limits.maxVocabSize) throw limitExceeded(`${where}: rank ${rank}`, this.limits.maxVocabSize, 'maxVocabSize');
    const size = this.ranks.size;
    this.ranks.set(token, rank);
    if (this.ranks.size === size) throw bad(where, `duplicate token ${JSON.stringify(token)}`);
    if (this.hasRank(rank)) throw bad(where, `duplicate rank ${rank}`);
    if (rank >= 1 << 24) {
      this.seenLarge.add(rank);
      return;
    }
    if (rank >> 3 >= this.seen.length) {
      const grown = new Uint8Array(Math.min(1 << 21, Math.max(2 * this.seen.length, (rank >> 3) + 1)));
      grown.set(this.seen);
      this.seen = grown;
    }
    this.seen[rank >> 3]! |= 1 << (rank & 7);
  }

  hasRank(rank: number): boolean {
    if (rank >= 1 << 24) return this.seenLarge.has(rank);
    return rank >> 3 < this.seen.length && (this.seen[rank >> 3]! & (1 << (rank & 7))) !== 0;
  }
}

/** Parses a decimal rank in s[start..end), or -1. */
function parseRank(s: string, start: number, end: number): number {
  if (start >= end || end - start > 10) return -1;
  let v = 0;
  for (let k = start; k < end; k++) {
    const d = s.charCodeAt(k) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v <= MAX_RANK ? v : -1;
}

function describeRank(s: string): string {
  return s === '' ? 'a missing rank' : `rank ${JSON.stringify(s)} (ranks are integers from 0 to ${MAX_RANK})`;
}

/** Decoded size of s[start..end) read as base64 (an upper bound when it is not base64). */
function base64Bytes(start: number, end: number): number {
  return Math.floor(((end - start) * 3) / 4);
}

/**
 * `.tiktoken` text → ranks (binary-string keys). Empty lines are skipped; `\r\n` is accepted.
 * `limits` (default TOKENIZER_LIMITS): ranks < maxVocabSize, tokens ≤ maxTokenBytes, all tokens ≤
 * maxTotalTokenBytes, text ≤ maxFileBytes.
 */
export function parseTiktokenFile(text: string, limits: Partial<TokenizerLimits> = TOKENIZER_LIMITS): Map<string, number> {
  if (typeof text !== 'string') throw new TokenizerError('INVALID_FORMAT', 'a .tiktoken file must be text');
  const lim = resolveLimits(limits);
  if (text.length > lim.maxFileBytes) throw limitExceeded(`a .tiktoken text of ${text.length} characters`, lim.maxFileBytes, 'maxFileBytes');
  const out = new RankCollector(lim, '.tiktoken');
  let lineNo = 0;
  for (let start = 0; start < text.length; ) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const next = end + 1;
    lineNo++;
    if (end > start && text.charCodeAt(end - 1) === 0x0d) end--;
    if (end > start) {
      const where = `line ${lineNo}`;
      const space = text.indexOf(' ', start);
      if (space < 0 || space >= end) throw bad(where, `expected "<base64 token> <rank>", got ${JSON.stringify(text.slice(start, Math.min(end, start + 60)))}`);
      out.checkToken(base64Bytes(start, space), where);
      const token = base64ToBinary(text, start, space);
      if (token === undefined) throw bad(where, `${JSON.stringify(text.slice(start, space))} is not base64`);
      const rank = parseRank(text, space + 1, end);
      if (rank < 0) throw bad(where, describeRank(text.slice(space + 1, end)));
      out.add(token, rank, where);
    }
    start = next;
  }
  return out.ranks;
}

/** Ranks → `.tiktoken` text, one line per token in rank order. */
export function serializeTiktokenFile(ranks: ReadonlyMap<string, number>): string {
  const lines: string[] = [];
  for (const [token, rank] of [...ranks].sort((a, b) => a[1] - b[1])) {
    if (token.length === 0 || /[^\x00-\xff]/.test(token)) {
      throw new TokenizerError('INVALID_ARGUMENT', `token ${JSON.stringify(token)} (rank ${rank}) is not a non-empty binary string`);
    }
    lines.push(`${binaryToBase64(token)} ${rank}`);
  }
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}

/** What a `.tiktoken` file does not store. */
export interface TiktokenFileOptions {
  name: string;
  /** Pre-tokenization pattern (JS regex source, e.g. CL100K_PATTERN). */
  pattern: string;
  /** Special token text → id (default none). */
  specialTokens?: ReadonlyMap<string, number> | Record<string, number>;
  /** Overrides of TOKENIZER_LIMITS (file size, vocabulary, token sizes, pattern). */
  limits?: Partial<TokenizerLimits>;
}

function specialMap(specials: TiktokenFileOptions['specialTokens']): Map<string, number> {
  if (specials === undefined) return new Map();
  return new Map(specials instanceof Map ? specials : Object.entries(specials));
}

/**
 * Reads a `.tiktoken` file into a TokenizerDefinition: a regular file of at most maxFileBytes
 * (read no further), within the limits of parseTiktokenFile; the pattern and special tokens are
 * checked as a file's would be.
 */
export async function loadTiktokenFile(path: string, options: TiktokenFileOptions): Promise<TokenizerDefinition> {
  const limits = resolveLimits(options.limits);
  const ranks = parseTiktokenFile(await readTextFileLimited(path, limits, '.tiktoken file'), limits);
  const specialTokens = specialMap(options.specialTokens);
  checkSpecials(specialTokens, path, limits);
  checkFilePattern(options.pattern, `${path}: pattern`, limits);
  return { name: options.name, pattern: options.pattern, ranks, specialTokens };
}

/** Writes `def.ranks` as a `.tiktoken` file, atomically (temp file + rename); specials and pattern are not stored. */
export async function saveTiktokenFile(path: string, def: TokenizerDefinition): Promise<void> {
  await writeTextAtomic(path, serializeTiktokenFile(def.ranks));
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Decodes the compressed `bpe_ranks` string of the npm package's encoder JSON. */
function parseCompressedRanks(bpeRanks: string, limits: TokenizerLimits): RankCollector {
  const out = new RankCollector(limits, 'encoder JSON');
  let lineNo = 0;
  for (let start = 0; start < bpeRanks.length; ) {
    let end = bpeRanks.indexOf('\n', start);
    if (end < 0) end = bpeRanks.length;
    lineNo++;
    if (end > start) parseCompressedLine(bpeRanks, start, end, `bpe_ranks line ${lineNo}`, out);
    start = end + 1;
  }
  return out;
}

/** One "<label> <first rank> <b64> <b64> …" line: consecutive ranks from <first rank>. */
function parseCompressedLine(s: string, start: number, end: number, where: string, out: RankCollector): void {
  const labelEnd = s.indexOf(' ', start);
  if (labelEnd < 0 || labelEnd >= end) throw bad(where, 'expected "<label> <first rank> <base64 tokens…>"');
  let fieldEnd = s.indexOf(' ', labelEnd + 1);
  if (fieldEnd < 0 || fieldEnd > end) fieldEnd = end;
  let rank = parseRank(s, labelEnd + 1, fieldEnd);
  if (rank < 0) throw bad(where, describeRank(s.slice(labelEnd + 1, fieldEnd)));
  for (let k = fieldEnd + 1, index = 1; k <= end; index++) {
    let e = s.indexOf(' ', k);
    if (e < 0 || e > end) e = end;
    out.checkToken(base64Bytes(k, e), `${where}, token ${index}`);
    const token = base64ToBinary(s, k, e);
    if (token === undefined) throw bad(where, `token ${index} ${JSON.stringify(s.slice(k, Math.min(e, k + 60)))} is not base64`);
    if (rank > MAX_RANK) throw bad(where, `rank ${rank} is out of range`);
    out.add(token, rank++, `${where}, token ${index}`);
    k = e + 1;
  }
}

function specialTokensFrom(v: unknown, limits: TokenizerLimits): Map<string, number> {
  if (!isPlainObject(v)) throw bad('encoder JSON', '"special_tokens" must be an object of text → id');
  const out = new Map<string, number>();
  for (const [text, id] of Object.entries(v)) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id > MAX_RANK) {
      throw bad('encoder JSON', `special token ${JSON.stringify(text.slice(0, 80))} has id ${JSON.stringify(id)}; ids are non-negative integers`);
    }
    out.set(text, id);
  }
  checkSpecials(out, 'encoder JSON', limits);
  return out;
}

/**
 * The npm `tiktoken` package's encoder JSON (object or JSON text) → TokenizerDefinition. The
 * `pat_str` is translated with translateTiktokenPattern (exact table for tiktoken's own patterns)
 * and vetted like any pattern from a file; sizes within `options.limits` (default TOKENIZER_LIMITS).
 */
export function parseTiktokenJson(json: unknown, options: { name?: string; limits?: Partial<TokenizerLimits> } = {}): TokenizerDefinition {
  const limits = resolveLimits(options.limits);
  let j = json;
  if (typeof j === 'string') {
    if (j.length > limits.maxFileBytes) throw limitExceeded(`encoder JSON of ${j.length} characters`, limits.maxFileBytes, 'maxFileBytes');
    j = parseJsonLimited(j, 'encoder JSON', limits);
  }
  if (!isPlainObject(j)) throw bad('encoder JSON', 'expected an object with pat_str, special_tokens and bpe_ranks');
  if (typeof j.pat_str !== 'string') throw bad('encoder JSON', '"pat_str" must be a string');
  if (typeof j.bpe_ranks !== 'string') throw bad('encoder JSON', '"bpe_ranks" must be a string');
  const specialTokens = specialTokensFrom(j.special_tokens, limits);
  const collected = parseCompressedRanks(j.bpe_ranks, limits);
  const ranks = collected.ranks;
  for (const [text, id] of specialTokens) {
    if (collected.hasRank(id)) throw bad('encoder JSON', `special token ${JSON.stringify(text)} reuses rank ${id} of an ordinary token`);
  }
  if (j.explicit_n_vocab !== undefined && j.explicit_n_vocab !== ranks.size + specialTokens.size) {
    throw bad('encoder JSON', `explicit_n_vocab is ${JSON.stringify(j.explicit_n_vocab)} but there are ${ranks.size} ranks + ${specialTokens.size} special tokens`);
  }
  const pattern = translateTiktokenPattern(j.pat_str);
  checkFilePattern(pattern, 'encoder JSON: pat_str', limits);
  return { name: options.name ?? 'tiktoken', pattern, ranks, specialTokens };
}
