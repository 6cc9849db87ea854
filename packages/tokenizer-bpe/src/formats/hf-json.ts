/**
 * HF tokenizers' `tokenizer.json` for GPT-2-style byte-level BPE, to and from TokenizerDefinition.
 *
 *   const json = toHfTokenizerJson(def);          // plain object, JSON.stringify it to save
 *   const back = fromHfTokenizerJson(text);       // same ranks, specials and pattern
 *
 * Written layout: model { type 'BPE', vocab: byte-level text → id (GPT-2's bytes_to_unicode),
 * merges ["Ġ t", …] in rank order, byte_fallback false, ignore_merges true (tiktoken looks a whole
 * piece up before merging) }, pre_tokenizer ByteLevel (add_prefix_space false, use_regex true)
 * for GPT-2's pattern, otherwise Sequence [Split(Regex, 'Isolated'), ByteLevel(use_regex false)]
 * (cl100k / o200k written as tiktoken's Rust pat_str, see hf-patterns.ts), decoder ByteLevel,
 * special tokens in added_tokens only (as Llama 3's file does).
 *
 * Reading accepts merges as "a b" or ["a", "b"]; vocab entries that are also added tokens (as in
 * GPT-2's file) become special tokens. Ranks are the vocab ids, so the file's merge order must
 * agree with them: every multi-byte token must come from a merge whose result id is larger than
 * its parts' and than every earlier merge's result (true of GPT-2, Llama 3 and any file
 * `toHfTokenizerJson` writes). Errors: INVALID_FORMAT for a malformed or inconsistent file,
 * UNSUPPORTED for a well-formed file this rank-based model cannot represent (non-BPE model,
 * normalizers, add_prefix_space, byte_fallback, …); messages name the field. A file is untrusted
 * input: sizes are checked against `opts.limits` (LIMIT_EXCEEDED: vocabulary, ids, token bytes,
 * merges, added tokens, JSON nesting) and the Split regex is vetted for the linear-time matcher
 * (UNSAFE_PATTERN) before anything is built.
 */
import type { TokenizerDefinition } from '../definition.js';
import { type TokenizerLimits, resolveLimits } from '../limits.js';
import { GPT2_PATTERN } from '../patterns.js';
import { binaryToByteLevel, byteLevelToBinary } from './byte-level.js';
import { deriveMerges } from './derive-merges.js';
import { hfRegexToPattern, patternToHfRegex } from './hf-patterns.js';
import {
  checkId,
  dict,
  field,
  invalidFormat,
  isObject,
  parseJsonObject,
  preview,
  unsupported,
  type JsonObject,
} from './json-checks.js';
import { TokenBudget, checkCount, checkFilePattern, checkSpecial } from './size-checks.js';

const WHERE = 'tokenizer.json';

/** One entry of tokenizer.json's `added_tokens`. */
export interface HfAddedToken {
  id: number;
  content: string;
  single_word: boolean;
  lstrip: boolean;
  rstrip: boolean;
  normalized: boolean;
  special: boolean;
}

/** The subset of tokenizer.json that `toHfTokenizerJson` writes. */
export interface HfTokenizerJson {
  version: '1.0';
  truncation: null;
  padding: null;
  added_tokens: HfAddedToken[];
  normalizer: null;
  pre_tokenizer: JsonObject;
  post_processor: null;
  decoder: JsonObject;
  model: {
    type: 'BPE';
    dropout: null;
    unk_token: null;
    continuing_subword_prefix: null;
    end_of_word_suffix: null;
    fuse_unk: false;
    byte_fallback: false;
    ignore_merges: true;
    vocab: Record<string, number>;
    merges: string[];
  };
}

/**
 * A tokenizer.json object for `def` (merges derived from the ranks, in rank order).
 *
 *   toHfTokenizerJson(trainBpeSync('ab ab', { vocabSize: 257 })).model.merges   // ['a b']
 */
