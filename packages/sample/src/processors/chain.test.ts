import { describe, expect, it } from 'vitest';
import { SampleError } from '../errors.js';
import { sampleToken, softmax } from '../sampling.js';
import { rng as seededUniform } from '@llm/kit';
import { chiSquareGoodnessOfFit } from '../testing/stats.js';
import type { SampleContext } from '../types.js';
import { AllowedTokensProcessor } from './allowed-tokens.js';
import { BadWordsProcessor } from './bad-words.js';
import { applyProcessors, buildProcessors, type SamplingOptions } from './chain.js';
import { FrequencyPresencePenaltyProcessor } from './frequency-presence-penalty.js';
import { GreedyProcessor } from './greedy.js';
import { LogitBiasProcessor } from './logit-bias.js';
import { MinPProcessor } from './min-p.js';
import { NoRepeatNGramProcessor } from './no-repeat-ngram.js';
import { RepetitionPenaltyProcessor } from './repetition-penalty.js';
import { TemperatureProcessor } from './temperature.js';
import { TopKProcessor } from './top-k.js';
import { TopPProcessor } from './top-p.js';
import { TypicalPProcessor } from './typical-p.js';

const NEG = -Infinity;
const ctx0: SampleContext = { ids: [], promptLength: 0 };
const kinds = (opts: SamplingOptions) => buildProcessors(opts).map((p) => p.constructor);

// Independent reference definitions (descending formulation, not HF's ascending one):
const byProbDesc = (x: Float32Array) => Array.from(x.keys()).sort((a, b) => x[b]! - x[a]!);
/** The k tokens with the largest logits (random logits: no ties). */
const refTopK = (x: Float32Array, k: number) => new Set(byProbDesc(x).slice(0, k));
/** Most probable first, add tokens while the mass already taken is < p. */
const refNucleus = (x: Float32Array, p: number) => {
  const q = softmax(x);
  const kept = new Set<number>();
  let mass = 0;
  for (const i of byProbDesc(x)) {
    if (mass >= p) break;
    kept.add(i);
    mass += q[i]!;
  }
  return kept;
};
const randomLogits = (V: number, seed: number, scale = 3) => {
  const u = seededUniform(seed);
  return Float32Array.from({ length: V }, () => scale * (2 * u() - 1));
};

describe('buildProcessors: order and defaults', () => {
  it('is empty by default and for values that switch steps off (as HF)', () => {
    expect(buildProcessors()).toEqual([]);
    expect(
      buildProcessors({
        temperature: 1,
        topK: 0,
        topP: 1,
        minP: 0,
        typicalP: 1,
        repetitionPenalty: 1,
        frequencyPenalty: 0,
        presencePenalty: 0,
        noRepeatNgramSize: 0,
        badWords: [],
        logitBias: {},
      }),
    ).toEqual([]);
  });
  it('orders context processors → temperature → top-k → top-p → min-p → typical-p', () => {
    expect(
      kinds({
        typicalP: 0.9,
        minP: 0.05,
        topP: 0.9,
        topK: 40,
        temperature: 0.7,
        logitBias: { 1: 1 },
        allowedTokens: [0, 1, 2],
        badWords: [[2]],
        noRepeatNgramSize: 3,
        presencePenalty: 0.5,
        repetitionPenalty: 1.1,
      }),
    ).toEqual([
      RepetitionPenaltyProcessor,
      FrequencyPresencePenaltyProcessor,
      NoRepeatNGramProcessor,
      BadWordsProcessor,
      AllowedTokensProcessor,
      LogitBiasProcessor,
      TemperatureProcessor,
      TopKProcessor,
      TopPProcessor,
      MinPProcessor,
      TypicalPProcessor,
    ]);
  });
  it('temperature 0 = context processors then GreedyProcessor, warpers skipped', () => {
    expect(kinds({ temperature: 0, topK: 5, topP: 0.5, repetitionPenalty: 1.3 })).toEqual([
      RepetitionPenaltyProcessor,
      GreedyProcessor,
    ]);
  });
  it('passes penaltyLastN to both penalties', () => {
    const [rep, freq] = buildProcessors({ repetitionPenalty: 2, frequencyPenalty: 1, penaltyLastN: 4 });
    expect((rep as RepetitionPenaltyProcessor).lastN).toBe(4);
    expect((freq as FrequencyPresencePenaltyProcessor).lastN).toBe(4);
  });
  it('rejects bad values with SampleError(INVALID_ARGUMENT) naming the option', () => {
    const bad: [SamplingOptions, RegExp][] = [
      [{ temperature: -0.1 }, /temperature/],
      [{ temperature: NaN }, /temperature/],
      [{ topK: -1 }, /topK/],
      [{ topK: 1.5 }, /topK/],
      [{ topP: 0 }, /topP/],
      [{ topP: 1.01 }, /topP/],
      [{ minP: -0.1 }, /minP/],
      [{ minP: 2 }, /minP/],
      [{ typicalP: 0 }, /typicalP/],
      [{ typicalP: 1.5 }, /typicalP/],
      [{ repetitionPenalty: 0 }, /repetitionPenalty/],
      [{ repetitionPenalty: -1 }, /repetitionPenalty/],
      [{ frequencyPenalty: Infinity }, /frequencyPenalty/],
      [{ presencePenalty: NaN }, /presencePenalty/],
      [{ penaltyLastN: -1 }, /penaltyLastN/],
      [{ noRepeatNgramSize: -1 }, /noRepeatNgramSize/],
      [{ allowedTokens: [] }, /allowedTokens/],
      [{ badWords: [[]] }, /badWords/],
      [{ logitBias: { 0: NaN } }, /logitBias/],
      [{ temperature: 0, topP: 2 }, /topP/], // validated even when greedy skips it
    ];
    for (const [opts, msg] of bad) {
      let err: unknown;
      try {
        buildProcessors(opts);
      } catch (e) {
        err = e;
      }
      expect(err, JSON.stringify(opts)).toBeInstanceOf(SampleError);
      expect((err as SampleError).code).toBe('INVALID_ARGUMENT');
      expect((err as SampleError).message).toMatch(msg);
    }
  });
});

