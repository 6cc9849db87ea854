/**
 * An immutable hash table from byte sequences to ranks: the BPE merge loop asks "is
 * bytes[a..b) a token, and which?" millions of times, and this answers without allocating
 * (no substring or binary-string key), unlike a Map<string, number>.
 *
 *   const t = ByteTable.fromRanks(new Map([['ab', 256]]));   // keys are binary strings
 *   t.get(new Uint8Array([0x61, 0x62]), 0, 2)                 // → 256
 *   t.get(new Uint8Array([0x61, 0x62]), 0, 1)                 // → -1 (not a token)
 *
 * Layout: linear probing over `slots` (entry index + 1; 0 = empty); each entry is 3 int32s in
 * `entries` (full hash, key offset into `keys`, key length) and its rank in `ranks`.
 */
import { hashBytes } from './hash.js';

export class ByteTable {
  private constructor(
    private readonly slots: Int32Array,
    private readonly entries: Int32Array,
    private readonly ranks: Int32Array,
    private readonly keys: Uint8Array,
  ) {}

  /** Builds the table from binary-string keys (one char per byte) → rank. */
  static fromRanks(ranks: ReadonlyMap<string, number>): ByteTable {
    let capacity = 16;
    while (capacity < ranks.size * 2) capacity *= 2;
    let keyBytes = 0;
    for (const key of ranks.keys()) keyBytes += key.length;
    const slots = new Int32Array(capacity);
    const entries = new Int32Array(ranks.size * 3);
    const values = new Int32Array(ranks.size);
    const keys = new Uint8Array(keyBytes);
    let used = 0;
    let n = 0;
    for (const [key, rank] of ranks) {
      for (let k = 0; k < key.length; k++) keys[used + k] = key.charCodeAt(k);
      const h = hashBytes(keys, used, used + key.length);
      let slot = h & (capacity - 1);
      while (slots[slot] !== 0) slot = (slot + 1) & (capacity - 1);
      slots[slot] = n + 1;
      entries[n * 3] = h;
      entries[n * 3 + 1] = used;
      entries[n * 3 + 2] = key.length;
      values[n] = rank;
      used += key.length;
      n++;
    }
    return new ByteTable(slots, entries, values, keys);
  }

  /** Rank of bytes[start..end), or -1 when it is not a token. */
  get(bytes: Uint8Array, start: number, end: number): number {
    const h = hashBytes(bytes, start, end);
    const mask = this.slots.length - 1;
    const len = end - start;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const e = this.slots[slot]! - 1;
      if (e < 0) return -1;
      const base = e * 3;
      if (this.entries[base] !== h || this.entries[base + 2] !== len) continue;
      const off = this.entries[base + 1]! - start;
      let k = start;
      while (k < end && this.keys[off + k] === bytes[k]) k++;
      if (k === end) return this.ranks[e]!;
    }
  }
}
