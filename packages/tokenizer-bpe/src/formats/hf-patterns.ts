/**
 * Pre-tokenization patterns as tokenizer.json spells them (Rust / Oniguruma syntax, like
 * tiktoken's `pat_str`) versus ours (JS sources for flags 'gu', patterns.ts).
 *
 *   patternToHfRegex(CL100K_PATTERN)   // "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|…"
 *   hfRegexToPattern(thatString)       // CL100K_PATTERN again
 *
 * Built-in patterns are written as their original pat_str (what Llama 3's tokenizer.json holds);
 * any other pattern is written verbatim, and reading translates with `translateTiktokenPattern`
 * (identity for sources without `\s \S \d \w . (?i:` or possessive quantifiers).
 */
import { translateTiktokenPattern } from '../pattern-translate.js';
import { CL100K_PATTERN, GPT2_PATTERN, O200K_PATTERN } from '../patterns.js';

const CONTRACTIONS = String.raw`'s|'t|'re|'ve|'m|'ll|'d`;

/** tiktoken's pat_strs (r50k/p50k, cl100k_base, o200k_base). */
export const TIKTOKEN_PAT_STRS: ReadonlyMap<string, string> = new Map([
  [GPT2_PATTERN, String.raw`${CONTRACTIONS}| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`],
  [
    CL100K_PATTERN,
    String.raw`(?i:${CONTRACTIONS})|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`,
  ],
  [
    O200K_PATTERN,
    [
      String.raw`[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:${CONTRACTIONS})?`,
      String.raw`[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:${CONTRACTIONS})?`,
      String.raw`\p{N}{1,3}`,
      String.raw` ?[^\s\p{L}\p{N}]+[\r\n/]*`,
      String.raw`\s*[\r\n]+`,
      String.raw`\s+(?!\S)`,
      String.raw`\s+`,
    ].join('|'),
  ],
]);

/** Our JS pattern → the regex source to store in a tokenizer.json Split. */
export function patternToHfRegex(pattern: string): string {
  return TIKTOKEN_PAT_STRS.get(pattern) ?? pattern;
}

/** A tokenizer.json Split regex → our JS pattern (throws UNSUPPORTED if untranslatable). */
export function hfRegexToPattern(regex: string): string {
  return translateTiktokenPattern(regex);
}
