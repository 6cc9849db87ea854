/**
 * Every adjacent symbol pair seen during training, with its corpus count (occurrences weighted by
 * word frequency) and the words it has occurred in. Pairs get dense indices 0, 1, 2, … so the
 * hot data lives in typed arrays.
 *
 *   const t = new PairTable(1000);
 *   const p = t.add(104, 105, 3, 0);   // pair (h, i) seen 3 times, in word 0
 *   t.count[p]  // 3      t.wordsOf(p)  // [0]
 */
export class PairTable {
  left = new Int32Array(1024);
  right = new Int32Array(1024);
  count = new Float64Array(1024);
  /** Scratch mark per pair, free for the caller (the merge loop stamps touched pairs). */
  mark = new Int32Array(1024);
  size = 0;
  /** Words each pair has been added to (may hold words that no longer contain it). */
  private words: Array<number[] | undefined> = [];
  private lastWord = new Int32Array(1024);
  private readonly index = new Map<number, number>();

  /** `keyBase` must exceed every symbol id (pairs are keyed left * keyBase + right). */
  constructor(private readonly keyBase: number) {}

  /** The index of pair (l, r), or -1 if it was never seen. */
  find(l: number, r: number): number {
    return this.index.get(l * this.keyBase + r) ?? -1;
  }

  /**
   * Adds `delta` to the count of (l, r), creating the pair if needed; a positive delta also
   * records that `word` contains the pair. Returns the pair index.
   */
  add(l: number, r: number, delta: number, word: number): number {
    const key = l * this.keyBase + r;
    let p = this.index.get(key);
    if (p === undefined) p = this.create(key, l, r);
    this.count[p] = this.count[p]! + delta;
    if (delta > 0 && this.lastWord[p] !== word) {
      this.lastWord[p] = word;
      (this.words[p] ??= []).push(word);
    }
    return p;
  }

  /** The words recorded for pair `p` (empty after `retire`). */
  wordsOf(p: number): readonly number[] {
    return this.words[p] ?? [];
  }

  /** Forgets pair `p` once merged: its count is 0 and its word list is freed. */
  retire(p: number): void {
    this.count[p] = 0;
    this.words[p] = undefined;
    this.lastWord[p] = -1;
  }

  private create(key: number, l: number, r: number): number {
    const p = this.size++;
    if (p === this.left.length) this.grow();
    this.index.set(key, p);
    this.left[p] = l;
    this.right[p] = r;
    this.lastWord[p] = -1;
    this.mark[p] = -1;
    return p;
  }

  private grow(): void {
    const n = this.left.length * 2;
    this.left = copyInto(new Int32Array(n), this.left);
    this.right = copyInto(new Int32Array(n), this.right);
    this.count = copyInto(new Float64Array(n), this.count);
    this.lastWord = copyInto(new Int32Array(n), this.lastWord);
    this.mark = copyInto(new Int32Array(n), this.mark);
  }
}

function copyInto<T extends Int32Array | Float64Array>(dst: T, src: T): T {
  dst.set(src as never);
  return dst;
}
