/**
 * The parsed form of a regex: what `parseRegex` returns and `buildNfa` consumes. Groups disappear
 * (captures do not matter for matching); `a{2,3}` stays one `repeat` node.
 *
 *   parseRegex('ab|c*')
 *   // → { type: 'alt', options: [
 *   //      { type: 'concat', items: [{ type: 'chars', set: [97, 97] }, { type: 'chars', set: [98, 98] }] },
 *   //      { type: 'repeat', item: { type: 'chars', set: [99, 99] }, min: 0, max: Infinity } ] }
 */
import type { CharSet } from './charset.js';

export type RegexNode =
  /** One code point from `set`. */
  | { readonly type: 'chars'; readonly set: CharSet }
  /** The items one after another. */
  | { readonly type: 'concat'; readonly items: readonly RegexNode[] }
  /** Any one of the options. */
  | { readonly type: 'alt'; readonly options: readonly RegexNode[] }
  /** `item` between `min` and `max` times (`max` may be Infinity). */
  | { readonly type: 'repeat'; readonly item: RegexNode; readonly min: number; readonly max: number }
  /** The empty string. */
  | { readonly type: 'empty' };
