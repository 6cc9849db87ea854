// Quantized activations end to end: with activations 'q8' (the default 'auto') the linears of
// q8_0 / q4_0 / q4_1 / q5_0 weights run on Q8-quantized inputs and those of q4_K / q6_K on Q8_K
// (kernels/q8.test.ts checks the kernels against ggml's formulas). Here: the logits stay close to the exact f32-
// activation path of the same packed weights, differ from it (the path is on), threads 2 and 3 =
// 1 thread bit for bit, and the option resolves as documented.
//
// Tolerance: Q8 rounds each input to within d/2 = amax/254 of its 32-block (for Gaussian-like
// inputs ≈ 0.5% of their RMS, as RMS error; Q8_K's one scale per 256 about 1.4× that), at every
// linear of every layer, and the errors compound over the layers; on these random 2-layer models
// (logits up to ~4) the measured max |Δ| is 1.4–2.4% of max |logit| for Q8 and 2.2–3.3% for Q8_K,
// the mean |Δ| 0.33–0.44% and 0.46–0.70%. We require ≤ 5% and ≤ 1%: a wrong scale, level or sum
// term (q4_1's m·s, q4_K's mins) shifts logits by tens of percent. An MoE can route a token to
// another expert when its input moves (a discontinuity: one logit row then differs by ~50%); the
// wide MoE case does, so it checks the rest only. Bit-exactness of the quantization and the dots
// against ggml's formulas is kernels/q8.test.ts's job.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelConfigInput, TransformerLM } from '@llm/transformer';
import { compileForInference, type WeightFormat } from '../compile.js';
import { loadGgufForInference } from '../gguf.js';
import type { InferenceModel } from './model.js';
import { CONFIGS, expectInferError, maxAbsDiff, randomIdRows, randomModel, useWasm } from '../testing/helpers.js';

beforeAll(useWasm);

/** Prefill of 8 tokens (all logits), then 3 decode steps. */
const run = (m: InferenceModel, ids: number[]): Float32Array => {
  const s = m.newSequence();
  const out = m.step([{ seq: s, tokens: ids.slice(0, 8) }], { allLogits: true });
  for (const t of ids.slice(8)) out.push(...m.step([{ seq: s, tokens: [t] }]));
  s.free();
  return Float32Array.from(out.flatMap((r) => Array.from(r)));
};

/**
 * Widths of whole 256-blocks for the K-quants (every linear then runs q4_K / q6_K, none falls
 * back); initStd scaled by √(32/256) so activations and logits have the small configs' scale.
 */
const K = { nEmbd: 256, nHead: 4, initStd: 0.07 };
const K_LLAMA = { ...CONFIGS.llama, ...K, nKvHead: 2, intermediateSize: 256 };
const K_GPT2 = { ...CONFIGS.gpt2, ...K, tieWordEmbeddings: false };
const K_MOE = { ...CONFIGS.moe, ...K, intermediateSize: 256 };

/** [name, weights, config, routing flips under Q8 (skip the closeness bounds)] */
const cases: Array<[string, WeightFormat, ModelConfigInput, boolean?]> = [
  ['gpt2', 'q8_0', CONFIGS.gpt2],
  ['gpt2', 'q4_1', CONFIGS.gpt2],
  ['llama', 'q4_0', CONFIGS.llama],
  ['llama', 'q5_0', CONFIGS.llama],
  ['moe', 'q8_0', CONFIGS.moe],
  ['moe', 'q4_1', CONFIGS.moe],
  ['gpt2moe', 'q4_0', CONFIGS.gpt2moe],
  ['llama (256 wide)', 'q4_k', K_LLAMA],
  ['llama (256 wide)', 'q6_k', K_LLAMA],
  ['gpt2 (256 wide, untied head)', 'q6_k', K_GPT2],
  ['moe (256 wide)', 'q4_k', K_MOE, true],
];

