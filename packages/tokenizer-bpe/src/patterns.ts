/**
 * Built-in pre-tokenization patterns (JavaScript regex sources, compiled with flags 'gu'),
 * translated from tiktoken's `pat_str`s so that they split text exactly as tiktoken does:
 *
 *   compilePattern(CL100K_PATTERN).exec("I'm here") // → "I", then "'m", then " here"
 *
 * The translation is not literal because tiktoken runs the Rust `regex` / `fancy-regex` crates:
 * - Rust's `\s` is Unicode White_Space (includes U+0085, excludes U+FEFF); JavaScript's `\s` is
 *   not, so `\s`/`\S` become the explicit class below.
 * - JavaScript has no inline `(?i:…)`: the contractions are spelled `'[sSſ]` etc. (Rust's case
 *   folding maps `ſ` U+017F to `s`).
 */
import { SafePattern } from './pattern/safe-pattern.js';

/** Unicode White_Space as the inside of a character class (Rust's `\s`). */
export const WHITE_SPACE_CLASS = String.raw`\t-\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000`;

const S = `[${WHITE_SPACE_CLASS}]`;
const NOT_S = `[^${WHITE_SPACE_CLASS}]`;
const CONTRACTION = String.raw`'(?:[sS\u017F]|[tT]|[rR][eE]|[vV][eE]|[mM]|[lL][lL]|[dD])`;

/**
 * GPT-2 / r50k_base / p50k_base: `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`.
 * `"Hello  world" → "Hello" | " " | " world"`.
 */
export const GPT2_PATTERN = String.raw`'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^${WHITE_SPACE_CLASS}\p{L}\p{N}]+|${S}+(?!${NOT_S})|${S}+`;

/**
 * cl100k_base (GPT-3.5 / GPT-4). Digits go in groups of at most three; a run of spaces keeps its
 * last space for the next word. `"x = 12345\n" → "x" | " =" | " " | "123" | "45" | "\n"`.
 */
export const CL100K_PATTERN = String.raw`${CONTRACTION}|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^${WHITE_SPACE_CLASS}\p{L}\p{N}]+[\r\n]*|${S}*[\r\n]+|${S}+(?!${NOT_S})|${S}+`;

const UPPERISH = String.raw`[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]`;
const LOWERISH = String.raw`[\p{Ll}\p{Lm}\p{Lo}\p{M}]`;

/**
 * o200k_base (GPT-4o): words split at case changes and keep a trailing contraction.
 * `"HelloWorld's" → "Hello" | "World's"`.
 */
export const O200K_PATTERN = [
  String.raw`[^\r\n\p{L}\p{N}]?${UPPERISH}*${LOWERISH}+(?:${CONTRACTION})?`,
  String.raw`[^\r\n\p{L}\p{N}]?${UPPERISH}+${LOWERISH}*(?:${CONTRACTION})?`,
  String.raw`\p{N}{1,3}`,
  String.raw` ?[^${WHITE_SPACE_CLASS}\p{L}\p{N}]+[\r\n/]*`,
  String.raw`${S}*[\r\n]+`,
  String.raw`${S}+(?!${NOT_S})`,
  String.raw`${S}+`,
].join('|');

/**
 * Compiles a pre-tokenization pattern with flags 'gu'; a bad source throws
 * TokenizerError('INVALID_ARGUMENT'). A pattern other than the built-in ones is first vetted as
 * the Tokenizer vets it (UNSAFE_PATTERN / LIMIT_EXCEEDED when refused). The RegExp runs on
 * JavaScript's backtracking engine: use it for trusted patterns and inspection; text from
 * untrusted sources goes through `compileSafePattern(source)` (what Tokenizer and trainBpe use),
 * which gives the same matches in linear time. `compilePattern('\\p{L}+').flags === 'gu'`.
 */
export function compilePattern(source: string): RegExp {
  if (source !== GPT2_PATTERN && source !== CL100K_PATTERN && source !== O200K_PATTERN) new SafePattern(source);
  return new RegExp(source, 'gu');
}
