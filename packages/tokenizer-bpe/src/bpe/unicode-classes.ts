/**
 * Per-code-point character classes used by the hand-written pre-tokenizers (scanners.ts).
 *
 * Each code point gets a small bit set. The bits mirror the classes the tiktoken patterns use,
 * with the Rust `regex` crate's meanings (which tiktoken runs), not JavaScript's:
 *
 *   flagsOf(0x61)   // 'a'  → LETTER | LOWERISH
 *   flagsOf(0x41)   // 'A'  → LETTER | UPPERISH
 *   flagsOf(0x85)   // NEL  → SPACE   (Rust's `\s` is Unicode White_Space: it includes U+0085 …)
 *   flagsOf(0xfeff) // BOM  → 0       (… and excludes U+FEFF, which JavaScript's `\s` includes)
 *
 * Letters, numbers and marks come from the engine's Unicode tables (`\p{L}` etc.), computed lazily
 * one 256-code-point page at a time, so start-up costs nothing and a page costs ~50 µs once.
 *
 * Unicode versions: tiktoken 1.0.22's regex tables are Unicode 16; Node 20.20's are Unicode 17.
 * A sweep of every code point against tiktoken (digit-grouping contexts change the output) found
 * exactly the numbers new in Unicode 17 (TIKTOKEN_UNASSIGNED) classified differently; they are
 * pinned to "unassigned" here. Letters and marks new in 17 cannot change any output (no token
 * merges their bytes with a neighbour), which the same sweep confirmed.
 */

/** `\p{L}` */
export const LETTER = 1;
/** `\p{N}` */
export const NUMBER = 2;
/** `\p{M}` */
export const MARK = 4;
/** Rust `\s` (Unicode White_Space) */
export const SPACE = 8;
/** o200k's "upper-ish" set `[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]` */
export const UPPERISH = 16;
/** o200k's "lower-ish" set `[\p{Ll}\p{Lm}\p{Lo}\p{M}]` */
export const LOWERISH = 32;
/** `\r` or `\n` */
export const NEWLINE = 64;

/** Unicode White_Space, which is what `\s` means in Rust's regex crate. */
export const WHITE_SPACE_CODE_POINTS: readonly number[] = [
  0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0x85, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004,
  0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000,
];

/** Code points the engine may know (Unicode 17) but tiktoken's Unicode 16 tables do not: [first, last]. */
export const TIKTOKEN_UNASSIGNED: ReadonlyArray<readonly [number, number]> = [
  [0x11de0, 0x11de9], // digits new in Unicode 17
  [0x16ff4, 0x16ff6], // numbers new in Unicode 17
];

const RE_LETTER = /\p{L}/u;
const RE_NUMBER = /\p{N}/u;
const RE_MARK = /\p{M}/u;
const RE_UPPERISH = /[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]/u;
const RE_LOWERISH = /[\p{Ll}\p{Lm}\p{Lo}\p{M}]/u;
const SPACES = new Set(WHITE_SPACE_CODE_POINTS);

function computeFlags(cp: number): number {
  for (const [first, last] of TIKTOKEN_UNASSIGNED) if (cp >= first && cp <= last) return 0;
  // Surrogate code points never reach here as themselves: scanners map lone surrogates to U+FFFD,
  // as tiktoken's UTF-8 conversion does. String.fromCodePoint would still accept them.
  const s = String.fromCodePoint(cp);
  let f = 0;
  if (RE_LETTER.test(s)) f |= LETTER;
  if (RE_NUMBER.test(s)) f |= NUMBER;
  if (RE_MARK.test(s)) f |= MARK;
  if (RE_UPPERISH.test(s)) f |= UPPERISH;
  if (RE_LOWERISH.test(s)) f |= LOWERISH;
  if (SPACES.has(cp)) f |= SPACE;
  if (cp === 0x0a || cp === 0x0d) f |= NEWLINE;
  return f;
}

function buildPage(page: number): Uint8Array {
  const out = new Uint8Array(256);
  const base = page << 8;
  for (let k = 0; k < 256; k++) out[k] = computeFlags(base + k);
  return out;
}

/** Flags of the 128 ASCII code points, for the scanners' fast path: `ASCII_FLAGS[0x20] === SPACE`. */
export const ASCII_FLAGS: Uint8Array = buildPage(0).subarray(0, 128);

const pages: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(0x1100);

/** Flags of one code point (0…0x10FFFF): `flagsOf(0x4e2d) // '中' → LETTER|UPPERISH|LOWERISH`. */
export function flagsOf(cp: number): number {
  const page = pages[cp >>> 8];
  if (page !== undefined) return page[cp & 255]!;
  const built = buildPage(cp >>> 8);
  pages[cp >>> 8] = built;
  return built[cp & 255]!;
}
