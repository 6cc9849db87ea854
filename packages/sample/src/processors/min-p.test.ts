import { describe, expect, it } from 'vitest';
import { SampleError } from '../errors.js';
import { MinPProcessor } from './min-p.js';

const ctx = { ids: [], promptLength: 0 };
const NEG = -Infinity;
const run = (p: MinPProcessor, xs: number[]) => {
  const l = Float32Array.from(xs);
  p.process(l, ctx);
  return Array.from(l);
};
const logs = (...ps: number[]) => Array.from(Float32Array.from(ps, Math.log));

describe('MinPProcessor (HF MinPLogitsWarper)', () => {
  it('hand-computed: removes prob < p · max prob', () => {
    const [a, b, c] = logs(0.5, 0.3, 0.2);
    // p = 0.5: threshold 0.25 → 0.2 goes
    expect(run(new MinPProcessor(0.5), [a!, b!, c!])).toEqual([a, b, NEG]);
    // p = 0.7: threshold 0.35 → 0.3 and 0.2 go
    expect(run(new MinPProcessor(0.7), [a!, b!, c!])).toEqual([a, NEG, NEG]);
    // p = 0: nothing
    expect(run(new MinPProcessor(0), [a!, b!, c!])).toEqual([a, b, c]);
  });
  it('p = 1 keeps every token tied with the max; minTokensToKeep keeps the most probable', () => {
    const [a, b, c] = logs(0.4, 0.4, 0.2);
    expect(run(new MinPProcessor(1), [a!, b!, c!])).toEqual([a, b, NEG]);
    const [x, y, z] = logs(0.5, 0.3, 0.2);
    expect(run(new MinPProcessor(1, { minTokensToKeep: 2 }), [x!, y!, z!])).toEqual([x, y, NEG]);
  });
  it('handles −∞ and V = 1', () => {
    expect(run(new MinPProcessor(0.9), [NEG, 1, 1 + Math.log(0.5)])).toEqual([NEG, 1, NEG]);
    expect(run(new MinPProcessor(0.9), [7])).toEqual([7]);
  });
  it('rejects p outside [0, 1]', () => {
    for (const p of [-0.1, 1.1, NaN]) expect(() => new MinPProcessor(p)).toThrow(SampleError);
  });
});
