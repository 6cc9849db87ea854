/**
 * Sets of Unicode code points as sorted, disjoint, non-adjacent inclusive ranges, flattened:
 * [lo0, hi0, lo1, hi1, …]. The regex parser builds them; the NFA and DFA test membership.
 *
 *   const vowels = charSet([[0x61, 0x61], [0x65, 0x65]]);   // [a e] → [97, 97, 101, 101]
 *   contains(vowels, 0x65)                                   // → true
 *   negate(charSet([[0, 0x60]]))                             // → [0x61, 0x10ffff]
 */

/** Sorted, disjoint, non-adjacent inclusive ranges [lo0, hi0, lo1, hi1, …]. */
export type CharSet = readonly number[];

/** Largest Unicode code point. */
export const MAX_CODE_POINT = 0x10ffff;

/**
 * Normalizes ranges (any order, overlapping, touching) into a CharSet.
 *
 *   charSet([[5, 9], [0, 3], [4, 4]])   // → [0, 9]
 */
export function charSet(ranges: ReadonlyArray<readonly [number, number]>): CharSet {
  const sorted = ranges.filter(([lo, hi]) => lo <= hi).sort((a, b) => a[0] - b[0]);
  const out: number[] = [];
  for (const [lo, hi] of sorted) {
    const last = out.length - 1;
    if (last > 0 && lo <= out[last]! + 1) out[last] = Math.max(out[last]!, hi);
    else out.push(lo, hi);
  }
  return out;
}

/** Pairs of a CharSet, for building new sets. `pairs([1, 2, 5, 5])` → [[1, 2], [5, 5]]. */
function pairs(set: CharSet): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let i = 0; i < set.length; i += 2) out.push([set[i]!, set[i + 1]!]);
  return out;
}

/** Union of sets. `union([0, 3], [2, 9])` → [0, 9]. */
export function union(...sets: CharSet[]): CharSet {
  return unionAll(sets);
}

/** Union of a list of sets, however long (no argument spreading). `unionAll([[0, 3], [2, 9]])` → [0, 9]. */
export function unionAll(sets: readonly CharSet[]): CharSet {
  const ranges: Array<[number, number]> = [];
  for (const set of sets) for (const pair of pairs(set)) ranges.push(pair);
  return charSet(ranges);
}

/** Every code point not in `set`. `negate([0, 0x60])` → [0x61, 0x10ffff]. */
export function negate(set: CharSet): CharSet {
  const out: number[] = [];
  let next = 0;
  for (let i = 0; i < set.length; i += 2) {
    if (set[i]! > next) out.push(next, set[i]! - 1);
    next = set[i + 1]! + 1;
  }
  if (next <= MAX_CODE_POINT) out.push(next, MAX_CODE_POINT);
  return out;
}

/** Whether `cp` is in `set` (binary search over the ranges). `contains([0, 9], 5)` → true. */
export function contains(set: CharSet, cp: number): boolean {
  return intersectsRange(set, cp, cp);
}

/** Whether any code point in [lo, hi] is in `set`. `intersectsRange([10, 20], 0, 10)` → true. */
export function intersectsRange(set: CharSet, lo: number, hi: number): boolean {
  // Find the first range whose upper end is ≥ lo, then see whether it starts ≤ hi.
  let a = 0;
  let b = set.length >> 1;
  while (a < b) {
    const m = (a + b) >> 1;
    if (set[2 * m + 1]! < lo) a = m + 1;
    else b = m;
  }
  return a < set.length >> 1 && set[2 * a]! <= hi;
}

/** One code point. `single(0x61)` → [97, 97]. */
export const single = (cp: number): CharSet => [cp, cp];

/** `\d` (ASCII digits, as JavaScript). */
export const DIGIT: CharSet = charSet([[0x30, 0x39]]);
/** `\w` (ASCII letters, digits, underscore, as JavaScript). */
export const WORD: CharSet = charSet([
  [0x30, 0x39],
  [0x41, 0x5a],
  [0x5f, 0x5f],
  [0x61, 0x7a],
]);
/** `\s` (JavaScript's white space and line terminators). */
export const SPACE: CharSet = charSet([
  [0x09, 0x0d],
  [0x20, 0x20],
  [0xa0, 0xa0],
  [0x1680, 0x1680],
  [0x2000, 0x200a],
  [0x2028, 0x2029],
  [0x202f, 0x202f],
  [0x205f, 0x205f],
  [0x3000, 0x3000],
  [0xfeff, 0xfeff],
]);
/** `.`: anything but JavaScript's line terminators (\n \r U+2028 U+2029). */
export const DOT: CharSet = negate(
  charSet([
    [0x0a, 0x0a],
    [0x0d, 0x0d],
    [0x2028, 0x2029],
  ]),
);
/** Every code point (`[^]`, `[\s\S]`). */
export const ANY: CharSet = [0, MAX_CODE_POINT];
