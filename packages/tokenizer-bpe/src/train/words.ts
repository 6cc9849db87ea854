/**
 * The unique training words as symbol-id sequences, packed into one Int32Array. Merges rewrite a
 * word in place (it only ever gets shorter), so `length[w]` shrinks while `start[w]` stays.
 *
 *   const ws = WordStore.fromCounts(new Map([['hi', 3], ['a', 9]]));
 *   ws.size                  // 1: one-byte words have no pairs and are left out
 *   ws.symbolsOf(0)          // [104, 105]   ws.count[0]  // 3
 */
export class WordStore {
  private constructor(
    /** Every word's symbols, back to back. */
    readonly symbols: Int32Array,
    readonly start: Int32Array,
    readonly length: Int32Array,
    /** How often each word occurs in the corpus. */
    readonly count: Float64Array,
  ) {}

  get size(): number {
    return this.start.length;
  }

  /** A copy of word `w`'s current symbols (for tests and debugging). */
  symbolsOf(w: number): number[] {
    const s = this.start[w]!;
    return Array.from(this.symbols.subarray(s, s + this.length[w]!));
  }

  /**
   * Packs pieces (JS strings, UTF-8 encoded here) with their counts; pieces shorter than two
   * bytes are skipped since they can never take part in a merge. Order follows the map.
   */
  static fromCounts(counts: ReadonlyMap<string, number>): WordStore {
    const encoder = new TextEncoder();
    const encoded: Uint8Array[] = [];
    const freq: number[] = [];
    let total = 0;
    for (const [piece, n] of counts) {
      const bytes = encoder.encode(piece);
      if (bytes.length < 2) continue;
      encoded.push(bytes);
      freq.push(n);
      total += bytes.length;
    }
    const symbols = new Int32Array(total);
    const start = new Int32Array(encoded.length);
    const length = new Int32Array(encoded.length);
    let at = 0;
    encoded.forEach((bytes, w) => {
      start[w] = at;
      length[w] = bytes.length;
      symbols.set(bytes, at);
      at += bytes.length;
    });
    return new WordStore(symbols, start, length, Float64Array.from(freq));
  }
}
