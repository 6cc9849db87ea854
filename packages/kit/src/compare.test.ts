import { describe, expect, it } from 'vitest';
import { maxAbsDiff, maxScaledError } from './compare.js';

describe('maxAbsDiff / maxScaledError', () => {
  it('measure the worst element', () => {
    expect(maxAbsDiff([1, 2, 3], [1, 2.5, 2])).toBe(1);
    expect(maxScaledError([1, 2], [1, 2.5], 0, 0.1)).toBeCloseTo(2);
    expect(maxScaledError([1, 2], [1, 2.05], 0.01, 0.1)).toBeLessThan(1);
  });

  it('count a length mismatch or a NaN as infinitely far', () => {
    expect(maxAbsDiff([1], [1, 2])).toBe(Infinity);
    expect(maxAbsDiff([1, NaN], [1, 2])).toBe(Infinity);
    expect(maxScaledError([0], [NaN], 1, 1)).toBe(Infinity);
    expect(maxAbsDiff([], [])).toBe(0);
  });
});
