/**
 * Hand-written pre-tokenizers, each exactly equivalent to one built-in pattern of patterns.ts but
 * several times faster than running the regex: no match objects, no substrings, ASCII fast paths.
 *
 * A scanner answers one question: "the piece that starts at `i` ends where?" The caller walks the
 * text piece by piece:
 *
 *   for (let i = 0; i < text.length; ) { const j = scanCl100k(text, i, text.length); piece(i, j); i = j; }
 *   // "Hello world!!\n" → "Hello" | " world" | "!!\n"
 *
 * Every built-in pattern matches at every position (its last alternatives cover all characters),
 * so pieces tile the text. `end` acts as the end of the text: `(?!\S)` and `\s*` must not see
 * past a special token that cuts the text there.
 *
 * Lone surrogates are read as U+FFFD, as tiktoken sees them after its lossy UTF-8 conversion.
 * The equivalence proofs are the differential tests in scanners.test.ts (against the regexes on
 * random text) and the tiktoken parity tests.
 */
import {
  ASCII_FLAGS,
  LETTER,
  LOWERISH,
  NEWLINE,
  NUMBER,
  SPACE,
  UPPERISH,
  flagsOf,
} from './unicode-classes.js';

/** Returns the end (exclusive) of the piece that starts at `i`; always > i when i < end. */
export type Scanner = (text: string, i: number, end: number) => number;

const APOSTROPHE = 0x27;
const SPACE_CHAR = 0x20;
const CR = 0x0d;
const LF = 0x0a;
const SLASH = 0x2f;

