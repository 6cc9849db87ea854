/**
 * Saving and loading tokenizer definitions in any supported file format, sniffed on load.
 *
 *   await saveTokenizer('tok.json', def);                    // compact (default)
 *   await saveTokenizer('tokenizer.json', def, 'hf');        // HF tokenizers
 *   const back = await loadTokenizer('tokenizer.json');      // format detected from the content
 *
 * Writes are atomic (temp file in the same directory, then rename). A `.tiktoken` file stores
 * only the ranks: loading one takes the pattern and special tokens from the options (or, for a
 * file named after a built-in encoding such as cl100k_base.tiktoken, that encoding's pattern).
 *
 * A tokenizer file is untrusted input: loading refuses what is not a regular file (a directory,
 * /dev/zero, a FIFO) before reading, reads at most `maxFileBytes`, and checks every size against
 * TOKENIZER_LIMITS (or `opts.limits`) before building anything (LIMIT_EXCEEDED, UNSAFE_PATTERN).
 */
import { basename, extname } from 'node:path';
import type { TokenizerDefinition } from '../definition.js';
import { TokenizerError } from '../errors.js';
import { type TokenizerLimits, limitExceeded, parseJsonLimited, readTextFileLimited, resolveLimits } from '../limits.js';
import { writeTextAtomic } from './atomic-write.js';
import { fromHfTokenizerJson, toHfTokenizerJson } from './hf-json.js';
import { isObject } from './json-checks.js';
import { fromCompactJson, stringifyCompactJson, toCompactJson } from './minbpe-json.js';
import { checkFilePattern, checkSpecials } from './size-checks.js';
import { parseTiktokenFile, serializeTiktokenFile } from './tiktoken.js';
import { CL100K_PATTERN, GPT2_PATTERN, O200K_PATTERN } from '../patterns.js';

export type TokenizerFileFormat = 'compact' | 'hf' | 'tiktoken';

export const TOKENIZER_FILE_FORMATS: readonly TokenizerFileFormat[] = ['compact', 'hf', 'tiktoken'];

/**
 * The file text for `def` in `format`.
 *
 *   serializeTokenizer(def, 'hf').startsWith('{')   // true
 */
export function serializeTokenizer(def: TokenizerDefinition, format: TokenizerFileFormat): string {
  switch (format) {
    case 'compact':
      return stringifyCompactJson(toCompactJson(def));
    case 'hf':
      return `${JSON.stringify(toHfTokenizerJson(def), null, 2)}\n`;
    case 'tiktoken':
      return serializeTiktokenFile(def.ranks); // pattern, specials and name are not stored
    default:
      throw new TokenizerError(
        'INVALID_ARGUMENT',
        `unknown tokenizer file format ${JSON.stringify(format)} (compact, hf, tiktoken)`,
      );
  }
}

/**
 * Writes `def` to `path` atomically.
 *
 *   await saveTokenizer('out/tok.json', trainBpeSync(text, { vocabSize: 4096 }));
 */
export async function saveTokenizer(
  path: string,
  def: TokenizerDefinition,
  format: TokenizerFileFormat = 'compact',
): Promise<void> {
  await writeTextAtomic(path, serializeTokenizer(def, format));
}

/** Options for reading formats that do not store everything (see `parseTokenizerFile`). */
export interface LoadTokenizerOptions {
  /** Name for formats without one (hf, tiktoken); default: the file name without extension. */
  name?: string;
  /** tiktoken files only: the pre-tokenization pattern (JS regex source). */
  pattern?: string;
  /** tiktoken files only: special token text → id (default none). */
  specialTokens?: ReadonlyMap<string, number> | Record<string, number>;
  /** Overrides of TOKENIZER_LIMITS (e.g. `{ maxFileBytes: 2 ** 30 }` for a huge trusted file). */
  limits?: Partial<TokenizerLimits>;
}

/** Patterns of the built-in encodings, for .tiktoken files named after them. */
const KNOWN_TIKTOKEN_PATTERNS: Readonly<Record<string, string>> = {
  r50k_base: GPT2_PATTERN,
  p50k_base: GPT2_PATTERN,
  cl100k_base: CL100K_PATTERN,
  o200k_base: O200K_PATTERN,
};