describe.each(cases)('%s %s', (_, weights, cfg, flips) => {
  let ref: TransformerLM;
  beforeAll(() => {
    ref = randomModel(cfg);
  });
  afterAll(() => ref.dispose());

  it("activations 'q8' ≈ 'f32' on the same weights; 'auto' is 'q8'", () => {
    const ids = randomIdRows(1, 11, cfg.vocabSize, 4)[0]!;
    const exact = compileForInference(ref, { weights, maxTokens: 64, activations: 'f32' });
    const q8 = compileForInference(ref, { weights, maxTokens: 64, activations: 'q8' });
    const auto = compileForInference(ref, { weights, maxTokens: 64 });
    expect([exact.activations, q8.activations, auto.activations]).toEqual(['f32', 'q8', 'q8']);
    expect(q8.fallbacks).toEqual([]);
    const a = run(exact, ids);
    const b = run(q8, ids);
    const top = Math.max(...a.map(Math.abs));
    const d = maxAbsDiff(a, b);
    const mean = a.reduce((s, v, i) => s + Math.abs(v - b[i]!), 0) / a.length;
    expect(top).toBeGreaterThan(0.5);
    expect(d).toBeGreaterThan(0); // the Q8 path ran
    expect(b.every(Number.isFinite)).toBe(true);
    if (!flips) {
      expect(d).toBeLessThanOrEqual(0.05 * top);
      expect(mean).toBeLessThanOrEqual(0.01 * top);
    }
    expect(Buffer.from(run(auto, ids).buffer).equals(Buffer.from(b.buffer))).toBe(true);
    for (const m of [exact, q8, auto]) m.dispose();
  });

  it.each([2, 3])('%i threads = 1 thread, bit for bit', (threads) => {
    const prompts = randomIdRows(3, 9, cfg.vocabSize, 8);
    const opts = { weights, maxTokens: 128, blockTokens: 4, maxBatchTokens: 16, activations: 'q8' } as const;
    const one = compileForInference(ref, { ...opts, threads: 1 });
    const many = compileForInference(ref, { ...opts, threads });
    const go = (m: InferenceModel): Float32Array => {
      const seqs = prompts.map(() => m.newSequence());
      const out = m.step(prompts.map((p, i) => ({ seq: seqs[i]!, tokens: p })), { allLogits: true });
      for (let s = 0; s < 2; s++) out.push(...m.step(seqs.map((seq, i) => ({ seq, tokens: [(s * 7 + i) % 30] }))));
      seqs.forEach((s) => s.free());
      return Float32Array.from(out.flatMap((r) => Array.from(r)));
    };
    const a = go(one);
    const b = go(many);
    expect(Buffer.from(b.buffer).equals(Buffer.from(a.buffer))).toBe(true);
    one.dispose();
    many.dispose();
  });
});

describe('the option', () => {
  it("f32 / f16 weights have no integer-dot kernel: activations resolve to 'f32' and the logits are those of activations 'f32'", () => {
    const ref = randomModel(CONFIGS.llama);
    const ids = randomIdRows(1, 10, 60, 2)[0]!;
    for (const weights of ['f32', 'f16'] as const) {
      const a = compileForInference(ref, { weights, maxTokens: 32 });
      const b = compileForInference(ref, { weights, maxTokens: 32, activations: 'f32' });
      expect(a.activations).toBe('f32');
      expect(Buffer.from(run(a, ids).buffer).equals(Buffer.from(run(b, ids).buffer))).toBe(true);
      a.dispose();
      b.dispose();
    }
    ref.dispose();
  });

  it('an untied q8_0 head runs on Q8 too (its logits move with the activations)', () => {
    const ref = randomModel({ ...CONFIGS.gpt2, tieWordEmbeddings: false });
    const ids = randomIdRows(1, 10, 50, 6)[0]!;
    const a = compileForInference(ref, { weights: 'q8_0', maxTokens: 32, activations: 'f32' });
    const b = compileForInference(ref, { weights: 'q8_0', maxTokens: 32 });
    const x = run(a, ids);
    const y = run(b, ids);
    expect(maxAbsDiff(x, y)).toBeGreaterThan(0);
    expect(maxAbsDiff(x, y)).toBeLessThanOrEqual(0.05 * Math.max(...x.map(Math.abs)));
    for (const m of [a, b, ref]) m.dispose();
  });

  it('an unknown value is INVALID_ARGUMENT', async () => {
    const ref = randomModel(CONFIGS.gpt2);
    await expectInferError(() => compileForInference(ref, { activations: 'int8' as never }), 'INVALID_ARGUMENT', /activations must be one of auto, f32, q8/);
    ref.dispose();
  });
});

it('loadGgufForInference takes the option (a q4_0 GGUF: auto → q8)', async () => {
  const { exportGguf } = await import('@llm/quant');
  const { mkdtempSync, readFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const model = randomModel({ ...CONFIGS.llama, vocabSize: 64 });
  const file = join(mkdtempSync(join(tmpdir(), 'q8-')), 'm.gguf');
  await exportGguf({ model, tokenizer: null } as never, file, { type: 'q4_0', idsOnly: true });
  const bytes = new Uint8Array(readFileSync(file));
  const a = await loadGgufForInference(bytes, { maxTokens: 32 });
  const b = await loadGgufForInference(bytes, { maxTokens: 32, activations: 'f32' });
  expect([a.activations, b.activations]).toEqual(['q8', 'f32']);
  const ids = randomIdRows(1, 10, 64, 1)[0]!;
  const x = run(a, ids);
  const y = run(b, ids);
  expect(maxAbsDiff(x, y)).toBeGreaterThan(0);
  expect(maxAbsDiff(x, y)).toBeLessThanOrEqual(0.05 * Math.max(...y.map(Math.abs)));
  for (const m of [a, b, model]) m.dispose();
});
