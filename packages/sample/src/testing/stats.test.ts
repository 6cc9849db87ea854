import { describe, expect, it } from 'vitest';
import {
  chiSquareCdf,
  chiSquareGoodnessOfFit,
  chiSquareSf,
  logGamma,
  regularizedGammaP,
} from './stats.js';

describe('logGamma', () => {
  it('matches log((n−1)!) and Γ(½) = √π', () => {
    expect(logGamma(1)).toBeCloseTo(0, 12);
    expect(logGamma(5)).toBeCloseTo(Math.log(24), 12);
    expect(logGamma(10)).toBeCloseTo(Math.log(362880), 10);
    expect(logGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 12);
    expect(logGamma(0.1)).toBeCloseTo(Math.log(9.513507698668732), 10); // Γ(0.1), reflection branch
  });
});

describe('regularizedGammaP', () => {
  it('P(1, x) = 1 − e^−x on both the series and the continued-fraction branch', () => {
    for (const x of [0.1, 1, 1.9, 2.1, 5, 20]) expect(regularizedGammaP(1, x)).toBeCloseTo(1 - Math.exp(-x), 12);
  });
  it('P(½, x) = erf(√x): erf(1) = 0.8427007929497149', () => {
    expect(regularizedGammaP(0.5, 1)).toBeCloseTo(0.8427007929497149, 12);
  });
  it('is 0 at x = 0 and rejects a ≤ 0', () => {
    expect(regularizedGammaP(3, 0)).toBe(0);
    expect(() => regularizedGammaP(0, 1)).toThrow(RangeError);
  });
});

describe('chiSquareCdf against table values (tolerance 2e-4 on the probability)', () => {
  // Critical values from the NIST/SEMATECH e-Handbook table 1.3.6.7.4 (upper-tail α).
  const table: [x: number, df: number, cdf: number][] = [
    [3.841, 1, 0.95],
    [6.635, 1, 0.99],
    [10.828, 1, 0.999],
    [5.991, 2, 0.95],
    [11.070, 5, 0.95],
    [15.086, 5, 0.99],
    [2.558, 10, 0.01], // lower tail, series branch
    [18.307, 10, 0.95],
    [43.773, 30, 0.95],
    [124.342, 100, 0.95],
  ];
  for (const [x, df, cdf] of table) {
    it(`χ²(${df}) CDF at ${x} ≈ ${cdf}`, () => {
      expect(Math.abs(chiSquareCdf(x, df) - cdf)).toBeLessThan(2e-4);
      expect(Math.abs(chiSquareSf(x, df) - (1 - cdf))).toBeLessThan(2e-4);
    });
  }
  it('df = 2 is exactly 1 − e^(−x/2)', () => {
    for (const x of [0.5, 3, 9]) expect(chiSquareCdf(x, 2)).toBeCloseTo(1 - Math.exp(-x / 2), 12);
  });
});

describe('chiSquareGoodnessOfFit', () => {
  it('computes the statistic by hand: [48, 52] vs ½, ½ → 4/50 + 4/50 = 0.16, p = 0.6892', () => {
    const r = chiSquareGoodnessOfFit([48, 52], [0.5, 0.5]);
    expect(r.statistic).toBeCloseTo(0.16, 12);
    expect(r.df).toBe(1);
    expect(r.pValue).toBeCloseTo(0.6892, 4);
  });
  it('pools categories with expected count < 5 and rejects observed zero-probability ones', () => {
    // n = 100, probs [0.9, 0.04, 0.03, 0.03]: the last three (4, 3, 3 expected) pool into one of 10
    const r = chiSquareGoodnessOfFit([90, 5, 3, 2], [0.9, 0.04, 0.03, 0.03]);
    expect(r.df).toBe(1);
    expect(r.statistic).toBeCloseTo(0, 12);
    expect(chiSquareGoodnessOfFit([9, 1], [1, 0]).pValue).toBe(0);
    expect(chiSquareGoodnessOfFit([10, 0], [1, 0]).pValue).toBe(1);
  });
});
