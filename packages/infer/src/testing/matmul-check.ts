/**
 * The one output check of the matmul kernel tests (f32 / block formats, Q8 activations, @llm/quant's
 * schemes): y [n, rows] against a reference dot per (token, row), as the worst |y − dot| / Σ|terms|,
 * and every row outside [r0, r1) still holding SENTINEL (threads split rows: a kernel must not
 * write outside its range).
 *
 *   const worst = rowsError({ rows: 3, n: 1, r0: 0, r1: 2 }, (t, r) => y[t * 3 + r], (t, r) => ref(t, r));
 *   expect(worst).toBeLessThanOrEqual(1e-6);
 */
import { expect } from 'vitest';

/** What the kernel tests write around and into y: never a value a product yields here. */
export const SENTINEL = -12345.5;

export interface RowsCase {
  rows: number;
  n: number;
  r0: number;
  r1: number;
}

/** The reference of one output: the dot and Σ|terms| (the scale of its rounding error). */
export interface RefDot {
  dot: number;
  mag: number;
}

/** Σ_k w[k]·x[k] in float64 with Σ|w[k]·x[k]|. Example: refDot([1, -2], [3, 1]) → { dot: 1, mag: 5 }. */
export function refDot(w: ArrayLike<number>, x: ArrayLike<number>, xOffset = 0): RefDot {
  let dot = 0;
  let mag = 0;
  for (let k = 0; k < w.length; k++) {
    const p = w[k]! * x[xOffset + k]!;
    dot += p;
    mag += Math.abs(p);
  }
  return { dot, mag };
}

/** Worst relative error over rows [r0, r1) of every token; expects SENTINEL in the other rows. */
export function rowsError(c: RowsCase, got: (t: number, r: number) => number, ref: (t: number, r: number) => RefDot): number {
  let worst = 0;
  for (let t = 0; t < c.n; t++) {
    for (let r = 0; r < c.rows; r++) {
      const y = got(t, r);
      if (r < c.r0 || r >= c.r1) {
        expect(y, `y[${t}, ${r}] outside [${c.r0}, ${c.r1}) was written`).toBe(SENTINEL);
        continue;
      }
      const { dot, mag } = ref(t, r);
      worst = Math.max(worst, Math.abs(y - dot) / (mag + 1e-30));
    }
  }
  return worst;
}
