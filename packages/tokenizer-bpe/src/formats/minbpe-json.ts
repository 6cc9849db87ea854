/**
 * Our compact JSON format, in the spirit of minbpe's .model file: the merge list as pairs of
 * ranks, from which every token's bytes follow.
 *
 *   {
 *     "format": "llm-ts-bpe", "version": 1, "name": "tiny", "pattern": "…",
 *     "specialTokens": { "<|endoftext|>": 258 },
 *     "merges": [[97,98], [256,99]]      // token 256 = 'a'+'b', token 257 = 'ab'+'c'
 *   }
 *
 * Byte tokens are implicit (rank = byte value); merge i makes the token of rank 256 + i.
 * Reading a file checks its sizes against `limits` (LIMIT_EXCEEDED) before building anything —
 * merges can double a token's length each time, so each new token's length is checked from its
 * parts' lengths before the two are joined — and vets the pattern (UNSAFE_PATTERN).
 */
import type { TokenizerDefinition } from '../definition.js';
import { TokenizerError } from '../errors.js';
import { type TokenizerLimits, resolveLimits } from '../limits.js';
import { deriveMerges } from './derive-merges.js';
import {
  checkId,
  dict,
  field,
  invalidFormat,
  isObject,
  parseJsonObject,
  preview,
  stringField,
  type JsonObject,
} from './json-checks.js';
import { TokenBudget, checkCount, checkFilePattern, checkSpecial } from './size-checks.js';

const WHERE = 'llm-ts-bpe JSON';

/** The compact format's JSON shape. */
export interface CompactTokenizerJson {
  format: 'llm-ts-bpe';
  version: 1;
  name: string;
  pattern: string;
  specialTokens: Record<string, number>;
  merges: Array<[number, number]>;
}

/**
 * The compact form of `def`. Needs byte tokens at ranks 0–255 (rank = byte value) and merged
 * tokens at ranks 256, 257, … without gaps — anything `trainBpe` makes; otherwise (e.g. a
 * tiktoken file's ranks) throws UNSUPPORTED: save those as 'hf' or 'tiktoken'.
 *
 *   toCompactJson(trainBpeSync('abab', { vocabSize: 257 })).merges   // [[97, 98]]
 */
export function toCompactJson(def: TokenizerDefinition): CompactTokenizerJson {
  for (let b = 0; b < 256; b++) {
    if (def.ranks.get(String.fromCharCode(b)) !== b) {
      throw new TokenizerError(
        'UNSUPPORTED',
        `compact format: byte ${b} must have rank ${b}; save as 'hf' or 'tiktoken' instead`,
      );
    }
  }
  const merges = deriveMerges(def.ranks).map((m, i): [number, number] => {
    if (m.rank !== 256 + i) {
      throw new TokenizerError(
        'UNSUPPORTED',
        `compact format: ranks must run 256, 257, … without gaps (found ${m.rank} at position ${256 + i})`,
      );
    }
    return [def.ranks.get(m.left)!, def.ranks.get(m.right)!];
  });
  const specialTokens = dict<number>();
  for (const [text, id] of def.specialTokens) specialTokens[text] = id;
  return { format: 'llm-ts-bpe', version: 1, name: def.name, pattern: def.pattern, specialTokens, merges };
}

/**
 * JSON text for the compact form: one merge per line, so files diff well.
 *
 *   stringifyCompactJson(toCompactJson(def))   // '{\n  "format": "llm-ts-bpe",\n …'
 */
export function stringifyCompactJson(json: CompactTokenizerJson): string {
  const head = JSON.stringify({ ...json, merges: undefined }, null, 2).slice(0, -2); // drop "\n}"
  const merges = json.merges.map((m) => `    [${m[0]},${m[1]}]`).join(',\n');
  return `${head},\n  "merges": [${merges ? `\n${merges}\n  ` : ''}]\n}\n`;
}

/**
 * Reads the compact format from text or a parsed object; INVALID_FORMAT names the bad field.
 *
 *   fromCompactJson('{"format":"llm-ts-bpe","version":1,"name":"t","pattern":"\\\\S+",' +
 *     '"specialTokens":{},"merges":[[97,98]]}').ranks.get('ab')   // 256
 */