/**
 * Which format `text` is in: JSON with "format": "llm-ts-bpe" → compact, JSON with a "model" →
 * hf, anything else → tiktoken (base64 token + rank per line).
 *
 *   sniffTokenizerFormat('IQ== 0\n')   // 'tiktoken'
 */
export function sniffTokenizerFormat(text: string): TokenizerFileFormat {
  return sniff(text, resolveLimits()).format;
}

/** The format, and for JSON the parsed value (parsed once, with the nesting limit). */
function sniff(text: string, limits: TokenizerLimits): { format: TokenizerFileFormat; json?: unknown } {
  if (text.length > limits.maxFileBytes) throw limitExceeded(`tokenizer text of ${text.length} characters`, limits.maxFileBytes, 'maxFileBytes');
  if (!/^\s*\{/.test(text)) return { format: 'tiktoken' };
  const json = parseJsonLimited(text, 'tokenizer file', limits, 'looks like JSON but does not parse');
  if (isObject(json) && json.format === 'llm-ts-bpe') return { format: 'compact', json };
  if (isObject(json) && 'model' in json) return { format: 'hf', json };
  throw new TokenizerError(
    'INVALID_FORMAT',
    'unrecognised JSON tokenizer file: neither llm-ts-bpe ("format") nor tokenizer.json ("model")',
  );
}

/**
 * Parses file text in whichever format it is.
 *
 *   parseTokenizerFile(readFileSync('tok.json', 'utf8')).format   // 'compact'
 *   parseTokenizerFile(ranksText, { pattern: CL100K_PATTERN }).format   // 'tiktoken'
 */
export function parseTokenizerFile(
  text: string,
  opts: LoadTokenizerOptions = {},
): { definition: TokenizerDefinition; format: TokenizerFileFormat } {
  const limits = resolveLimits(opts.limits);
  const { format, json } = sniff(text, limits);
  const name = opts.name ?? 'tokenizer';
  if (format !== 'tiktoken' && (opts.pattern !== undefined || opts.specialTokens !== undefined)) {
    throw new TokenizerError(
      'INVALID_ARGUMENT',
      `the pattern and special tokens of a ${format} file come from the file; they apply to .tiktoken files only`,
    );
  }
  switch (format) {
    case 'compact':
      return { definition: fromCompactJson(json, { limits }), format };
    case 'hf':
      return { definition: fromHfTokenizerJson(json, { name, limits }), format };
    case 'tiktoken':
      return { definition: tiktokenDefinition(text, name, opts, limits), format };
  }
}

/**
 * Reads a tokenizer file in any supported format.
 *
 *   const def = await loadTokenizer('tokenizer.json');
 *   const cl = await loadTokenizer('cl100k_base.tiktoken');   // pattern from the file name
 */
export async function loadTokenizer(
  path: string,
  opts: LoadTokenizerOptions = {},
): Promise<TokenizerDefinition> {
  const limits = resolveLimits(opts.limits);
  const text = await readTextFileLimited(path, limits, 'tokenizer file');
  const name = opts.name ?? basename(path, extname(path));
  return parseTokenizerFile(text, { ...opts, name, limits }).definition;
}

function tiktokenDefinition(text: string, name: string, opts: LoadTokenizerOptions, limits: TokenizerLimits): TokenizerDefinition {
  const pattern = opts.pattern ?? KNOWN_TIKTOKEN_PATTERNS[name];
  if (pattern === undefined) {
    throw new TokenizerError(
      'INVALID_ARGUMENT',
      `a .tiktoken file stores only ranks: give its pre-tokenization pattern (and special tokens, if any) ` +
        `when loading ${JSON.stringify(name)} (CLI: --pattern and --special TEXT=ID)`,
    );
  }
  const specials = opts.specialTokens ?? {};
  const specialTokens = new Map(specials instanceof Map ? specials : Object.entries(specials));
  checkFilePattern(pattern, 'pattern', limits);
  const ranks = parseTiktokenFile(text, limits);
  const rankIds = new Set(ranks.values());
  for (const [token, id] of specialTokens) {
    if (!Number.isSafeInteger(id) || id < 0 || rankIds.has(id)) {
      throw new TokenizerError(
        'INVALID_ARGUMENT',
        `special token ${JSON.stringify(token)}: id ${id} is not a free non-negative integer (ranks use it)`,
      );
    }
  }
  checkSpecials(specialTokens, 'special tokens', limits);
  return { name, pattern, ranks, specialTokens };
}
