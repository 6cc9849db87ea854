/**
 * The corpus generator's random choices, drawn from the one seeded `Rng` of @llm/tensor-gpu
 * (integer-only arithmetic, so a seed gives the same sequence on every platform).
 *
 *   const r = rng(1);
 *   r.next();                 // → a float in [0, 1), the same for seed 1 on every run
 *   r.int(6);                 // → an integer in [0, 6)
 *   r.pick(['a', 'b', 'c']);  // → one of the three
 *   r.chance(0.3);            // → true about 30% of the time
 */
import { Rng as SeededRng } from '@llm/tensor-gpu';

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

/** A seeded generator; nothing is shared between generators. */
export function rng(seed: number): Rng {
  const source = new SeededRng(seed);
  const next = (): number => source.next();
  const int = (n: number): number => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => {
    if (items.length === 0) throw new RangeError('rng.pick: empty list');
    return items[int(items.length)] as T;
  };
  const chance = (p: number): boolean => next() < p;
  return { next, int, pick, chance };
}
