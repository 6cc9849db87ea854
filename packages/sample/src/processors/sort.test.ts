import { describe, expect, it } from 'vitest';
import { rng as seededUniform } from '@llm/kit';
import { ascendingOrder, finiteIndices, kthSmallest, softmaxAt } from './sort.js';

describe('sort helpers', () => {
  it('finiteIndices skips −∞; ascendingOrder is a stable ascending sort', () => {
    const x = Float32Array.of(2, -Infinity, 1, 2, -0, 0, -3.5);
    expect(finiteIndices(x)).toEqual([0, 2, 3, 4, 5, 6]);
    // ascending: −3.5 (6), −0 and 0 tie (4, 5), 1 (2), 2 and 2 tie (0, 3)
    expect(ascendingOrder(finiteIndices(x), x)).toEqual([6, 4, 5, 2, 0, 3]);
  });
  it('ascendingOrder matches a comparator sort on random rows with many ties', () => {
    const u = seededUniform(9);
    for (let r = 0; r < 20; r++) {
      const key = Float32Array.from({ length: 500 }, () => Math.round(20 * (u() - 0.5)) / 4);
      const idx = Array.from(key.keys()).filter(() => u() < 0.8);
      const ref = [...idx].sort((a, b) => key[a]! - key[b]! || a - b);
      expect(ascendingOrder(idx, key)).toEqual(ref);
    }
  });
  it('kthSmallest agrees with sorting (random rows, duplicates, −∞, V = 1)', () => {
    const u = seededUniform(10);
    for (let r = 0; r < 30; r++) {
      const V = 1 + Math.floor(u() * 200);
      const a = Float32Array.from({ length: V }, () => (u() < 0.2 ? -Infinity : Math.round(10 * u())));
      const sorted = Float32Array.from(a).sort();
      const n = Math.floor(u() * V);
      expect(kthSmallest(Float32Array.from(a), n)).toBe(sorted[n]);
    }
  });
  it('softmaxAt normalizes over the given indices only', () => {
    const p = softmaxAt(Float32Array.of(0, 100, Math.log(3)), [2, 0]);
    expect(p[0]).toBeCloseTo(0.75, 7); // log 3 is rounded to float32
    expect(p[1]).toBeCloseTo(0.25, 7);
  });
});
