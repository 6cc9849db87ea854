import { describe, expect, it } from 'vitest';
import { SampleError } from '../errors.js';
import { TopKProcessor } from './top-k.js';

const ctx = { ids: [], promptLength: 0 };
const NEG = -Infinity;
const run = (p: TopKProcessor, xs: number[]) => {
  const l = Float32Array.from(xs);
  p.process(l, ctx);
  return Array.from(l);
};

describe('TopKProcessor (HF TopKLogitsWarper)', () => {
  it('hand-computed: removes logits < the k-th largest', () => {
    // [1, 4, 2, 2, 0] sorted desc = 4, 2, 2, 1, 0
    // k = 1: threshold 4 → [−∞, 4, −∞, −∞, −∞]
    expect(run(new TopKProcessor(1), [1, 4, 2, 2, 0])).toEqual([NEG, 4, NEG, NEG, NEG]);
    // k = 2: threshold 2 → both tied 2s stay (HF keeps ties at the k-th value)
    expect(run(new TopKProcessor(2), [1, 4, 2, 2, 0])).toEqual([NEG, 4, 2, 2, NEG]);
    // k = 4: threshold 1 → only 0 goes
    expect(run(new TopKProcessor(4), [1, 4, 2, 2, 0])).toEqual([1, 4, 2, 2, NEG]);
  });
  it('minTokensToKeep raises k (HF: top_k = max(top_k, min_tokens_to_keep))', () => {
    // k = max(1, 3) = 3: threshold 2 → [−∞, 4, 2, 2, −∞]
    expect(run(new TopKProcessor(1, { minTokensToKeep: 3 }), [1, 4, 2, 2, 0])).toEqual([NEG, 4, 2, 2, NEG]);
  });
  it('k ≥ V, V = 1, and fewer finite logits than k change nothing', () => {
    expect(run(new TopKProcessor(10), [3, 1, 2])).toEqual([3, 1, 2]);
    expect(run(new TopKProcessor(1), [5])).toEqual([5]);
    // k = 2 on [−∞, 1, −∞]: the 2nd largest is −∞, nothing is < −∞
    expect(run(new TopKProcessor(2), [NEG, 1, NEG])).toEqual([NEG, 1, NEG]);
  });
  it('rejects k < 1 or non-integers', () => {
    for (const k of [0, -1, 2.5, NaN]) expect(() => new TopKProcessor(k)).toThrow(SampleError);
    expect(() => new TopKProcessor(2, { minTokensToKeep: 0 })).toThrow(SampleError);
  });
});
