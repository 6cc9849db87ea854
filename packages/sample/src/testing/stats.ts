/**
 * Statistics helpers for tests: the chi-square distribution (through the regularized incomplete
 * gamma function), and a goodness-of-fit test (seeded
 * test data comes from @llm/kit's rng).
 *
 *   chiSquareCdf(3.841, 1);                                   // ≈ 0.95
 *   chiSquareGoodnessOfFit([48, 52], [0.5, 0.5]).pValue;      // ≈ 0.689
 */
/** log Γ(x) for x > 0 (Lanczos, g = 7, n = 9; ~15 significant digits). */
export function logGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x); // reflection
  const z = x - 1;
  let a = c[0]!;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/**
 * Regularized lower incomplete gamma P(a, x) = γ(a, x) / Γ(a), a > 0, x ≥ 0: the series for
 * x < a + 1, else 1 − Q from the continued fraction (Numerical Recipes §6.2, modified Lentz).
 *
 *   regularizedGammaP(1, 2);   // 1 − e^−2 = 0.8646647
 */
export function regularizedGammaP(a: number, x: number): number {
  if (!(a > 0) || !(x >= 0)) throw new RangeError(`regularizedGammaP needs a > 0 and x ≥ 0, got a=${a}, x=${x}`);
  if (x === 0) return 0;
  const logPrefix = a * Math.log(x) - x - logGamma(a); // log(x^a e^−x / Γ(a))
  if (x < a + 1) {
    // P = x^a e^−x / Γ(a+1) · Σ_n x^n / ((a+1)…(a+n))
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < 1000; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-16) break;
    }
    return Math.min(1, sum * Math.exp(logPrefix));
  }
  // Q = x^a e^−x / Γ(a) · 1 / (x + 1 − a − 1·(1−a) / (x + 3 − a − 2·(2−a) / (x + 5 − a − …)))
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 1000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.max(0, 1 - Math.exp(logPrefix) * h);
}

/**
 * CDF of the chi-square distribution with k degrees of freedom: P(k/2, x/2).
 *
 *   chiSquareCdf(5.991, 2);   // ≈ 0.95   (exactly 1 − e^(−x/2) for k = 2)
 */
export function chiSquareCdf(x: number, k: number): number {
  if (x <= 0) return 0;
  return regularizedGammaP(k / 2, x / 2);
}

/** Upper tail 1 − CDF: the p-value of a chi-square statistic `x` with k degrees of freedom. */
export function chiSquareSf(x: number, k: number): number {
  return 1 - chiSquareCdf(x, k);
}

export interface ChiSquareResult {
  /** Σ (observed − expected)² / expected over the (pooled) categories. */
  statistic: number;
  /** Categories after pooling, minus one. */
  df: number;
  /** P(χ²_df ≥ statistic); 0 when a zero-probability category was observed. */
  pValue: number;
}

/**
 * Pearson's chi-square goodness-of-fit test of `counts` against `probs` (which sum to 1).
 * Categories with expected count < `minExpected` (default 5) are pooled into one so the χ²
 * approximation holds; a category with probability 0 that was observed gives pValue 0.
 *
 *   chiSquareGoodnessOfFit([48, 52], [0.5, 0.5]);   // { statistic: 0.16, df: 1, pValue: 0.689 }
 */
export function chiSquareGoodnessOfFit(
  counts: ArrayLike<number>,
  probs: ArrayLike<number>,
  { minExpected = 5 }: { minExpected?: number } = {},
): ChiSquareResult {
  if (counts.length !== probs.length) throw new RangeError('counts and probs must have the same length');
  let n = 0;
  for (let i = 0; i < counts.length; i++) n += counts[i]!;
  const obs: number[] = [];
  const exp: number[] = [];
  let poolObs = 0;
  let poolExp = 0;
  for (let i = 0; i < counts.length; i++) {
    const e = probs[i]! * n;
    if (probs[i] === 0) {
      if (counts[i]! > 0) return { statistic: Infinity, df: Math.max(1, counts.length - 1), pValue: 0 };
      continue;
    }
    if (e < minExpected) {
      poolObs += counts[i]!;
      poolExp += e;
    } else {
      obs.push(counts[i]!);
      exp.push(e);
    }
  }
  if (poolExp > 0) {
    obs.push(poolObs);
    exp.push(poolExp);
  }
  let statistic = 0;
  for (let j = 0; j < obs.length; j++) statistic += (obs[j]! - exp[j]!) ** 2 / exp[j]!;
  const df = obs.length - 1;
  return { statistic, df, pValue: df > 0 ? chiSquareSf(statistic, df) : 1 };
}
