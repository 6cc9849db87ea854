/**
 * A hash table from UTF-16 code-unit sequences (slices of the input text) to int32 values, looked
 * up straight from the text without creating substrings. The encoder keeps two: the vocabulary
 * (token text → id, for every token whose bytes are valid UTF-8) and a bounded cache of pieces that
 * needed a BPE merge.
 *
 *   const t = new PieceTable(1024, 4096);
 *   t.set('say hello', 4, 9, hashChars('say hello', 4, 9), 15339);
 *   t.get('hello!', 0, 5, hashChars('hello!', 0, 5))   // → 15339
 *
 * Layout: linear probing over `slots`, 4 int32s per slot — full hash, key offset into `keys`, key
 * length (0 = empty slot), value — so a probe touches one cache line before comparing the key
 * (measured: encoding 15–20% faster than with a slot → entry indirection).
 */
export const MISSING = -1;

export class PieceTable {
  private readonly slots: Int32Array;
  private readonly mask: number;
  private readonly keys: Uint16Array;
  private count = 0;
  private keyUsed = 0;

  /** `maxEntries` entries with at most `keyCapacity` code units of keys in total. */
  constructor(readonly maxEntries: number, keyCapacity: number) {
    let capacity = 16;
    while (capacity < maxEntries * 2) capacity *= 2;
    this.slots = new Int32Array(capacity * 4);
    this.mask = capacity - 1;
    this.keys = new Uint16Array(keyCapacity);
  }

  /** Total code units of keys the table can hold. */
  get keyCapacity(): number {
    return this.keys.length;
  }

  get size(): number {
    return this.count;
  }

  /** Value stored for text[start..end) (whose hashChars is `h`), or MISSING. */
  get(text: string, start: number, end: number, h: number): number {
    const { slots, keys, mask } = this;
    const len = end - start;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const base = slot << 2;
      const slotLen = slots[base + 2]!;
      if (slotLen === 0) return MISSING;
      if (slots[base] !== h || slotLen !== len) continue;
      const off = slots[base + 1]! - start;
      let k = start;
      while (k < end && keys[off + k] === text.charCodeAt(k)) k++;
      if (k === end) return slots[base + 3]!;
    }
  }

  /** Whether the table can take one more key of `len` units. */
  hasRoom(len: number): boolean {
    return this.count < this.maxEntries && this.keyUsed + len <= this.keys.length;
  }

  /** Adds text[start..end) → value (the key must be absent, non-empty, and hasRoom true). */
  set(text: string, start: number, end: number, h: number, value: number): void {
    const off = this.keyUsed;
    for (let k = start; k < end; k++) this.keys[off + k - start] = text.charCodeAt(k);
    this.insert(h, end - start, value);
  }

  /** Adds units[0..len) → value (same preconditions as set). */
  setUnits(units: Uint16Array, len: number, h: number, value: number): void {
    this.keys.set(units.subarray(0, len), this.keyUsed);
    this.insert(h, len, value);
  }

  /** Forgets every entry (keeps the memory). */
  clear(): void {
    this.slots.fill(0);
    this.count = 0;
    this.keyUsed = 0;
  }

  private insert(h: number, len: number, value: number): void {
    let slot = h & this.mask;
    while (this.slots[(slot << 2) + 2] !== 0) slot = (slot + 1) & this.mask;
    const base = slot << 2;
    this.slots[base] = h;
    this.slots[base + 1] = this.keyUsed;
    this.slots[base + 2] = len;
    this.slots[base + 3] = value;
    this.keyUsed += len;
    this.count++;
  }
}
