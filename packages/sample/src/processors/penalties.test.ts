import { describe, expect, it } from 'vitest';
import { SampleError } from '../errors.js';
import type { LogitsProcessor, SampleContext } from '../types.js';
import { FrequencyPresencePenaltyProcessor } from './frequency-presence-penalty.js';
import { RepetitionPenaltyProcessor } from './repetition-penalty.js';

const run = (p: LogitsProcessor, xs: number[], ids: number[], promptLength = 0) => {
  const l = Float32Array.from(xs);
  const ctx: SampleContext = { ids, promptLength };
  p.process(l, ctx);
  return Array.from(l);
};

describe('RepetitionPenaltyProcessor (HF RepetitionPenaltyLogitsProcessor)', () => {
  it('hand-computed: x < 0 ? x·θ : x/θ, once per distinct id, prompt included', () => {
    // θ = 2, ids [0, 2, 2] (token 0 is the prompt): t0 3 → 1.5, t2 −1 → −2 (once, not twice), t1 untouched
    expect(run(new RepetitionPenaltyProcessor(2), [3, 3, -1], [0, 2, 2], 1)).toEqual([1.5, 3, -2]);
    // θ = 0.5 rewards: t0 3 → 6, t2 −1 → −0.5; a zero logit stays 0
    expect(run(new RepetitionPenaltyProcessor(0.5), [3, 0, -1], [0, 1, 2])).toEqual([6, 0, -0.5]);
    // −∞ stays −∞
    expect(run(new RepetitionPenaltyProcessor(2), [-Infinity, 1], [0])).toEqual([-Infinity, 1]);
  });
  it('lastN looks only at the last N ids (0 = none)', () => {
    // ids [0, 2, 2]: lastN 1 or 2 → {2}; lastN 3 → {0, 2}; lastN 0 → {}
    expect(run(new RepetitionPenaltyProcessor(2, { lastN: 1 }), [3, 3, -1], [0, 2, 2])).toEqual([3, 3, -2]);
    expect(run(new RepetitionPenaltyProcessor(2, { lastN: 2 }), [3, 3, -1], [0, 2, 2])).toEqual([3, 3, -2]);
    expect(run(new RepetitionPenaltyProcessor(2, { lastN: 3 }), [3, 3, -1], [0, 2, 2])).toEqual([1.5, 3, -2]);
    expect(run(new RepetitionPenaltyProcessor(2, { lastN: 0 }), [3, 3, -1], [0, 2, 2])).toEqual([3, 3, -1]);
  });
  it('rejects penalty ≤ 0, bad lastN, and ids outside the vocabulary', () => {
    for (const p of [0, -1, NaN, Infinity]) expect(() => new RepetitionPenaltyProcessor(p)).toThrow(SampleError);
    expect(() => new RepetitionPenaltyProcessor(1.2, { lastN: -1 })).toThrow(SampleError);
    expect(() => new RepetitionPenaltyProcessor(1.2, { lastN: 1.5 })).toThrow(SampleError);
    expect(() => run(new RepetitionPenaltyProcessor(1.2), [0, 0], [5])).toThrow(SampleError);
  });
});

describe('FrequencyPresencePenaltyProcessor (OpenAI semantics, generated ids only)', () => {
  it('hand-computed: x − α·c − β·[c > 0] over ids.slice(promptLength)', () => {
    // prompt [0], generated [1, 1, 2]: c = [0, 2, 1]; α = 0.5, β = 1
    // t0: 5 (prompt only, not counted); t1: 5 − 1 − 1 = 3; t2: 5 − 0.5 − 1 = 3.5
    const p = new FrequencyPresencePenaltyProcessor({ frequency: 0.5, presence: 1 });
    expect(run(p, [5, 5, 5], [0, 1, 1, 2], 1)).toEqual([5, 3, 3.5]);
    // a prompt occurrence is never counted: prompt [1], generated [1, 2] → c = [0, 1, 1]
    expect(run(p, [5, 5, 5], [1, 1, 2], 1)).toEqual([5, 3.5, 3.5]);
    // negative values encourage: α = −1 → t1 5 + 2 = 7
    expect(run(new FrequencyPresencePenaltyProcessor({ frequency: -1 }), [5, 5], [0, 1, 1], 1)).toEqual([5, 7]);
  });
  it('lastN counts only the last N generated ids, never reaching into the prompt', () => {
    const p1 = new FrequencyPresencePenaltyProcessor({ frequency: 0.5, presence: 1, lastN: 1 });
    // generated [1, 1, 2], last 1 → [2]: t2 5 − 0.5 − 1 = 3.5
    expect(run(p1, [5, 5, 5], [0, 1, 1, 2], 1)).toEqual([5, 5, 3.5]);
    const p10 = new FrequencyPresencePenaltyProcessor({ frequency: 0.5, presence: 1, lastN: 10 });
    expect(run(p10, [5, 5, 5], [0, 1, 1, 2], 1)).toEqual([5, 3, 3.5]);
  });
  it('rejects non-finite values and ids outside the vocabulary', () => {
    expect(() => new FrequencyPresencePenaltyProcessor({ frequency: NaN })).toThrow(SampleError);
    expect(() => new FrequencyPresencePenaltyProcessor({ presence: Infinity })).toThrow(SampleError);
    expect(() => run(new FrequencyPresencePenaltyProcessor({ presence: 1 }), [0], [0, 3], 1)).toThrow(SampleError);
  });
});
