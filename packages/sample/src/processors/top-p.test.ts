import { describe, expect, it } from 'vitest';
import { SampleError } from '../errors.js';
import { TopPProcessor } from './top-p.js';

const ctx = { ids: [], promptLength: 0 };
const NEG = -Infinity;
const run = (p: TopPProcessor, xs: number[]) => {
  const l = Float32Array.from(xs);
  p.process(l, ctx);
  return Array.from(l);
};
const logs = (...ps: number[]) => Array.from(Float32Array.from(ps, Math.log));

describe('TopPProcessor (HF TopPLogitsWarper)', () => {
  it('hand-computed: removes tokens whose ascending cumulative prob ≤ 1 − p', () => {
    // probs [0.1, 0.6, 0.3] ascending: 0.1 (t0), 0.3 (t2), 0.6 (t1); cumulative 0.1, 0.4, 1.0
    // p = 0.7 → 1 − p = 0.3: remove t0 (0.1 ≤ 0.3)              → keep {t1, t2}, mass 0.9 ≥ 0.7
    expect(run(new TopPProcessor(0.7), logs(0.1, 0.6, 0.3))).toEqual([NEG, ...logs(0.6, 0.3)]);
    // p = 0.5 → 1 − p = 0.5: remove t0 (0.1), t2 (0.4)           → keep {t1}, mass 0.6 ≥ 0.5
    const l = logs(0.1, 0.6, 0.3);
    expect(run(new TopPProcessor(0.5), l)).toEqual([NEG, l[1], NEG]);
    // p = 0.95 → 1 − p = 0.05: nothing has cumulative ≤ 0.05    → all kept
    expect(run(new TopPProcessor(0.95), logs(0.1, 0.6, 0.3))).toEqual(logs(0.1, 0.6, 0.3));
  });
  it('keeps the last minTokensToKeep of the ascending order', () => {
    // p = 0.5 would keep {t1} only; minTokensToKeep 2 keeps the two most probable {t1, t2}
    expect(run(new TopPProcessor(0.5, { minTokensToKeep: 2 }), logs(0.1, 0.6, 0.3))).toEqual([NEG, ...logs(0.6, 0.3)]);
  });
  it('ties: a stable ascending sort removes the lower index first', () => {
    // four equal logits: probs ¼ each, ascending order t0, t1, t2, t3; cumulative ¼, ½, ¾, 1
    // p = 0.5 → remove cumulative ≤ 0.5 → t0, t1 removed
    expect(run(new TopPProcessor(0.5), [0, 0, 0, 0])).toEqual([NEG, NEG, 0, 0]);
  });
  it('ignores −∞ tokens, keeps V = 1, leaves an all −∞ row, p = 1 removes nothing', () => {
    // finite probs [0.6, 0.4] ascending cumulative 0.4, 1.0; p = 0.5 → remove 0.4 ≤ 0.5
    const l = logs(0.6, 0.4);
    expect(run(new TopPProcessor(0.5), [NEG, l[0]!, l[1]!])).toEqual([NEG, l[0], NEG]);
    expect(run(new TopPProcessor(0.1), [3])).toEqual([3]);
    expect(run(new TopPProcessor(0.5), [NEG, NEG])).toEqual([NEG, NEG]);
    expect(run(new TopPProcessor(1), [1, 2, 3, -40])).toEqual([1, 2, 3, -40]);
  });
  it('rejects p outside (0, 1]', () => {
    for (const p of [0, -0.1, 1.5, NaN]) expect(() => new TopPProcessor(p)).toThrow(SampleError);
  });
});
