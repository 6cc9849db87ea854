/**
 * Seeded randomness for init and dropout, on the host so it is identical on every backend and its
 * state is two integers a checkpoint can store.
 *
 *   const r = new Rng(hashSeed(1337, 'transformer.wte.weight'));
 *   r.next();        // uniform in [0, 1)
 *   randn(4, r, 0.02); // Float32Array of N(0, 0.02²)
 */

/** splitmix32-style PRNG (a tiny, well-mixed 32-bit generator). */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  /** The whole generator state (one uint32), for checkpoints. */
  getState(): number {
    return this.state;
  }
  setState(state: number): void {
    this.state = state >>> 0;
  }
  /** Uniform float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x9e3779b9) >>> 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return ((z ^ (z >>> 16)) >>> 0) / 4294967296;
  }
}

/** A 32-bit seed from a base seed and a label (FNV-1a), so init does not depend on creation order. */
export function hashSeed(seed: number, label: string | number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  const s = String(label);
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
  return (h ^ (h >>> 12)) >>> 0;
}

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