describe('applyProcessors', () => {
  it('hand-computed chain: repetition 2 → temperature 0.5 → top-k 2', () => {
    // [2, 1, 0, −1], ids [0]: repetition → t0 2/2 = 1 → [1, 1, 0, −1]
    // temperature 0.5 → [2, 2, 0, −2]; top-k 2 (threshold 2) → [2, 2, −∞, −∞]
    const chain = buildProcessors({ repetitionPenalty: 2, temperature: 0.5, topK: 2 });
    const out = applyProcessors(Float32Array.of(2, 1, 0, -1), chain, { ids: [0], promptLength: 1 });
    expect(Array.from(out)).toEqual([2, 2, NEG, NEG]);
  });
  it('bans stick through the bias: allowed {0, 1} + bias +5 on 2 → 2 stays banned', () => {
    const chain = buildProcessors({ allowedTokens: [0, 1], logitBias: { 2: 5, 1: 1 } });
    expect(Array.from(applyProcessors(Float32Array.of(0, 0, 0), chain, ctx0))).toEqual([0, 1, NEG]);
  });
  it('edge rows: V = 1 and all −∞ but one survive every step', () => {
    const all: SamplingOptions = {
      temperature: 0.7, topK: 3, topP: 0.5, minP: 0.5, typicalP: 0.5,
      repetitionPenalty: 1.5, frequencyPenalty: 1, presencePenalty: 1, noRepeatNgramSize: 2,
    };
    const rng = seededUniform(4);
    const one = applyProcessors(Float32Array.of(0.3), buildProcessors(all), { ids: [0], promptLength: 0 });
    expect(sampleToken(one, rng)).toBe(0);
    const row = applyProcessors(Float32Array.of(NEG, NEG, 1, NEG), buildProcessors(all), ctx0);
    expect(Array.from(row)).toEqual([NEG, NEG, 1 / 0.7, NEG].map((v) => Math.fround(v)));
    expect(sampleToken(row, rng)).toBe(2);
  });
  it('rejects NaN / +∞ logits and a bad promptLength', () => {
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        return e instanceof SampleError ? e.code : 'other';
      }
      return 'none';
    };
    expect(code(() => applyProcessors(Float32Array.of(0, NaN), [], ctx0))).toBe('INVALID_ARGUMENT');
    expect(code(() => applyProcessors(Float32Array.of(Infinity), [], ctx0))).toBe('INVALID_ARGUMENT');
    expect(code(() => applyProcessors(new Float32Array(0), [], ctx0))).toBe('SHAPE_MISMATCH');
    expect(code(() => applyProcessors(Float32Array.of(0), [], { ids: [1], promptLength: 2 }))).toBe('INVALID_ARGUMENT');
  });
});

