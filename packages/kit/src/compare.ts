/**
 * How far apart two arrays of numbers are, for tolerance checks in tests. A length mismatch or a
 * NaN on either side counts as infinitely far.
 *
 *   maxAbsDiff([1, 2], [1, 2.5]);               // → 0.5
 *   maxScaledError([1, 2], [1, 2.5], 0, 0.1);   // → 2 (0.5 / (0 + 0.1 · 2.5)): outside rtol 0.1
 */

/** The largest |a[i] − b[i]| / (atol + rtol·|b[i]|): ≤ 1 means every element is within tolerance. */
export function maxScaledError(a: ArrayLike<number>, b: ArrayLike<number>, atol: number, rtol: number): number {
  if (a.length !== b.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const err = Math.abs(a[i]! - b[i]!) / (atol + rtol * Math.abs(b[i]!));
    if (!(err <= worst)) worst = Number.isNaN(err) ? Infinity : err;
  }
  return worst;
}

/** The largest |a[i] − b[i]|. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  return maxScaledError(a, b, 1, 0);
}
