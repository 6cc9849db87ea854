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
 */
import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import type { TokenizerDefinition } from '../definition.js';
import { TokenizerError } from '../errors.js';
import { writeTextAtomic } from './atomic-write.js';
import { fromHfTokenizerJson, toHfTokenizerJson } from './hf-json.js';
import { isObject } from './json-checks.js';
import { fromCompactJson, stringifyCompactJson, toCompactJson } from './minbpe-json.js';
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
  if (!/^\s*\{/.test(text)) return 'tiktoken';
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new TokenizerError(
      'INVALID_FORMAT',
      `tokenizer file looks like JSON but does not parse: ${(err as Error).message}`,
      { cause: err },
    );
  }
  if (isObject(json) && json.format === 'llm-ts-bpe') return 'compact';
  if (isObject(json) && 'model' in json) return 'hf';
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
  const format = sniffTokenizerFormat(text);
  const name = opts.name ?? 'tokenizer';
  if (format !== 'tiktoken' && (opts.pattern !== undefined || opts.specialTokens !== undefined)) {
    throw new TokenizerError(
      'INVALID_ARGUMENT',
      `the pattern and special tokens of a ${format} file come from the file; they apply to .tiktoken files only`,
    );
  }
  switch (format) {
    case 'compact':
      return { definition: fromCompactJson(text), format };
    case 'hf':
      return { definition: fromHfTokenizerJson(text, { name }), format };
    case 'tiktoken':
      return { definition: tiktokenDefinition(text, name, opts), format };
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
  const text = await readFile(path, 'utf8');
  const name = opts.name ?? basename(path, extname(path));
  return parseTokenizerFile(text, { ...opts, name }).definition;
}

function tiktokenDefinition(text: string, name: string, opts: LoadTokenizerOptions): TokenizerDefinition {
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
  const ranks = parseTiktokenFile(text);
  const rankIds = new Set(ranks.values());
  for (const [token, id] of specialTokens) {
    if (!Number.isSafeInteger(id) || id < 0 || rankIds.has(id)) {
      throw new TokenizerError(
        'INVALID_ARGUMENT',
        `special token ${JSON.stringify(token)}: id ${id} is not a free non-negative integer (ranks use it)`,
      );
    }
  }
  return { name, pattern, ranks, specialTokens };
}