export function toHfTokenizerJson(def: TokenizerDefinition): HfTokenizerJson {
  const vocab = dict<number>();
  for (const [bytes, id] of [...def.ranks].sort((a, b) => a[1] - b[1])) vocab[binaryToByteLevel(bytes)] = id;
  const merges = deriveMerges(def.ranks).map(
    (m) => `${binaryToByteLevel(m.left)} ${binaryToByteLevel(m.right)}`,
  );
  const added_tokens = [...def.specialTokens]
    .sort((a, b) => a[1] - b[1])
    .map(([content, id]) => ({
      id,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    }));
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens,
    normalizer: null,
    pre_tokenizer: preTokenizerFor(def.pattern),
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: true,
      vocab,
      merges,
    },
  };
}

function preTokenizerFor(pattern: string): JsonObject {
  if (pattern === GPT2_PATTERN)
    return { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  return {
    type: 'Sequence',
    pretokenizers: [
      { type: 'Split', pattern: { Regex: patternToHfRegex(pattern) }, behavior: 'Isolated', invert: false },
      { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
    ],
  };
}

/**
 * Reads a tokenizer.json (text or parsed object). `name` defaults to 'tokenizer' (the file
 * format has no name field).
 *
 *   fromHfTokenizerJson(readFileSync('gpt2/tokenizer.json', 'utf8')).specialTokens
 *   // Map { '<|endoftext|>' → 50256 }
 */
export function fromHfTokenizerJson(
  input: unknown,
  opts: { name?: string; limits?: Partial<TokenizerLimits> } = {},
): TokenizerDefinition {
  const limits = resolveLimits(opts.limits);
  const root = parseJsonObject(input, WHERE, limits);
  checkNormalizer(field(root, 'normalizer'));
  const model = readModel(field(root, 'model'), limits);
  const specialTokens = readAddedTokens(field(root, 'added_tokens'), limits);
  const pattern = readPreTokenizer(field(root, 'pre_tokenizer'), limits);
  checkDecoder(field(root, 'decoder'));
  const ranks = vocabToRanks(model.vocab, specialTokens, limits);
  checkMerges(model.merges, ranks);
  return { name: opts.name ?? 'tokenizer', pattern, ranks, specialTokens };
}

function checkNormalizer(n: unknown): void {
  if (n === null || n === undefined) return;
  if (isObject(n) && n.type === 'Sequence' && Array.isArray(n.normalizers) && n.normalizers.length === 0)
    return;
  throw unsupported(WHERE, `normalizer ${preview(n)} is not supported (byte-level BPE expects none)`);
}

function checkDecoder(d: unknown): void {
  if (d === null || d === undefined || (isObject(d) && d.type === 'ByteLevel')) return;
  throw unsupported(WHERE, `decoder of type ${preview(isObject(d) ? d.type : d)} is not supported (expected ByteLevel)`);
}

interface HfModel {
  vocab: JsonObject;
  merges: unknown[];
}

function readModel(model: unknown, limits: TokenizerLimits): HfModel {
  if (!isObject(model)) throw invalidFormat(WHERE, '"model" must be an object');
  const type = field(model, 'type');
  if (type !== undefined && type !== 'BPE')
    throw unsupported(WHERE, `model.type ${preview(type)} is not supported (only BPE)`);
  if (field(model, 'byte_fallback') === true)
    throw unsupported(WHERE, 'model.byte_fallback = true is not supported');
  for (const key of ['continuing_subword_prefix', 'end_of_word_suffix']) {
    const v = field(model, key);
    if (v !== undefined && v !== null && v !== '')
      throw unsupported(WHERE, `model.${key} ${preview(v)} is not supported`);
  }
  const dropout = field(model, 'dropout');
  if (dropout !== undefined && dropout !== null && dropout !== 0)
    throw unsupported(WHERE, 'model.dropout is not supported');
  const vocab = field(model, 'vocab');
  const merges = field(model, 'merges');
  if (!isObject(vocab)) throw invalidFormat(WHERE, 'model.vocab must be an object { token: id }');
  if (!Array.isArray(merges)) throw invalidFormat(WHERE, 'model.merges must be an array');
  checkCount(merges.length, 'merges', WHERE, limits.maxMerges, 'maxMerges');
  return { vocab, merges };
}

function readAddedTokens(added: unknown, limits: TokenizerLimits): Map<string, number> {
  const out = new Map<string, number>();
  if (added === undefined || added === null) return out;
  if (!Array.isArray(added)) throw invalidFormat(WHERE, 'added_tokens must be an array');
  checkCount(added.length, 'added tokens', WHERE, limits.maxSpecialTokens, 'maxSpecialTokens');
  const ids = new Set<number>();
  added.forEach((t, i) => {
    const at = `added_tokens[${i}]`;
    if (!isObject(t)) throw invalidFormat(WHERE, `${at} must be an object`);
    const content = field(t, 'content');
    if (typeof content !== 'string' || content === '')
      throw invalidFormat(WHERE, `${at}.content must be a non-empty string`);
    const id = checkId(field(t, 'id'), `${at}.id`, WHERE, limits);
    checkSpecial(content, id, `${WHERE}: ${at}`, limits);
    if (out.has(content)) throw invalidFormat(WHERE, `${at}: token ${preview(content)} is listed twice`);
    if (ids.has(id)) throw invalidFormat(WHERE, `${at}: id ${id} is used twice`);
    out.set(content, id);
    ids.add(id);
  });
  return out;
}

function readPreTokenizer(pt: unknown, limits: TokenizerLimits): string {
  if (!isObject(pt))
    throw unsupported(WHERE, 'pre_tokenizer is missing; byte-level BPE needs a ByteLevel pre-tokenizer');
  if (pt.type === 'ByteLevel') return byteLevelPattern(pt, 'pre_tokenizer');
  const list = field(pt, 'pretokenizers');
  if (pt.type !== 'Sequence' || !Array.isArray(list)) {
    throw unsupported(WHERE, `pre_tokenizer of type ${preview(pt.type)} is not supported`);
  }
  const [first, second] = list as unknown[];
  if (list.length === 1 && isObject(first) && first.type === 'ByteLevel')
    return byteLevelPattern(first, 'pre_tokenizer.pretokenizers[0]');
  if (
    list.length !== 2 ||
    !isObject(first) ||
    first.type !== 'Split' ||
    !isObject(second) ||
    second.type !== 'ByteLevel'
  ) {
    throw unsupported(WHERE, 'pre_tokenizer.pretokenizers must be [Split, ByteLevel] or [ByteLevel]');
  }
  if (field(second, 'use_regex') !== false) {
    throw unsupported(WHERE, 'pre_tokenizer.pretokenizers[1].use_regex must be false after a Split');
  }
  byteLevelPattern(second, 'pre_tokenizer.pretokenizers[1]');
  return splitPattern(first, limits);
}

/** ByteLevel's own regex (GPT-2's) when use_regex is true (the default), else the whole text. */
function byteLevelPattern(bl: JsonObject, at: string): string {
  if (field(bl, 'add_prefix_space') !== false)
    throw unsupported(WHERE, `${at}.add_prefix_space must be false`);
  return field(bl, 'use_regex') === false ? '[\\s\\S]+' : GPT2_PATTERN;
}

function splitPattern(split: JsonObject, limits: TokenizerLimits): string {
  const at = 'pre_tokenizer.pretokenizers[0]';
  if (field(split, 'behavior') !== 'Isolated' || field(split, 'invert') === true) {
    throw unsupported(WHERE, `${at} must have behavior "Isolated" and invert false`);
  }
  const p = field(split, 'pattern');
  const regex = isObject(p) && typeof p.Regex === 'string' ? p.Regex : undefined;
  const literal =
    isObject(p) && typeof p.String === 'string'
      ? p.String.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&')
      : undefined;
  if (regex === undefined && literal === undefined) {
    throw invalidFormat(WHERE, `${at}.pattern must be { "Regex": string } or { "String": string }`);
  }
  let pattern: string;
  try {
    pattern = regex === undefined ? literal! : hfRegexToPattern(regex);
    new RegExp(pattern, 'gu');
  } catch (err) {
    throw unsupported(WHERE, `${at}.pattern cannot be used as a JS regex: ${(err as Error).message}`);
  }
  checkFilePattern(pattern, `${WHERE}: ${at}.pattern`, limits); // UNSAFE_PATTERN / LIMIT_EXCEEDED
  return pattern;
}

/** vocab (byte-level text → id) minus the added tokens → ranks (binary string → id). */
function vocabToRanks(
  vocab: JsonObject,
  specials: ReadonlyMap<string, number>,
  limits: TokenizerLimits,
): Map<string, number> {
  const specialById = new Map([...specials].map(([t, id]) => [id, t]));
  const ranks = new Map<string, number>();
  const byId = new Map<number, string>();
  const entries = Object.entries(vocab);
  checkCount(entries.length, 'vocab entries', WHERE, limits.maxVocabSize, 'maxVocabSize');
  const budget = new TokenBudget(limits, WHERE);
  for (const [text, rawId] of entries) {
    const id = checkId(rawId, `model.vocab[${preview(text)}]`, WHERE, limits);
    const special = specialById.get(id);
    if (special !== undefined) {
      if (special !== text)
        throw invalidFormat(
          WHERE,
          `id ${id} is vocab token ${preview(text)} and added token ${preview(special)}`,
        );
      continue;
    }
    if (specials.has(text))
      throw invalidFormat(
        WHERE,
        `added token ${preview(text)} has id ${specials.get(text)} but vocab id ${id}`,
      );
    // A byte-level character is one byte: the text's length is the token's size, known before decoding.
    budget.add(text.length, `model.vocab[${preview(text)}]`);
    const bytes = byteLevelToBinary(text);
    if (bytes === undefined || bytes === '')
      throw invalidFormat(WHERE, `model.vocab token ${preview(text)} is not byte-level text`);
    const other = byId.get(id);
    if (other !== undefined)
      throw invalidFormat(
        WHERE,
        `model.vocab: id ${id} is used by both ${preview(other)} and ${preview(text)}`,
      );
    byId.set(id, text);
    ranks.set(bytes, id);
  }
  return ranks;
}

/** Checks that merges and ranks agree (see the module doc) — the merge list itself is not kept. */
function checkMerges(merges: unknown[], ranks: ReadonlyMap<string, number>): void {
  const made = new Set<string>();
  let lastId = -1;
  merges.forEach((m, i) => {
    const [left, right] = parseMerge(m, i);
    const at = `model.merges[${i}] (${preview(m)})`;
    const l = tokenRank(ranks, left, at);
    const r = tokenRank(ranks, right, at);
    const id = tokenRank(ranks, left + right, at);
    if (made.has(left + right)) return; // another split of an existing token: implied by its rank
    if (id <= l || id <= r || id <= lastId) {
      throw unsupported(
        WHERE,
        `${at} makes id ${id}, out of merge order (ids must grow with the merges); ranks cannot express it`,
      );
    }
    made.add(left + right);
    lastId = id;
  });
  for (const [bytes, id] of ranks) {
    if (bytes.length > 1 && !made.has(bytes)) {
      throw unsupported(
        WHERE,
        `model.vocab token ${preview(
          binaryToByteLevel(bytes),
        )} (id ${id}) is not produced by any merge`,
      );
    }
  }
}

/** Returns the binary strings of the merge's two parts. */
function parseMerge(m: unknown, i: number): [string, string] {
  const parts = typeof m === 'string' ? m.split(' ') : m;
  if (
    !Array.isArray(parts) ||
    parts.length !== 2 ||
    typeof parts[0] !== 'string' ||
    typeof parts[1] !== 'string' ||
    !parts[0] ||
    !parts[1]
  ) {
    throw invalidFormat(
      WHERE,
      `model.merges[${i}] must be "left right" or ["left", "right"], got ${preview(m)}`,
    );
  }
  const left = byteLevelToBinary(parts[0]);
  const right = byteLevelToBinary(parts[1]);
  if (left === undefined || right === undefined)
    throw invalidFormat(WHERE, `model.merges[${i}] is not byte-level text`);
  return [left, right];
}

function tokenRank(ranks: ReadonlyMap<string, number>, bytes: string, at: string): number {
  const id = ranks.get(bytes);
  if (id === undefined)
    throw invalidFormat(WHERE, `${at} uses unknown token ${preview(binaryToByteLevel(bytes))}`);
  return id;
}
