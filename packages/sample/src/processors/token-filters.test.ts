import { describe, expect, it } from 'vitest';
import { SampleError } from '../errors.js';
import type { LogitsProcessor } from '../types.js';
import { AllowedTokensProcessor } from './allowed-tokens.js';
import { BadWordsProcessor } from './bad-words.js';
import { LogitBiasProcessor } from './logit-bias.js';

const NEG = -Infinity;
const run = (p: LogitsProcessor, xs: number[], ids: number[] = []) => {
  const l = Float32Array.from(xs);
  p.process(l, { ids, promptLength: 0 });
  return Array.from(l);
};

describe('BadWordsProcessor (HF NoBadWordsLogitsProcessor)', () => {
  const p = new BadWordsProcessor([[3], [1, 2]]);
  it('bans one-token entries always and the last token of a longer one after its prefix', () => {
    // ids end with 1 → [1, 2] matches → 2 banned; [3] always → 3 banned
    expect(run(p, [0, 0, 0, 0], [0, 1])).toEqual([0, 0, NEG, NEG]);
    // ids end with 0 → only 3
    expect(run(p, [0, 0, 0, 0], [1, 0])).toEqual([0, 0, 0, NEG]);
    // prefix = the whole context matches; a prefix longer than the context does not
    expect(run(new BadWordsProcessor([[1, 2]]), [0, 0, 0], [1])).toEqual([0, 0, NEG]);
    expect(run(new BadWordsProcessor([[0, 1, 2]]), [0, 0, 0], [1])).toEqual([0, 0, 0]);
    // a 3-token entry: ids end with [0, 1] → ban 2
    expect(run(new BadWordsProcessor([[0, 1, 2]]), [0, 0, 0], [2, 0, 1])).toEqual([0, 0, NEG]);
  });
  it('rejects empty entries, bad ids, and ids outside the vocabulary', () => {
    expect(() => new BadWordsProcessor([[]])).toThrow(SampleError);
    expect(() => new BadWordsProcessor([[-1]])).toThrow(SampleError);
    expect(() => new BadWordsProcessor([[1.5]])).toThrow(SampleError);
    expect(() => run(new BadWordsProcessor([[9]]), [0, 0])).toThrow(SampleError);
  });
});

describe('AllowedTokensProcessor', () => {
  it('bans everything else; allowed −∞ stays −∞', () => {
    expect(run(new AllowedTokensProcessor([0, 2]), [1, 2, 3])).toEqual([1, NEG, 3]);
    expect(run(new AllowedTokensProcessor(new Set([2, 2, 1])), [NEG, NEG, 4])).toEqual([NEG, NEG, 4]);
    expect(run(new AllowedTokensProcessor([0]), [5])).toEqual([5]);
  });
  it('rejects an empty set, bad ids, and ids outside the vocabulary', () => {
    expect(() => new AllowedTokensProcessor([])).toThrow(SampleError);
    expect(() => new AllowedTokensProcessor([-1])).toThrow(SampleError);
    expect(() => run(new AllowedTokensProcessor([0, 3]), [1, 2])).toThrow(SampleError);
  });
});

describe('LogitBiasProcessor (OpenAI logit_bias)', () => {
  it('adds the bias; −∞ bans; a banned token stays banned', () => {
    expect(run(new LogitBiasProcessor({ 0: 2, 2: -Infinity }), [1, 1, 1])).toEqual([3, 1, NEG]);
    expect(run(new LogitBiasProcessor(new Map([[1, -0.5]])), [NEG, 1])).toEqual([NEG, 0.5]);
    expect(run(new LogitBiasProcessor({ 0: 100 }), [NEG, 1])).toEqual([NEG, 1]);
    // JSON keys are strings
    expect(run(new LogitBiasProcessor(JSON.parse('{"1": -100}') as Record<number, number>), [0, 0])).toEqual([0, -100]);
  });
  it('rejects NaN / +∞ biases, non-id keys, and ids outside the vocabulary', () => {
    expect(() => new LogitBiasProcessor({ 0: NaN })).toThrow(SampleError);
    expect(() => new LogitBiasProcessor({ 0: Infinity })).toThrow(SampleError);
    expect(() => new LogitBiasProcessor(new Map([[-1, 1]]))).toThrow(SampleError);
    expect(() => new LogitBiasProcessor(JSON.parse('{"a": 1}') as Record<number, number>)).toThrow(SampleError);
    expect(() => run(new LogitBiasProcessor({ 5: 1 }), [0])).toThrow(SampleError);
  });
});
