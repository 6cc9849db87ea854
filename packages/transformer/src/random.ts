/**
 * Seeded init and dropout masks (the PRNG itself, Rng, lives in @llm/tensor-gpu).
 *
 *   randn(4, new Rng(hashSeed(1337, 'transformer.wte.weight')), 0.02); // Float32Array of N(0, 0.02²)
 */
import type { Rng } from '@llm/tensor-gpu';

/** n samples of N(0, std²) (Box–Muller). */
export function randn(n: number, rng: Rng, std: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const u1 = 1 - rng.next(); // (0, 1]
    const u2 = rng.next();
    const r = std * Math.sqrt(-2 * Math.log(u1));
    out[i] = r * Math.cos(2 * Math.PI * u2);
    if (i + 1 < n) out[i + 1] = r * Math.sin(2 * Math.PI * u2);
  }
  return out;
}

/**
 * Inverted-dropout mask: each entry is 0 with probability p, else 1/(1 − p).
 *
 *   dropoutMask(4, 0.5, new Rng(1)); // e.g. [2, 0, 2, 2]
 */
export function dropoutMask(n: number, p: number, rng: Rng): Float32Array {
  const out = new Float32Array(n);
  const keep = 1 / (1 - p);
  for (let i = 0; i < n; i++) out[i] = rng.next() < p ? 0 : keep;
  return out;
}
