/**
 * tiktoken's byte_pair_merge: start from single bytes and repeatedly merge the adjacent pair whose
 * concatenated bytes have the lowest rank (the leftmost such pair on ties) until no adjacent pair
 * is a token; the parts left are the tokens.
 *
 *   const m = new BpeMerger(table);            // table: ByteTable of the vocabulary
 *   const ids = new Int32Array(8);
 *   m.merge(utf8(' hello'), 6, ids)            // → 1, ids[0] = 24748 in cl100k_base
 *
 * Short pieces use tiktoken's own O(n·m) array scan (fastest for the usual < 20 bytes). Long pieces
 * (a long word, a CJK sentence, base64) use a min-heap of (rank, position) over a linked list of
 * parts, O(n log n) for the same result: the heap top is always the lowest rank, and the smallest
 * byte position among equal ranks, i.e. the leftmost — exactly the pair the array scan would pick.
 * Stale heap entries are skipped: a pair's span only ever grows, so its rank never comes back.
 */
import { TokenizerError } from '../errors.js';
import type { ByteTable } from './byte-table.js';

const NONE = 0x7fffffff;
/** Pieces longer than this (in bytes) use the heap. */
export const HEAP_THRESHOLD = 96;

export class BpeMerger {
  private starts = new Int32Array(256);
  private ranks = new Int32Array(256);
  private next = new Int32Array(0);
  private prev = new Int32Array(0);
  private heapRank = new Int32Array(0);
  private heapPos = new Int32Array(0);

  constructor(private readonly table: ByteTable) {}

  /** Merges bytes[0..n) (n ≥ 1) into token ids written to `ids` (length ≥ n); returns their count. */
  merge(bytes: Uint8Array, n: number, ids: Int32Array): number {
    if (n === 1) {
      ids[0] = this.rankOf(bytes, 0, 1);
      return 1;
    }
    return n > HEAP_THRESHOLD ? this.mergeHeap(bytes, n, ids) : this.mergeScan(bytes, n, ids);
  }

  /** Rank of a final part; every byte sequence left over must be a token. */
  private rankOf(bytes: Uint8Array, a: number, b: number): number {
    const r = this.table.get(bytes, a, b);
    if (r >= 0) return r;
    const hex = Array.from(bytes.subarray(a, b), (x) => x.toString(16).padStart(2, '0')).join(' ');
    throw new TokenizerError(
      'UNSUPPORTED',
      `cannot encode the bytes [${hex}]: the vocabulary has no token for them (is every single byte a token?)`,
    );
  }

  private pairRank(bytes: Uint8Array, a: number, b: number): number {
    const r = this.table.get(bytes, a, b);
    return r < 0 ? NONE : r;
  }

  /** tiktoken's array algorithm: parts[k] = start of part k; ranks[k] = rank of parts k and k+1. */
  mergeScan(bytes: Uint8Array, n: number, ids: Int32Array): number {
    if (this.starts.length < n + 1) {
      this.starts = new Int32Array(2 * n + 2);
      this.ranks = new Int32Array(2 * n + 2);
    }
    const starts = this.starts;
    const ranks = this.ranks;
    for (let k = 0; k <= n; k++) starts[k] = k;
    for (let k = 0; k < n - 1; k++) ranks[k] = this.pairRank(bytes, k, k + 2);
    ranks[n - 1] = NONE;
    let count = n + 1; // entries in starts (parts + the end sentinel)
    for (;;) {
      let min = NONE;
      let at = -1;
      for (let k = 0; k < count - 2; k++) {
        if (ranks[k]! < min) {
          min = ranks[k]!;
          at = k;
        }
      }
      if (at < 0) break;
      // Merge parts `at` and `at + 1`; re-rank the merged part and its left neighbour, then drop
      // entry at + 1 (indices are still pre-removal, hence the + 3 / + 2).
      ranks[at] = at + 3 < count ? this.pairRank(bytes, starts[at]!, starts[at + 3]!) : NONE;
      if (at > 0) ranks[at - 1] = this.pairRank(bytes, starts[at - 1]!, starts[at + 2]!);
      starts.copyWithin(at + 1, at + 2, count);
      ranks.copyWithin(at + 1, at + 2, count);
      count--;
    }
    for (let k = 0; k < count - 1; k++) ids[k] = this.rankOf(bytes, starts[k]!, starts[k + 1]!);
    return count - 1;
  }