/** The code point at `i` (a lone surrogate reads as U+FFFD). */
function codePointAt(t: string, i: number, end: number): number {
  const c = t.charCodeAt(i);
  if (c < 0xd800 || c > 0xdfff) return c;
  if (c <= 0xdbff && i + 1 < end) {
    const d = t.charCodeAt(i + 1);
    if (d >= 0xdc00 && d <= 0xdfff) return ((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000;
  }
  return 0xfffd;
}

/** Flags of the code point at `i`, or 0 past the end. */
function flagsAt(t: string, i: number, end: number): number {
  if (i >= end) return 0;
  const c = t.charCodeAt(i);
  return c < 128 ? ASCII_FLAGS[c]! : flagsOf(codePointAt(t, i, end));
}

/** Width in UTF-16 units of the code point at `i`. */
function widthAt(t: string, i: number, end: number): number {
  return codePointAt(t, i, end) > 0xffff ? 2 : 1;
}

/** Advances over code points whose flags intersect `mask`. */
function skipAny(t: string, j: number, end: number, mask: number): number {
  while (j < end) {
    const c = t.charCodeAt(j);
    if (c < 128) {
      if ((ASCII_FLAGS[c]! & mask) === 0) return j;
      j++;
    } else {
      const cp = codePointAt(t, j, end);
      if ((flagsOf(cp) & mask) === 0) return j;
      j += cp > 0xffff ? 2 : 1;
    }
  }
  return j;
}

/** Advances over code points whose flags do NOT intersect `mask` (e.g. `[^\s\p{L}\p{N}]+`). */
function skipNone(t: string, j: number, end: number, mask: number): number {
  while (j < end) {
    const c = t.charCodeAt(j);
    if (c < 128) {
      if ((ASCII_FLAGS[c]! & mask) !== 0) return j;
      j++;
    } else {
      const cp = codePointAt(t, j, end);
      if ((flagsOf(cp) & mask) !== 0) return j;
      j += cp > 0xffff ? 2 : 1;
    }
  }
  return j;
}

/** `\p{N}{1,3}` starting at a number `i`. */
function numbersUpTo3(t: string, i: number, end: number): number {
  let j = i + widthAt(t, i, end);
  for (let n = 1; n < 3 && j < end && (flagsAt(t, j, end) & NUMBER) !== 0; n++) j += widthAt(t, j, end);
  return j;
}

/** Advances over `\r`/`\n` (plus `/` when `slash`), the trailer of the punctuation alternative. */
function skipNewlines(t: string, j: number, end: number, slash: boolean): number {
  while (j < end) {
    const c = t.charCodeAt(j);
    if (c !== CR && c !== LF && !(slash && c === SLASH)) return j;
    j++;
  }
  return j;
}

/**
 * Length of a contraction at `i` or 0: `'s 't 're 've 'm 'll 'd`, case-insensitive when `fold`
 * (tiktoken's `(?i:…)` uses Unicode simple case folding, so `ſ` (U+017F) counts as an `s`).
 */
function contractionLength(t: string, i: number, end: number, fold: boolean): number {
  if (i + 1 >= end || t.charCodeAt(i) !== APOSTROPHE) return 0;
  let a = t.charCodeAt(i + 1);
  if (fold) a = a === 0x17f ? 0x73 : a | 0x20;
  if (a === 0x73 || a === 0x74 || a === 0x6d || a === 0x64) return fold || a === t.charCodeAt(i + 1) ? 2 : 0;
  if (i + 2 >= end || (!fold && a !== t.charCodeAt(i + 1))) return 0;
  const raw = t.charCodeAt(i + 2);
  const b = fold ? raw | 0x20 : raw;
  if ((a === 0x72 || a === 0x76) && b === 0x65) return 3; // 're 've
  if (a === 0x6c && b === 0x6c) return 3; // 'll
  return 0;
}

/**
 * The whitespace alternatives shared by all built-ins, for a run starting at whitespace `i`:
 * `\s*[\r\n]+` (cl100k/o200k: up to the last newline of the run), then `\s+(?!\S)` (the run,
 * minus its last char unless it reaches the end), then `\s+` (a single char before a non-space).
 */
function whitespace(t: string, i: number, end: number, newlineRule: boolean): number {
  let k = i;
  let afterNewline = -1;
  while (k < end) {
    const c = t.charCodeAt(k);
    const f = c < 128 ? ASCII_FLAGS[c]! : flagsOf(c); // every space is a BMP code point
    if ((f & SPACE) === 0) break;
    k++;
    if ((f & NEWLINE) !== 0) afterNewline = k;
  }
  if (newlineRule && afterNewline > 0) return afterNewline;
  return k === end || k - i < 2 ? k : k - 1;
}

/**
 * cl100k_base: `'(?i:s|t|re|ve|m|ll|d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
 * ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`. `scanCl100k("it's", 2, 4) === 4`.
 */
export const scanCl100k: Scanner = (t, i, end) => {
  const c = t.charCodeAt(i);
  const f0 = c < 128 ? ASCII_FLAGS[c]! : flagsAt(t, i, end);
  if ((f0 & LETTER) !== 0) return skipAny(t, i, end, LETTER);
  if (c === APOSTROPHE) {
    const n = contractionLength(t, i, end, true);
    if (n > 0) return i + n;
  }
  const w0 = c < 128 ? 1 : widthAt(t, i, end);
  if ((f0 & (NUMBER | NEWLINE)) === 0 && (flagsAt(t, i + w0, end) & LETTER) !== 0) {
    return skipAny(t, i + w0, end, LETTER);
  }
  if ((f0 & NUMBER) !== 0) return numbersUpTo3(t, i, end);
  const PUNCT = SPACE | LETTER | NUMBER;
  if (c === SPACE_CHAR && (flagsAt(t, i + 1, end) & PUNCT) === 0 && i + 1 < end) {
    return skipNewlines(t, skipNone(t, i + 1, end, PUNCT), end, false);
  }
  if ((f0 & SPACE) === 0) return skipNewlines(t, skipNone(t, i, end, PUNCT), end, false);
  return whitespace(t, i, end, true);
};

/** Start of the last LOWERISH code point in [s, j), walking back from `j`; -1 if none. */
function lastLowerish(t: string, s: number, j: number, end: number): number {
  while (j > s) {
    let k = j - 1;
    const c = t.charCodeAt(k);
    if (c >= 0xdc00 && c <= 0xdfff && k > s) {
      const h = t.charCodeAt(k - 1);
      if (h >= 0xd800 && h <= 0xdbff) k--;
    }
    if ((flagsAt(t, k, end) & LOWERISH) !== 0) return k;
    j = k;
  }
  return -1;
}

/**
 * o200k's first alternative from `s` (after the optional prefix): `U*W+C?` with
 * U = [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}], W = [\p{Ll}\p{Lm}\p{Lo}\p{M}], C = a contraction.
 * Greedy `U*` backtracks until `W+` can start: W+ starts at the last W in [s, end of the U run].
 */
function o200kUpperLower(t: string, s: number, end: number): number {
  const uEnd = skipAny(t, s, end, UPPERISH);
  let p = (flagsAt(t, uEnd, end) & LOWERISH) !== 0 ? uEnd : lastLowerish(t, s, uEnd, end);
  if (p < 0) return -1;
  p = skipAny(t, p, end, LOWERISH);
  return p + contractionLength(t, p, end, true);
}

/** o200k's second alternative from `s`: `U+W*C?`. */
function o200kUpperOnly(t: string, s: number, end: number): number {
  if ((flagsAt(t, s, end) & UPPERISH) === 0) return -1;
  const p = skipAny(t, skipAny(t, s, end, UPPERISH), end, LOWERISH);
  return p + contractionLength(t, p, end, true);
}

/** o200k's two word alternatives, each tried with then without the optional prefix char. */
function o200kWord(t: string, i: number, end: number, f0: number): number {
  const prefix = (f0 & (LETTER | NUMBER | NEWLINE)) === 0;
  const w0 = widthAt(t, i, end);
  let r = prefix ? o200kUpperLower(t, i + w0, end) : -1;
  if (r < 0) r = o200kUpperLower(t, i, end);
  if (r < 0 && prefix) r = o200kUpperOnly(t, i + w0, end);
  if (r < 0) r = o200kUpperOnly(t, i, end);
  return r;
}

/**
 * o200k's first alternative from `s` when it starts like an ASCII word, else -1:
 * - [a-z]: `U*` is empty, so the piece is the lower-ish run (+ contraction);
 * - [A-Z][a-z]: `U*` is just the capital and `W+` starts right after it.
 */
function asciiWord(t: string, s: number, end: number): number {
  if (s >= end) return -1;
  const c = t.charCodeAt(s);
  let j: number;
  if (c >= 0x61 && c <= 0x7a) j = s + 1;
  else if (c >= 0x41 && c <= 0x5a && s + 1 < end && t.charCodeAt(s + 1) >= 0x61 && t.charCodeAt(s + 1) <= 0x7a) j = s + 2;
  else return -1;
  j = skipAny(t, j, end, LOWERISH);
  return j + contractionLength(t, j, end, true);
}

/**
 * o200k_base: `[^\r\n\p{L}\p{N}]?U*W+C?|[^\r\n\p{L}\p{N}]?U+W*C?|\p{N}{1,3}|
 * ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+` (U, W, C as in o200kUpperLower).
 * `scanO200k("Hello's world", 0, 13) === 7`.
 */
export const scanO200k: Scanner = (t, i, end) => {
  const c = t.charCodeAt(i);
  let wordPossible = true;
  if (c < 128) {
    // Fast paths for ASCII words, optionally after one ASCII prefix char (e.g. " word", "(Word").
    let r = asciiWord(t, i, end);
    if (r < 0 && (ASCII_FLAGS[c]! & (LETTER | NUMBER | NEWLINE)) === 0) r = asciiWord(t, i + 1, end);
    if (r >= 0) return r;
    // A non-letter ASCII char followed by end or a non-letter ASCII char starts no word
    // (neither is upper- or lower-ish): skip the word alternatives.
    const next = i + 1 < end ? t.charCodeAt(i + 1) : 0;
    wordPossible = (ASCII_FLAGS[c]! & LETTER) !== 0 || next >= 128 || (ASCII_FLAGS[next]! & LETTER) !== 0;
  }
  const f0 = flagsAt(t, i, end);
  if ((f0 & NUMBER) === 0) {
    if (!wordPossible) return o200kRest(t, i, end, c, f0);
    const r = o200kWord(t, i, end, f0);
    if (r >= 0) return r;
  } else {
    return numbersUpTo3(t, i, end);
  }
  return o200kRest(t, i, end, c, f0);
};

/** o200k's alternatives after the words and numbers: punctuation, then whitespace. */
function o200kRest(t: string, i: number, end: number, c: number, f0: number): number {
  const PUNCT = SPACE | LETTER | NUMBER;
  if (c === SPACE_CHAR && i + 1 < end && (flagsAt(t, i + 1, end) & PUNCT) === 0) {
    return skipNewlines(t, skipNone(t, i + 1, end, PUNCT), end, true);
  }
  if ((f0 & SPACE) === 0) return skipNewlines(t, skipNone(t, i, end, PUNCT), end, true);
  return whitespace(t, i, end, true);
}

/**
 * r50k_base / p50k_base (GPT-2): `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+|
 * ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`. `scanGpt2("  hi", 0, 4) === 1`.
 */
export const scanGpt2: Scanner = (t, i, end) => {
  const c = t.charCodeAt(i);
  if (c === APOSTROPHE) {
    const n = contractionLength(t, i, end, false);
    if (n > 0) return i + n;
  }
  let s = i;
  let f = c < 128 ? ASCII_FLAGS[c]! : flagsAt(t, i, end);
  if (c === SPACE_CHAR && i + 1 < end) {
    const f1 = flagsAt(t, i + 1, end);
    if ((f1 & SPACE) === 0) {
      s = i + 1;
      f = f1;
    }
  }
  if ((f & LETTER) !== 0) return skipAny(t, s, end, LETTER);
  if ((f & NUMBER) !== 0) return skipAny(t, s, end, NUMBER);
  if ((f & SPACE) === 0) return skipNone(t, s, end, SPACE | LETTER | NUMBER);
  return whitespace(t, i, end, false);
};