export function fromCompactJson(input: unknown, opts: { limits?: Partial<TokenizerLimits> } = {}): TokenizerDefinition {
  const limits = resolveLimits(opts.limits);
  const root = parseJsonObject(input, WHERE, limits);
  if (field(root, 'format') !== 'llm-ts-bpe') throw invalidFormat(WHERE, '"format" must be "llm-ts-bpe"');
  if (field(root, 'version') !== 1) {
    throw new TokenizerError(
      'UNSUPPORTED',
      `${WHERE}: version ${JSON.stringify(field(root, 'version'))} is not supported (only 1)`,
    );
  }
  const name = stringField(root, 'name', WHERE);
  const pattern = readPattern(root, limits);
  const ranks = readMerges(field(root, 'merges'), limits);
  const specialTokens = readSpecials(field(root, 'specialTokens'), ranks.size, limits);
  return { name, pattern, ranks, specialTokens };
}

function readPattern(root: JsonObject, limits: TokenizerLimits): string {
  const pattern = stringField(root, 'pattern', WHERE);
  try {
    new RegExp(pattern, 'gu');
  } catch (err) {
    throw invalidFormat(WHERE, `"pattern" does not compile: ${(err as Error).message}`);
  }
  checkFilePattern(pattern, `${WHERE}: "pattern"`, limits);
  return pattern;
}

function readMerges(merges: unknown, limits: TokenizerLimits): Map<string, number> {
  if (!Array.isArray(merges))
    throw invalidFormat(WHERE, '"merges" must be an array of [leftRank, rightRank]');
  checkCount(merges.length, 'merges', WHERE, limits.maxMerges, 'maxMerges');
  checkCount(256 + merges.length, 'tokens (256 bytes + the merges)', WHERE, limits.maxVocabSize, 'maxVocabSize');
  const tokens: string[] = [];
  for (let b = 0; b < 256; b++) tokens.push(String.fromCharCode(b));
  const ranks = new Map(tokens.map((t, r) => [t, r]));
  const budget = new TokenBudget(limits, WHERE);
  merges.forEach((m, i) => {
    const at = `merges[${i}]`;
    if (!Array.isArray(m) || m.length !== 2)
      throw invalidFormat(WHERE, `${at} must be [leftRank, rightRank]`);
    const [l, r] = [checkId(m[0], `${at}[0]`, WHERE, limits), checkId(m[1], `${at}[1]`, WHERE, limits)];
    const limit = 256 + i;
    if (l >= limit || r >= limit)
      throw invalidFormat(
        WHERE,
        `${at} refers to rank ${Math.max(l, r)}, which is not made before merge ${i}`,
      );
    budget.add(tokens[l]!.length + tokens[r]!.length, at);
    const bytes = tokens[l]! + tokens[r]!;
    if (ranks.has(bytes)) throw invalidFormat(WHERE, `${at} remakes the bytes of rank ${ranks.get(bytes)}`);
    tokens.push(bytes);
    ranks.set(bytes, limit);
  });
  return ranks;
}

function readSpecials(specials: unknown, rankCount: number, limits: TokenizerLimits): Map<string, number> {
  if (!isObject(specials)) throw invalidFormat(WHERE, '"specialTokens" must be an object { text: id }');
  const out = new Map<string, number>();
  const ids = new Set<number>();
  const entries = Object.entries(specials);
  checkCount(entries.length, 'special tokens', WHERE, limits.maxSpecialTokens, 'maxSpecialTokens');
  for (const [text, raw] of entries) {
    const id = checkId(raw, `specialTokens[${preview(text)}]`, WHERE, limits);
    if (text === '') throw invalidFormat(WHERE, 'specialTokens has an empty token');
    checkSpecial(text, id, WHERE, limits);
    if (id < rankCount)
      throw invalidFormat(WHERE, `special token ${preview(text)} has id ${id}, which is a rank`);
    if (ids.has(id)) throw invalidFormat(WHERE, `special token id ${id} is used twice`);
    ids.add(id);
    out.set(text, id);
  }
  return out;
}
