/**
 * 32-bit hashes of UTF-16 code-unit ranges and byte ranges, for the open-addressing tables of
 * piece-table.ts and byte-table.ts. FNV-1a over the units, then a murmur-style finalizer so the
 * low bits (used as the slot index) depend on every input unit.
 *
 *   hashChars('hello', 0, 5) === hashBytes(new TextEncoder().encode('hello'), 0, 5) // ASCII agrees
 */

/** Spreads the bits of an FNV state over the low bits. */
export function finish(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  return h | 0;
}

/** Hash of the code units text[start..end). */
export function hashChars(text: string, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let k = start; k < end; k++) h = Math.imul(h ^ text.charCodeAt(k), 0x01000193);
  return finish(h);
}

/** Hash of bytes[start..end). */
export function hashBytes(bytes: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let k = start; k < end; k++) h = Math.imul(h ^ bytes[k]!, 0x01000193);
  return finish(h);
}

/** Hash of units[start..end); equals hashChars of the same code units. */
export function hashUnits(units: Uint16Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let k = start; k < end; k++) h = Math.imul(h ^ units[k]!, 0x01000193);
  return finish(h);
}
