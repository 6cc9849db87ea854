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
import { TIKTOKEN_PAT_STRS, translateTiktokenPattern } from '../pattern-translate.js';

export { TIKTOKEN_PAT_STRS };

/** Our JS pattern → the regex source to store in a tokenizer.json Split. */
export function patternToHfRegex(pattern: string): string {
  return TIKTOKEN_PAT_STRS.get(pattern) ?? pattern;
}

/** A tokenizer.json Split regex → our JS pattern (throws UNSUPPORTED if untranslatable). */
export function hfRegexToPattern(regex: string): string {
  return translateTiktokenPattern(regex);
}
