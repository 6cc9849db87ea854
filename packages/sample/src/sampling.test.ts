import { describe, expect, it } from 'vitest';
import { SampleError } from './errors.js';
import { applyProcessors, buildProcessors } from './processors/chain.js';
import { argmax, assertValidLogits, logSoftmax, sampleToken, softmax } from './sampling.js';
import { rng as seededUniform } from '@llm/kit';
import { chiSquareGoodnessOfFit } from './testing/stats.js';

const f32 = (...xs: number[]) => Float32Array.from(xs);
const close = (actual: ArrayLike<number>, expected: number[], digits = 6) => {
  expect(actual.length).toBe(expected.length);
  expected.forEach((e, i) =>
    e === -Infinity ? expect(actual[i]).toBe(-Infinity) : expect(actual[i]).toBeCloseTo(e, digits),
  );
};
const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(SampleError);
    return (e as SampleError).code;
  }
  throw new Error('expected a SampleError');
};

describe('argmax', () => {
  it('returns the first index of the maximum on ties', () => {
    expect(argmax(f32(1, 3, 3, 2))).toBe(1);
    expect(argmax(f32(-Infinity, -5, -Infinity))).toBe(1);
    expect(argmax(f32(7))).toBe(0); // V = 1
  });
  it('rejects NaN / +Infinity, an empty row, and a fully banned row', () => {
    expect(code(() => argmax(f32(0, NaN)))).toBe('INVALID_ARGUMENT');
    expect(code(() => argmax(f32(0, Infinity)))).toBe('INVALID_ARGUMENT');
    expect(code(() => argmax(new Float32Array(0)))).toBe('SHAPE_MISMATCH');
    expect(code(() => argmax(f32(-Infinity, -Infinity)))).toBe('INVALID_ARGUMENT');
    expect(assertValidLogits(f32(-Infinity, 2))).toBe(2);
  });
});

describe('softmax / logSoftmax', () => {
  it('hand-computed: [0, ln 3, −∞] → [1/4, 3/4, 0]', () => {
    close(softmax(f32(0, Math.log(3), -Infinity)), [0.25, 0.75, 0]);
    close(logSoftmax(f32(0, Math.log(3), -Infinity)), [Math.log(0.25), Math.log(0.75), -Infinity]);
  });
  it('is stable for huge logits and V = 1', () => {
    const z = 2 + Math.exp(-1); // [1000, 1000, 999] − 1000 → weights [1, 1, e^−1]
    close(softmax(f32(1000, 1000, 999)), [1 / z, 1 / z, Math.exp(-1) / z]);
    close(logSoftmax(f32(-1e30, -1e30)), [Math.log(0.5), Math.log(0.5)]);
    close(softmax(f32(-3)), [1]);
  });
  it('logSoftmax = log(softmax) on random rows', () => {
    const u = seededUniform(3);
    const x = Float32Array.from({ length: 50 }, () => 10 * u() - 5);
    const p = softmax(x);
    close(logSoftmax(x), Array.from(p, Math.log), 5);
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
  });
  it('rejects NaN', () => {
    expect(code(() => softmax(f32(NaN)))).toBe('INVALID_ARGUMENT');
    expect(code(() => logSoftmax(f32(1, NaN)))).toBe('INVALID_ARGUMENT');
  });
});

describe('sampleToken', () => {
  it('inverts the CDF with one uniform draw: weights [1, 3] → u < ¼ gives 0, else 1', () => {
    const x = f32(0, Math.log(3));
    let calls = 0;
    const rng = (u: number) => () => (calls++, u);
    expect(sampleToken(x, rng(0))).toBe(0);
    expect(sampleToken(x, rng(0.2))).toBe(0);
    expect(sampleToken(x, rng(0.26))).toBe(1);
    expect(sampleToken(x, rng(0.999999))).toBe(1);
    expect(calls).toBe(4);
  });
  it('never returns a −Infinity token, even at u = 0 or u → 1', () => {
    const x = f32(-Infinity, 1, -Infinity, 1, -Infinity);
    expect(sampleToken(x, () => 0)).toBe(1);
    expect(sampleToken(x, () => 1 - 2 ** -53)).toBe(3);
    expect(sampleToken(f32(-Infinity, -Infinity, 5), () => 0.5)).toBe(2); // all −∞ but one
    expect(sampleToken(f32(0), () => 0.7)).toBe(0); // V = 1
  });
  it('rejects a bad rng value and NaN logits', () => {
    expect(code(() => sampleToken(f32(0, 0), () => 1))).toBe('INVALID_ARGUMENT');
    expect(code(() => sampleToken(f32(0, 0), () => -0.1))).toBe('INVALID_ARGUMENT');
    expect(code(() => sampleToken(f32(0, NaN), () => 0.5))).toBe('INVALID_ARGUMENT');
  });
  it('same seed → same sequence; another seed → another one', () => {
    const x = Float32Array.from({ length: 30 }, (_, i) => Math.sin(i));
    const draw = (seed: number) => {
      const rng = seededUniform(seed);
      return Array.from({ length: 200 }, () => sampleToken(x, rng));
    };
    expect(draw(11)).toEqual(draw(11));
    expect(draw(11)).not.toEqual(draw(12));
  });
  it('matches softmax in distribution: χ² goodness of fit, 20,000 draws, seed 1, p > 0.001', () => {
    // Probabilities chosen by hand: [0.5, 0.25, 0.125, 0.0625, 0.0625, 0] via logits = log p.
    const probs = [0.5, 0.25, 0.125, 0.0625, 0.0625, 0];
    const x = Float32Array.from(probs, Math.log);
    const rng = seededUniform(1);
    const counts = new Array<number>(probs.length).fill(0);
    for (let i = 0; i < 20_000; i++) counts[sampleToken(x, rng)]!++;
    expect(counts[5]).toBe(0);
    const { pValue, df } = chiSquareGoodnessOfFit(counts, probs);
    expect(df).toBe(4);
    expect(pValue).toBeGreaterThan(0.001);
  });
  it('temperature 1e-4 through the chain gives the argmax every time (1,000 random rows)', () => {
    // Rows whose top two logits differ by ≥ 0.01, so the runner-up has weight ≤ e^(−0.01/1e-4) = e^−100.
    const u = seededUniform(5);
    const chain = buildProcessors({ temperature: 1e-4 });
    for (let r = 0; r < 1000; r++) {
      const x = Float32Array.from({ length: 16 }, () => 4 * u() - 2);
      const best = argmax(x);
      const second = Math.max(...x.filter((_, i) => i !== best));
      if (x[best]! - second < 0.01) x[best] = second + 0.01;
      expect(sampleToken(applyProcessors(x, chain, { ids: [], promptLength: 0 }), u)).toBe(best);
    }
  });
});
