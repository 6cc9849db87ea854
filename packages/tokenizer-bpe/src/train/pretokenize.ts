/**
 * Pre-tokenization for training: cut text out around special tokens, split the rest with the
 * pattern, and count how often each piece occurs.
 *
 *   const c = new WordCounter(/ ?\p{L}+|\s+/gu, ['<|endoftext|>']);
 *   c.add('hi hi<|endoftext|>hi');
 *   c.counts  // Map { 'hi' → 2, ' hi' → 1 }
 *
 * The pattern is a RegExp for the built-in patterns (trusted, hand-checked) and a SafePattern
 * (the linear-time matcher) for any other.
 */
import { SafePattern } from '../pattern/safe-pattern.js';

/** What splits text into pieces: a global RegExp (built-in patterns) or a SafePattern. */
export type PieceSplitter = RegExp | SafePattern;

/** Escapes a string for use inside a RegExp source. */
function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

/**
 * A regex matching any of the special tokens (longest first, so the longest wins where two start
 * at the same place), or undefined when there are none.
 *
 *   specialsRegex(['<s>', '<s>x'])?.source   // '<s>x|<s>'
 */
export function specialsRegex(specials: readonly string[]): RegExp | undefined {
  if (specials.length === 0) return undefined;
  const sorted = [...specials].sort((a, b) => b.length - a.length);
  return new RegExp(sorted.map(escapeRegex).join('|'), 'g');
}

/**
 * Calls `fn` on each stretch of `text` between matches of `specials` (from `specialsRegex`); the
 * special tokens themselves are dropped.
 *
 *   forEachSegment('a<s>b', specialsRegex(['<s>']), (s) => out.push(s))  // out = ['a', 'b']
 */
export function forEachSegment(
  text: string,
  specials: RegExp | undefined,
  fn: (segment: string) => void,
): void {
  if (specials === undefined) {
    fn(text);
    return;
  }
  let start = 0;
  for (const m of text.matchAll(specials)) {
    if (m.index > start) fn(text.slice(start, m.index));
    start = m.index + m[0].length;
  }
  if (start < text.length) fn(text.slice(start));
}

/**
 * Calls `fn` on every non-empty match of `splitter` (a RegExp's flags must include 'g') in
 * `text`, in order.
 *
 *   forEachPiece('hi there', /\S+|\s+/gu, (p) => out.push(p))  // ['hi', ' ', 'there']
 */
export function forEachPiece(text: string, splitter: PieceSplitter, fn: (piece: string) => void): void {
  if (splitter instanceof SafePattern) {
    splitter.forEachMatch(text, 0, text.length, (i, j) => fn(text.slice(i, j)));
    return;
  }
  const regex = splitter;
  regex.lastIndex = 0;
  for (;;) {
    const m = regex.exec(text);
    if (m === null) break;
    const piece = m[0];
    if (piece.length === 0) {
      regex.lastIndex++; // an empty match would loop forever
      continue;
    }
    fn(piece);
  }
}

/**
 * Counts pre-tokenized pieces (as JS strings) over any number of text chunks. Each chunk is split
 * on its own, so a piece never spans two chunks.
 *
 *   const c = new WordCounter(/\S+|\s+/gu, []);
 *   c.add('a b a');  c.counts.get('a')  // 2
 */
export class WordCounter {
  readonly counts = new Map<string, number>();
  chunks = 0;
  private readonly splitter: PieceSplitter;
  private readonly specials: RegExp | undefined;

  constructor(splitter: PieceSplitter, specials: readonly string[]) {
    // A RegExp gets its own lastIndex state; a SafePattern is used one text at a time anyway.
    this.splitter = splitter instanceof RegExp ? new RegExp(splitter.source, splitter.flags) : splitter;
    this.specials = specialsRegex(specials);
  }

  add(chunk: string): void {
    const counts = this.counts;
    const count = (piece: string): void => {
      counts.set(piece, (counts.get(piece) ?? 0) + 1);
    };
    forEachSegment(chunk, this.specials, (segment) => forEachPiece(segment, this.splitter, count));
    this.chunks++;
  }
}
