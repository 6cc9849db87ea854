/**
 * The seeded PRNG every test and benchmark shares: mulberry32, a tiny 32-bit generator with
 * integer-only arithmetic, so a seed gives the same numbers on every platform. Test data only:
 * library and app code use the `Rng` of `@llm/tensor-gpu`.
 *
 *   const r = rng(1);
 *   r();                        // → 0.6270739405881613 (always, for seed 1)
 *   randomArray(3, 7);          // three floats in [-1, 1), the same every run
 *   randomInts(4, 7, 10);       // four integers in [0, 10)
 */

/** A generator of floats in [0, 1), seeded by `seed` (any number; taken as a uint32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` uniform floats in [lo, hi) from `rng(seed)`. */
export function randomArray(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * r();
  return out;
}

/** `n` integers in [0, max) from `rng(seed)`. */
export function randomInts(n: number, seed: number, max: number): Int32Array {
  const r = rng(seed);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(r() * max);
  return out;
}
