import { describe, expect, it } from 'vitest';
import { randomArray, randomInts, rng } from './rng.js';

describe('rng (mulberry32)', () => {
  it('gives the same numbers on every platform', () => {
    const r = rng(1);
    expect([r(), r(), r()]).toEqual([0.6270739405881613, 0.002735721180215478, 0.5274470399599522]);
  });

  it('is a uint32 stream: seeds wrap, streams are independent', () => {
    expect(rng(2 ** 32 + 5)()).toBe(rng(5)());
    const [a, b] = [rng(3), rng(3)];
    a();
    expect(b()).toBe(rng(3)());
  });

  it('stays in [0, 1) with a mean near 1/2', () => {
    const r = rng(9);
    const xs = Array.from({ length: 20_000 }, r);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(Math.abs(xs.reduce((s, x) => s + x, 0) / xs.length - 0.5)).toBeLessThan(0.01);
  });
});

describe('randomArray / randomInts', () => {
  it('draw from rng(seed) in the asked range', () => {
    const r = rng(4);
    expect(randomArray(3, 4, 10, 20)).toEqual(Float32Array.from([10 + 10 * r(), 10 + 10 * r(), 10 + 10 * r()]));
    const ints = randomInts(1000, 4, 7);
    expect(ints).toBeInstanceOf(Int32Array);
    expect(new Set(ints)).toEqual(new Set([0, 1, 2, 3, 4, 5, 6]));
    expect(randomArray(500, 8).every((x) => x >= -1 && x < 1)).toBe(true);
  });
});
