// The seeded PRNG: deterministic, resumable from its state, uniform enough, seeds well mixed.
import { describe, expect, it } from 'vitest';
import { Rng, hashSeed } from './random.js';

describe('Rng', () => {
  it('is deterministic and resumes exactly from getState()', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const xs = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(xs);
    const s = a.getState();
    const next = [a.next(), a.next()];
    const c = new Rng(0);
    c.setState(s);
    expect([c.next(), c.next()]).toEqual(next);
  });

  it('is uniform on [0, 1): 10 buckets of 100,000 draws within 2% of 10,000 each', () => {
    const r = new Rng(7);
    const buckets = new Array<number>(10).fill(0);
    for (let i = 0; i < 100_000; i++) {
      const x = r.next();
      expect(x >= 0 && x < 1).toBe(true);
      buckets[Math.floor(x * 10)]!++;
    }
    for (const n of buckets) expect(Math.abs(n - 10_000)).toBeLessThan(200);
  });

  it('hashSeed separates labels and seeds', () => {
    const seen = new Set<number>();
    for (let s = 0; s < 50; s++) for (const l of ['a', 'b', 'wte', 0, 1]) seen.add(hashSeed(s, l));
    expect(seen.size).toBe(250);
    expect(hashSeed(1, 'x')).toBe(hashSeed(1, 'x'));
  });
});
