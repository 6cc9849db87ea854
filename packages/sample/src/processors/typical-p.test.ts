import { describe, expect, it } from 'vitest';
import { SampleError } from '../errors.js';
import { TypicalPProcessor } from './typical-p.js';

const ctx = { ids: [], promptLength: 0 };
const NEG = -Infinity;
const run = (p: TypicalPProcessor, xs: number[]) => {
  const l = Float32Array.from(xs);
  p.process(l, ctx);
  return Array.from(l);
};
const logs = (...ps: number[]) => Array.from(Float32Array.from(ps, Math.log));

describe('TypicalPProcessor (HF TypicalLogitsWarper)', () => {
  // probs [0.7, 0.2, 0.1]: H = −Σ p ln p = 0.2497 + 0.3219 + 0.2303 = 0.8018
  // −ln p = [0.357, 1.609, 2.303] → s = |−ln p − H| = [0.445, 0.808, 1.501]; order t0, t1, t2;
  // cumulative prob in that order [0.7, 0.9, 1.0]
  it('hand-computed on [0.7, 0.2, 0.1]', () => {
    const l = logs(0.7, 0.2, 0.1);
    // mass 0.5: last = #(cum < 0.5) = 0 → cutoff s0 = 0.445 → t1, t2 go
    expect(run(new TypicalPProcessor(0.5), l)).toEqual([l[0], NEG, NEG]);
    // mass 0.8: last = #(cum < 0.8) = 1 → cutoff s1 = 0.808 → t2 goes
    expect(run(new TypicalPProcessor(0.8), l)).toEqual([l[0], l[1], NEG]);
    // mass 0.5, minTokensToKeep 2 → the first two of the order stay
    expect(run(new TypicalPProcessor(0.5, { minTokensToKeep: 2 }), l)).toEqual([l[0], l[1], NEG]);
  });
  it('can drop the most probable token', () => {
    // probs [0.4, 0.1 × 6]: H = 0.4·0.9163 + 0.6·2.3026 = 1.7481
    // s0 = |0.9163 − 1.7481| = 0.8318, s_others = |2.3026 − 1.7481| = 0.5545 → order t1…t6, t0
    // cumulative 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 1.0; mass 0.45 → last = 4 → cutoff 0.5545 → t0 goes
    const l = logs(0.4, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1);
    expect(run(new TypicalPProcessor(0.45), l)).toEqual([NEG, ...l.slice(1)]);
  });
  it('ignores −∞ tokens (HF nansum) and keeps V = 1', () => {
    const l = logs(0.7, 0.2, 0.1);
    expect(run(new TypicalPProcessor(0.5), [l[0]!, NEG, l[1]!, l[2]!])).toEqual([l[0], NEG, NEG, NEG]);
    expect(run(new TypicalPProcessor(0.5), [2])).toEqual([2]);
    expect(run(new TypicalPProcessor(0.5), [NEG, NEG])).toEqual([NEG, NEG]);
  });
  it('rejects mass outside (0, 1) (as HF)', () => {
    for (const m of [0, 1, 1.2, -0.5, NaN]) expect(() => new TypicalPProcessor(m)).toThrow(SampleError);
  });
});