  /** The heap algorithm (same result): parts are a linked list of byte positions. */
  mergeHeap(bytes: Uint8Array, n: number, ids: Int32Array): number {
    if (this.next.length < n + 1) {
      // Room to spare for ordinary pieces; exactly what is needed for huge ones (memory).
      const size = n <= 1 << 16 ? 2 * n + 2 : n + 1;
      this.next = new Int32Array(size);
      this.prev = new Int32Array(size);
      this.ranks = new Int32Array(size);
      // Each merge pushes at most 2 entries on top of the n initial ones.
      this.heapRank = new Int32Array(3 * size);
      this.heapPos = new Int32Array(3 * size);
    }
    const { next, prev, ranks } = this;
    const heap = new MinHeap(this.heapRank, this.heapPos);
    for (let p = 0; p < n; p++) {
      next[p] = p + 1;
      prev[p] = p - 1;
      ranks[p] = p + 2 <= n ? this.pairRank(bytes, p, p + 2) : NONE;
      if (ranks[p] !== NONE) heap.push(ranks[p]!, p);
    }
    while (heap.size > 0) {
      const r = heap.topRank();
      const p = heap.pop();
      if (ranks[p] !== r) continue; // stale: merged away (NONE) or re-ranked since
      const q = next[p]!;
      ranks[q] = NONE;
      next[p] = next[q]!;
      if (next[p]! < n) prev[next[p]!] = p;
      const after = next[p]!;
      ranks[p] = after < n ? this.pairRank(bytes, p, next[after]!) : NONE;
      if (ranks[p] !== NONE) heap.push(ranks[p]!, p);
      const before = prev[p]!;
      if (before >= 0) {
        ranks[before] = this.pairRank(bytes, before, after);
        if (ranks[before] !== NONE) heap.push(ranks[before]!, before);
      }
    }
    let count = 0;
    for (let p = 0; p < n; p = next[p]!) ids[count++] = this.rankOf(bytes, p, next[p]!);
    return count;
  }
}

/** A binary min-heap of (rank, position) pairs ordered by rank, then position. */
class MinHeap {
  size = 0;
  constructor(
    private readonly rank: Int32Array,
    private readonly pos: Int32Array,
  ) {}

  private less(a: number, b: number): boolean {
    const ra = this.rank[a]!;
    const rb = this.rank[b]!;
    return ra < rb || (ra === rb && this.pos[a]! < this.pos[b]!);
  }

  private swap(a: number, b: number): void {
    const r = this.rank[a]!;
    const p = this.pos[a]!;
    this.rank[a] = this.rank[b]!;
    this.pos[a] = this.pos[b]!;
    this.rank[b] = r;
    this.pos[b] = p;
  }

  push(rank: number, pos: number): void {
    let k = this.size++;
    this.rank[k] = rank;
    this.pos[k] = pos;
    while (k > 0) {
      const parent = (k - 1) >> 1;
      if (!this.less(k, parent)) break;
      this.swap(k, parent);
      k = parent;
    }
  }

  topRank(): number {
    return this.rank[0]!;
  }

  /** Removes the top and returns its position. */
  pop(): number {
    const top = this.pos[0]!;
    const last = --this.size;
    this.rank[0] = this.rank[last]!;
    this.pos[0] = this.pos[last]!;
    for (let k = 0; ; ) {
      const l = 2 * k + 1;
      if (l >= last) break;
      const c = l + 1 < last && this.less(l + 1, l) ? l + 1 : l;
      if (!this.less(c, k)) break;
      this.swap(c, k);
      k = c;
    }
    return top;
  }
}
