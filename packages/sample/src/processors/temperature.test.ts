import { describe, expect, it } from 'vitest';
import { SampleError } from '../errors.js';
import { GreedyProcessor } from './greedy.js';
import { TemperatureProcessor } from './temperature.js';

const ctx = { ids: [], promptLength: 0 };
const run = (p: { process(l: Float32Array, c: typeof ctx): void }, xs: number[]) => {
  const l = Float32Array.from(xs);
  p.process(l, ctx);
  return Array.from(l);
};
const NEG = -Infinity;

describe('TemperatureProcessor (HF TemperatureLogitsWarper: logits / t)', () => {
  it('divides by t; −∞ stays −∞', () => {
    // t = 0.5: [1, −2, −∞] / 0.5 = [2, −4, −∞];  t = 2: [4, 0, −1] / 2 = [2, 0, −0.5]
    expect(run(new TemperatureProcessor(0.5), [1, -2, NEG])).toEqual([2, -4, NEG]);
    expect(run(new TemperatureProcessor(2), [4, 0, -1])).toEqual([2, 0, -0.5]);
    expect(run(new TemperatureProcessor(3), [6])).toEqual([2]); // V = 1
  });
  it('rejects t ≤ 0 and non-finite t', () => {
    for (const t of [0, -1, NaN, Infinity]) {
      expect(() => new TemperatureProcessor(t)).toThrow(SampleError);
    }
  });
});

describe('GreedyProcessor (temperature 0)', () => {
  it('keeps only the first maximum', () => {
    expect(run(new GreedyProcessor(), [1, 3, 3, 0])).toEqual([NEG, 3, NEG, NEG]);
    expect(run(new GreedyProcessor(), [NEG, -5, NEG])).toEqual([NEG, -5, NEG]);
    expect(run(new GreedyProcessor(), [2])).toEqual([2]);
  });
  it('leaves an all −∞ row alone', () => {
    expect(run(new GreedyProcessor(), [NEG, NEG])).toEqual([NEG, NEG]);
  });
});
