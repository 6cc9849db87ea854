/**
 * Recovers the merge list from ranks alone (the standard tiktoken → HF conversion): each
 * multi-byte token, in rank order, is re-encoded with byte-level BPE using only lower-ranked
 * tokens; the two parts left at the end are its merge.
 *
 *   deriveMerges(new Map([['a', 0], ['b', 1], ['ab', 2], ['abb', 3]]))
 *   // [{ left: 'a', right: 'b', token: 'ab', rank: 2 }, { left: 'ab', right: 'b', token: 'abb', rank: 3 }]
 */
import { TokenizerError } from '../errors.js';

/** One merge: tokens `left` + `right` (binary strings) make `token` of rank `rank`. */
export interface DerivedMerge {
  left: string;
  right: string;
  token: string;
  rank: number;
}

/**
 * Merges for every token longer than one byte, in rank order. Throws INVALID_FORMAT when a token
 * cannot be built from two lower-ranked tokens (or one of its bytes has no rank).
 */
export function deriveMerges(ranks: ReadonlyMap<string, number>): DerivedMerge[] {
  const multi = [...ranks].filter(([t]) => t.length > 1).sort((a, b) => a[1] - b[1]);
  return multi.map(([token, rank]) => {
    const parts = bpeBelow(ranks, token, rank);
    if (parts.length !== 2) {
      throw new TokenizerError(
        'INVALID_FORMAT',
        `token ${JSON.stringify(token)} (rank ${rank}) cannot be made by merging two lower-ranked tokens`,
      );
    }
    return { left: parts[0]!, right: parts[1]!, token, rank };
  });
}

/**
 * tiktoken's byte-pair merge on `token`'s bytes, allowing only merges whose result ranks below
 * `maxRank`: repeatedly merge the adjacent pair whose concatenation has the lowest rank
 * (leftmost on ties) until none qualifies.
 */
function bpeBelow(ranks: ReadonlyMap<string, number>, token: string, maxRank: number): string[] {
  const parts: string[] = [];
  for (const ch of token) {
    if (!ranks.has(ch)) {
      throw new TokenizerError(
        'INVALID_FORMAT',
        `token ${JSON.stringify(token)} has byte ${ch.charCodeAt(0)} with no rank`,
      );
    }
    parts.push(ch);
  }
  for (;;) {
    let best = -1;
    let bestRank = maxRank;
    for (let i = 0; i + 1 < parts.length; i++) {
      const r = ranks.get(parts[i]! + parts[i + 1]!);
      if (r !== undefined && r < bestRank) {
        bestRank = r;
        best = i;
      }
    }
    if (best < 0) return parts;
    parts.splice(best, 2, parts[best]! + parts[best + 1]!);
  }
}
