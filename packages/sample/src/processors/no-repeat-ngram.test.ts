import { describe, expect, it } from 'vitest';
import { SampleError } from '../errors.js';
import { NoRepeatNGramProcessor } from './no-repeat-ngram.js';

const NEG = -Infinity;
const run = (n: number, V: number, ids: number[]) => {
  const l = new Float32Array(V);
  new NoRepeatNGramProcessor(n).process(l, { ids, promptLength: 0 });
  return Array.from(l);
};

describe('NoRepeatNGramProcessor (HF NoRepeatNGramLogitsProcessor)', () => {
  it('hand-computed bans', () => {
    // n = 2, ids [1, 2, 1]: prefix [1]; bigrams [1,2], [2,1] → [1,2] matches → ban 2
    expect(run(2, 3, [1, 2, 1])).toEqual([0, 0, NEG]);
    // n = 2, ids [1, 2, 1, 3, 1]: prefix [1]; bigrams starting with 1: [1,2], [1,3] → ban 2, 3
    expect(run(2, 4, [1, 2, 1, 3, 1])).toEqual([0, 0, NEG, NEG]);
    // n = 3, ids [1, 2, 3, 1, 2]: prefix [1, 2]; trigram [1,2,3] → ban 3
    expect(run(3, 5, [1, 2, 3, 1, 2])).toEqual([0, 0, 0, NEG, 0]);
    // n = 2, ids [1, 1]: the bigram [1,1] occurred and the prefix is [1] → ban 1
    expect(run(2, 2, [1, 1])).toEqual([0, NEG]);
    // n = 2, ids [2, 1]: the only bigram [2,1] does not start with the prefix [1] → nothing
    expect(run(2, 3, [2, 1])).toEqual([0, 0, 0]);
  });
  it('n = 1 bans every seen token; fewer than n ids bans nothing', () => {
    expect(run(1, 4, [3, 0, 3])).toEqual([NEG, 0, 0, NEG]);
    expect(run(3, 3, [1, 1])).toEqual([0, 0, 0]);
    expect(run(2, 3, [])).toEqual([0, 0, 0]);
  });
  it('rejects n < 1 and ids outside the vocabulary', () => {
    for (const n of [0, -2, 1.5]) expect(() => new NoRepeatNGramProcessor(n)).toThrow(SampleError);
    expect(() => run(1, 2, [5])).toThrow(SampleError);
  });
});
