// The planner against published numbers (Chinchilla, GPT-3) and hand-computed memory; the
// parameter count against a real model's weights; the probe and the peak measurement on a real loop.
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@llm/tensor-gpu';
import { TransformerLM, countParameters, type ModelConfigInput } from '@llm/transformer';
import { TrainError } from '../errors.js';
import { chinchillaParams, chinchillaTokens, computeOptimal, trainingFlops } from './scaling.js';
import { configParams, trainingMemory } from './memory.js';
import { makePlan, formatBytes } from './plan.js';
import { measureTrainingPeak, probeThroughput } from './probe.js';

beforeAll(() => initBackend({ backend: 'wasm', log: false }).then(() => undefined));

describe('scaling laws', () => {
  it('Chinchilla: 70B params ↔ 1.4T tokens; 6·N·D within 2.1% of the paper’s 5.76e23 FLOPs', () => {
    expect(chinchillaTokens(70e9)).toBe(1.4e12);
    expect(chinchillaParams(1.4e12)).toBe(70e9);
    expect(trainingFlops(70e9, 1.4e12)).toBeCloseTo(5.88e23, -20);
    expect(Math.abs(trainingFlops(70e9, 1.4e12) / 5.76e23 - 1)).toBeLessThan(0.021);
    const opt = computeOptimal(5.88e23);
    expect(opt.params).toBeCloseTo(70e9, -6);
    expect(opt.tokens).toBeCloseTo(1.4e12, -7);
  });

  it('GPT-3 175B on 300B tokens: 6·N·D = 3.15e23, the paper’s 3.14e23 within 0.5%', () => {
    expect(Math.abs(trainingFlops(175e9, 300e9) / 3.14e23 - 1)).toBeLessThan(0.005);
  });

  it('rejects non-positive inputs with INVALID_ARGUMENT', () => {
    for (const f of [() => chinchillaTokens(0), () => trainingFlops(1, -1), () => computeOptimal(Number.NaN)]) {
      expect(f).toThrow(TrainError);
    }
  });
});

describe('memory', () => {
  const gpt2: ModelConfigInput = { family: 'gpt2', vocabSize: 10, nLayer: 1, nHead: 2, nEmbd: 8, blockSize: 4 };
  const llama: ModelConfigInput = { family: 'llama', vocabSize: 10, nLayer: 1, nHead: 2, nKvHead: 1, nEmbd: 8, intermediateSize: 16, blockSize: 4 };

  it('parameter counts: by hand, and equal to a real model’s weights', () => {
    // gpt2: wte 80 + wpe 32 + ln_1 16 + c_attn 8·24+24 + attn.c_proj 64+8 + ln_2 16 + c_fc 8·32+32 + mlp.c_proj 32·8+8 + ln_f 16 (tied head)
    expect(configParams(gpt2)).toBe(80 + 32 + 16 + 216 + 72 + 16 + 288 + 264 + 16);
    // llama: embed 80 + input norm 8 + q 64 + k 32 + v 32 + o 64 + post norm 8 + gate 128 + up 128 + down 128 + norm 8 + lm_head 80
    expect(configParams(llama)).toBe(760);
    for (const c of [gpt2, llama, { ...gpt2, nLayer: 3, bias: false, tieWordEmbeddings: false }]) {
      const m = new TransformerLM(c);
      expect(configParams(c)).toBe(countParameters(m));
      m.dispose();
    }
  });

  it('bytes by hand: 16·N for weights, gradients, m and v; activations from the formula', () => {
    // gpt2, batch 2: s·b = 8. Per layer (elements): attention 64 + 64 + 2·64 + 2·2·16 + 64 = 384; MLP 64 + 2·8·32 = 576; norms 128 → 1088 → 4352 bytes.
    // Head: 64 + 2·8·10 = 224 → 896 bytes.
    expect(trainingMemory(gpt2, 2)).toEqual({ params: 1000, weights: 4000, gradients: 4000, optimizer: 8000, perLayer: 4352, head: 896, activations: 5248, total: 21248 });
    // llama, batch 1: s·b = 4. Attention 32 + 32 + 2·4·4 + 2·16 + 32 = 160; MLP 32 + 4·4·16 = 288; norms 64 → 512 → 2048 bytes. Head 32 + 2·40 = 112 → 448.
    expect(trainingMemory(llama, 1)).toMatchObject({ params: 760, perLayer: 2048, head: 448, activations: 2496, total: 16 * 760 + 2496 });
    expect(() => trainingMemory(gpt2, 0)).toThrow(/batchSize must be an integer ≥ 1/);
  });

  it('formatBytes', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(3 * 1024 * 1024)).toBe('3.00 MiB');
  });
});

