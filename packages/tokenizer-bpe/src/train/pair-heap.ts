/**
 * A binary max-heap of (count, pair) entries for the training loop. Order: higher count first;
 * on equal counts the pair with the smaller left id, then the smaller right id. Entries can go
 * stale (the pair's count changed after the push); the caller re-checks popped entries.
 *
 *   const h = new PairHeap(table);
 *   h.push(p, 5); h.push(q, 7);
 *   h.pop()  // q   (h.poppedCount === 7)
 */
import type { PairTable } from './pair-table.js';

export class PairHeap {
  private counts = new Float64Array(1024);
  private pairs = new Int32Array(1024);
  private n = 0;
  /** The count stored with the entry `pop` returned last. */
  poppedCount = 0;

  constructor(private readonly table: PairTable) {}

  get length(): number {
    return this.n;
  }

  push(pair: number, count: number): void {
    if (this.n === this.pairs.length) this.grow();
    let i = this.n++;
    // Sift up.
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.above(count, pair, this.counts[parent]!, this.pairs[parent]!)) break;
      this.counts[i] = this.counts[parent]!;
      this.pairs[i] = this.pairs[parent]!;
      i = parent;
    }
    this.counts[i] = count;
    this.pairs[i] = pair;
  }

  /** Removes and returns the top pair, or -1 when empty. */
  pop(): number {
    if (this.n === 0) return -1;
    const top = this.pairs[0]!;
    this.poppedCount = this.counts[0]!;
    const n = --this.n;
    if (n > 0) this.siftDown(this.counts[n]!, this.pairs[n]!, n);
    return top;
  }

  private siftDown(count: number, pair: number, n: number): void {
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      const r = child + 1;
      if (r < n && this.above(this.counts[r]!, this.pairs[r]!, this.counts[child]!, this.pairs[child]!))
        child = r;
      if (!this.above(this.counts[child]!, this.pairs[child]!, count, pair)) break;
      this.counts[i] = this.counts[child]!;
      this.pairs[i] = this.pairs[child]!;
      i = child;
    }
    this.counts[i] = count;
    this.pairs[i] = pair;
  }

  /** Whether entry (ca, pa) must come out before entry (cb, pb). */
  private above(ca: number, pa: number, cb: number, pb: number): boolean {
    if (ca !== cb) return ca > cb;
    const t = this.table;
    const la = t.left[pa]!;
    const lb = t.left[pb]!;
    if (la !== lb) return la < lb;
    return t.right[pa]! < t.right[pb]!;
  }

  private grow(): void {
    const counts = new Float64Array(this.counts.length * 2);
    counts.set(this.counts);
    const pairs = new Int32Array(this.pairs.length * 2);
    pairs.set(this.pairs);
    this.counts = counts;
    this.pairs = pairs;
  }
}