describe('statistical checks (fixed seeds)', () => {
  it('top-k never emits a token outside the top k (V = 50, k = 5, T = 1.5, 5,000 draws)', () => {
    const x = randomLogits(50, 21);
    const top = refTopK(x, 5);
    const chain = buildProcessors({ topK: 5, temperature: 1.5 });
    const processed = applyProcessors(Float32Array.from(x), chain, ctx0);
    const rng = seededUniform(2);
    for (let i = 0; i < 5000; i++) {
      const t = sampleToken(processed, rng);
      if (!top.has(t)) throw new Error(`drew ${t}, outside the top 5 ${[...top]}`);
    }
  });
  it('top-p never emits outside the nucleus; the kept set equals the reference nucleus (20 rows)', () => {
    const rng = seededUniform(3);
    for (let r = 0; r < 20; r++) {
      const x = randomLogits(40, 100 + r);
      const p = 0.5 + 0.45 * rng();
      const nucleus = refNucleus(x, p);
      const processed = applyProcessors(Float32Array.from(x), [new TopPProcessor(p)], ctx0);
      const kept = new Set(Array.from(processed.keys()).filter((i) => processed[i] !== NEG));
      expect(kept).toEqual(nucleus);
      for (let i = 0; i < 250; i++) {
        const t = sampleToken(processed, rng);
        if (!nucleus.has(t)) throw new Error(`drew ${t}, outside the nucleus`);
      }
    }
  });
  it('sampled frequencies after the full chain match its distribution: χ², 20,000 draws, p > 0.001', () => {
    // V = 20 random logits through temperature 0.8 → top-k 12 → top-p 0.95 → min-p 0.1.
    const x = randomLogits(20, 7);
    const opts: SamplingOptions = { temperature: 0.8, topK: 12, topP: 0.95, minP: 0.1 };
    const chain = buildProcessors(opts);
    // Expected distribution from the reference definitions, independently of the processors:
    const top12 = refTopK(x, 12);
    const afterTopK = Float32Array.from(x, (v, i) => (top12.has(i) ? v / 0.8 : NEG));
    const nucleus = refNucleus(afterTopK, 0.95);
    const afterTopP = Float32Array.from(afterTopK, (v, i) => (nucleus.has(i) ? v : NEG));
    const q = softmax(afterTopP);
    const qMax = Math.max(...q);
    const afterMinP = Float32Array.from(afterTopP, (v, i) => (q[i]! >= 0.1 * qMax ? v : NEG));
    const expected = Array.from(softmax(afterMinP));
    // every step bites on this row: 20 → 12 (top-k) → fewer (top-p) → fewer (min-p)
    const count = (a: Float32Array) => a.filter((v) => v !== NEG).length;
    expect([count(afterTopK), count(afterTopP), count(afterMinP)]).toEqual([12, nucleus.size, count(afterMinP)]);
    expect(nucleus.size).toBeLessThan(12);
    expect(count(afterMinP)).toBeLessThan(nucleus.size);

    const processed = applyProcessors(Float32Array.from(x), chain, ctx0);
    Array.from(softmax(processed)).forEach((q, i) => expect(q).toBeCloseTo(expected[i]!, 6));

    const rng = seededUniform(2024);
    const counts = new Array<number>(20).fill(0);
    for (let i = 0; i < 20_000; i++) {
      counts[sampleToken(applyProcessors(Float32Array.from(x), chain, ctx0), rng)]!++;
    }
    const { pValue, df } = chiSquareGoodnessOfFit(counts, expected);
    expect(df).toBeGreaterThanOrEqual(3);
    expect(pValue).toBeGreaterThan(0.001);
  });
  it('same seed → same generated sequence through a context-dependent chain', () => {
    // A toy "model": logits depend on the last id; the chain penalizes repeats and bans 3-gram repeats.
    const V = 12;
    const model = (last: number) => Float32Array.from({ length: V }, (_, j) => Math.cos(last * 1.7 + j));
    const opts: SamplingOptions = { temperature: 0.9, topP: 0.9, repetitionPenalty: 1.3, noRepeatNgramSize: 3 };
    const generate = (seed: number) => {
      const rng = seededUniform(seed);
      const chain = buildProcessors(opts);
      const ids = [0, 5];
      for (let s = 0; s < 60; s++) {
        const logits = applyProcessors(model(ids[ids.length - 1]!), chain, { ids, promptLength: 2 });
        ids.push(sampleToken(logits, rng));
      }
      return ids;
    };
    expect(generate(99)).toEqual(generate(99));
    expect(generate(99)).not.toEqual(generate(100));
    // no 3-gram occurs twice
    const seq = generate(99);
    const grams = new Set<string>();
    for (let i = 0; i + 3 <= seq.length; i++) {
      const g = seq.slice(i, i + 3).join(',');
      expect(grams.has(g)).toBe(false);
      grams.add(g);
    }
  });
});