describe('makePlan', () => {
  it('from params, tokens, or minutes at a measured rate (hand-computed)', () => {
    expect(makePlan({ params: 1e6 })).toEqual({ params: 1e6, tokens: 2e7, flops: 1.2e14, tokensPerParam: 20, optimal: { params: expect.closeTo(1e6, 3), tokens: expect.closeTo(2e7, 1) } });
    expect(makePlan({ tokens: 2e7 })).toMatchObject({ params: 1e6, flops: 1.2e14 });
    const config: ModelConfigInput = { family: 'gpt2', vocabSize: 10, nLayer: 1, nHead: 2, nEmbd: 8, blockSize: 4 };
    // N = 1000; 1,500 tok/s for 10 minutes → 900,000 tokens; 6·N·D = 5.4e9 FLOPs at 6·1000·1500 = 9e6 FLOP/s → 600 s; 8 tokens a step → 112,500 steps
    const p = makePlan({ minutes: 10, model: { config, batchSize: 2 }, probe: { tokensPerSec: 1500 } });
    expect(p).toMatchObject({ params: 1000, tokens: 900_000, flops: 5.4e9, steps: 112_500, throughput: { tokensPerSec: 1500, flopsPerSec: 9e6 } });
    expect(p.seconds).toBeCloseTo(600, 9);
    expect(p.optimal.params).toBeCloseTo(Math.sqrt(5.4e9 / 120), 6);
    // 1e4 params → 2e5 tokens, 1.2e10 FLOPs at 9e6 FLOP/s → 1333.3 s
    expect(makePlan({ params: 1e4, model: { config, batchSize: 2 }, probe: { tokensPerSec: 1500 } }).seconds).toBeCloseTo(1.2e10 / 9e6, 6);
    expect(() => makePlan({ params: 1, tokens: 2 })).toThrow(/exactly one of params, tokens, minutes/);
    expect(() => makePlan({ minutes: 1 })).toThrow(/needs the model config and a probe/);
  });
});

describe('probe and peak (real training loop)', () => {
  const config: ModelConfigInput = { family: 'gpt2', vocabSize: 32, nLayer: 1, nHead: 2, nEmbd: 16, blockSize: 8 };
  it('probeThroughput: tokens/s = batch · blockSize / ms per step, over the timed steps', async () => {
    const m = new TransformerLM(config);
    const p = await probeThroughput(m, { batchSize: 2, steps: 3, warmup: 1 });
    expect(p.steps).toBe(3);
    expect(p.tokensPerStep).toBe(16);
    expect(p.tokensPerSec).toBeCloseTo((16 * 1000) / p.msPerStep, 6);
    expect(p.msPerStep).toBeGreaterThan(0);
    m.dispose();
  });

  it('measureTrainingPeak: the peak holds at least the weights, AdamW moments and the formula’s activations’ order of magnitude', async () => {
    const m = new TransformerLM(config);
    const mem = trainingMemory(config, 4);
    const { peakBytes, startBytes } = await measureTrainingPeak(m, 4);
    expect(startBytes).toBeGreaterThanOrEqual(mem.weights);
    expect(peakBytes - startBytes).toBeGreaterThan(mem.optimizer); // m and v are live during step 2
    m.dispose();
  });
});
