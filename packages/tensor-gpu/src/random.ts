/**
 * Seeded randomness on the host: identical on every backend, and its state is one integer a
 * checkpoint can store. Used for init, dropout, batch sampling and token sampling across llm-ts.
 *
 *   const r = new Rng(hashSeed(1337, 'transformer.wte.weight'));
 *   r.next();             // uniform in [0, 1)
 *   r.setState(r.getState()); // resume the same stream
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

/** A 32-bit seed from a base seed and a label (FNV-1a of the label, mixed with the seed), so e.g. init does not depend on creation order. */
export function hashSeed(seed: number, label: string | number): number {
  let h = 0x811c9dc5;
  const s = String(label);
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return mix32((h ^ mix32((seed >>> 0) + 0x9e3779b9)) >>> 0);
}

/** murmur3's 32-bit finaliser: every input bit affects every output bit. */
function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}
