/**
 * A tiny seeded PRNG (mulberry32) with the few helpers the corpus generator needs.
 * Integer-only arithmetic, so a seed gives the same sequence on every platform.
 *
 *   const r = rng(1);
 *   r.next();                 // → 0.6270739405881613 (always, for seed 1)
 *   r.int(6);                 // → an integer in [0, 6)
 *   r.pick(['a', 'b', 'c']);  // → one of the three
 *   r.chance(0.3);            // → true about 30% of the time
 */
export interface Rng {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, n). */
  int(n: number): number;
  /** One item of a non-empty list. */
  pick<T>(items: readonly T[]): T;
  /** true with probability p. */
  chance(p: number): boolean;
}

/** A seeded generator; the state lives in the closure, nothing is shared between generators. */
export function rng(seed: number): Rng {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number): number => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => {
    if (items.length === 0) throw new RangeError('rng.pick: empty list');
    return items[int(items.length)] as T;
  };
  const chance = (p: number): boolean => next() < p;
  return { next, int, pick, chance };
}
