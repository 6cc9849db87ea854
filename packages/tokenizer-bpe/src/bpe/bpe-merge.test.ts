// The heap merge (long pieces) must give exactly the array merge's result (tiktoken's algorithm),
// including leftmost-first tie-breaking; checked on a tie-heavy toy vocabulary and on cl100k.
import { describe, expect, it } from 'vitest';
import { getEncodingDefinition } from '../encodings.js';
import { TokenizerError } from '../errors.js';
import { rng } from '@llm/kit';
import { BpeMerger } from './bpe-merge.js';
import { ByteTable } from './byte-table.js';

function both(merger: BpeMerger, bytes: Uint8Array): [number[], number[]] {
  const a = new Int32Array(bytes.length);
  const b = new Int32Array(bytes.length);
  const na = merger.mergeScan(bytes, bytes.length, a);
  const nb = merger.mergeHeap(bytes, bytes.length, b);
  return [Array.from(a.subarray(0, na)), Array.from(b.subarray(0, nb))];
}

/** Reference byte_pair_merge, straight from tiktoken's description. */
function naive(ranks: Map<string, number>, s: string): number[] {
  const parts = Array.from(s);
  for (;;) {
    let best = -1;
    let at = -1;
    for (let k = 0; k + 1 < parts.length; k++) {
      const r = ranks.get(parts[k]! + parts[k + 1]!);
      if (r !== undefined && (best < 0 || r < best)) [best, at] = [r, k];
    }
    if (at < 0) return parts.map((p) => ranks.get(p)!);
    parts.splice(at, 2, parts[at]! + parts[at + 1]!);
  }
}

describe('BpeMerger', () => {
  // Ties everywhere: "aa" can merge at many positions; leftmost must win.
  const toy = new Map<string, number>([
    ['a', 0], ['b', 1], ['c', 2], ['aa', 3], ['ab', 4], ['ba', 5], ['aaa', 6], ['aab', 7], ['bb', 8],
    ['aaaa', 9], ['abab', 10], ['cab', 11], ['ca', 12],
  ]);
  const merger = new BpeMerger(ByteTable.fromRanks(toy));

  it('agrees with a naive merge, array and heap alike, on 1500 random strings', () => {
    const r = rng(3);
    let bad = 0;
    for (let k = 0; k < 1500; k++) {
      const s = Array.from({ length: 1 + Math.floor(r() * 250) }, () => 'aabc'[Math.floor(r() * 4)]).join('');
      const bytes = Uint8Array.from(s, (ch) => ch.charCodeAt(0));
      const [scan, heap] = both(merger, bytes);
      const ref = naive(toy, s);
      if (scan.join() !== ref.join() || heap.join() !== ref.join()) bad++;
    }
    expect(bad).toBe(0);
  });

  it('agrees array vs heap with cl100k on long random byte strings and CJK', () => {
    const m = new BpeMerger(ByteTable.fromRanks(getEncodingDefinition('cl100k_base').ranks));
    const r = rng(9);
    let bad = 0;
    for (let k = 0; k < 300; k++) {
      const text = k % 2 === 0
        ? Array.from({ length: 200 }, () => String.fromCodePoint(0x4e00 + Math.floor(r() * 300))).join('')
        : Array.from({ length: 400 }, () => String.fromCharCode(97 + Math.floor(r() * 4))).join('');
      const [scan, heap] = both(m, new TextEncoder().encode(text));
      if (scan.join() !== heap.join()) bad++;
    }
    const bytes = Uint8Array.from({ length: 500 }, () => Math.floor(r() * 256));
    const [scan, heap] = both(m, bytes);
    expect(heap).toEqual(scan);
    expect(bad).toBe(0);
  });

  it('throws UNSUPPORTED when a byte has no token', () => {
    const m = new BpeMerger(ByteTable.fromRanks(new Map([['a', 0]])));
    expect(() => m.merge(Uint8Array.of(97, 98), 2, new Int32Array(2))).toThrow(TokenizerError);
    expect(() => m.merge(Uint8Array.of(98), 1, new Int32Array(1))).toThrow(/no token for them/);
  });
});
