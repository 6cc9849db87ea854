import { beforeAll, describe, expect, it } from 'vitest';
import { TransformerLM } from '@llm/transformer';
import { quantizeModel } from '@llm/quant';
import { compileOrFallback } from './or-fallback.js';
import { InferenceModel } from './engine/model.js';
import { CONFIGS, expectInferError, useWasm } from './testing/helpers.js';

beforeAll(useWasm);

describe('compileOrFallback', () => {
  it('gives the engine for a plain model', () => {
    const m = new TransformerLM(CONFIGS.gpt2);
    const r = compileOrFallback(m, { maxTokens: 64 });
    expect(r.engine).toBeInstanceOf(InferenceModel);
    expect(r.lm).toBe(r.engine);
    expect(r.reason).toBeNull();
    r.engine!.dispose();
    m.dispose();
  });

  it('gives the model back, with the reason, when a linear is not a plain Linear', () => {
    const m = new TransformerLM(CONFIGS.llama);
    const name = 'model.layers.0.self_attn.q_proj';
    const base = m.getModule(name);
    m.replaceModule(name, { inFeatures: base.inFeatures, outFeatures: base.outFeatures, apply: (x) => base.apply(x), namedParameters: () => [] });
    const r = compileOrFallback(m);
    expect(r.engine).toBeNull();
    expect(r.lm).toBe(m);
    expect(r.reason).toMatch(/q_proj/);
    m.replaceModule(name, base);
    m.dispose();
  });

  it("gives the engine for @llm/quant's quantized modules; an adapter over a quantized linear still falls back", () => {
    const m = new TransformerLM(CONFIGS.llama);
    quantizeModel(m, { scheme: 'nf4' });
    const r = compileOrFallback(m, { maxTokens: 64 });
    expect(r.engine).toBeInstanceOf(InferenceModel);
    expect(r.engine!.weights).toMatch(/^nf4/);
    r.engine!.dispose();
    const name = 'model.layers.1.mlp.down_proj';
    const base = m.getModule(name); // an Nf4Linear
    m.replaceModule(name, { inFeatures: base.inFeatures, outFeatures: base.outFeatures, apply: (x) => base.apply(x), namedParameters: () => [] }); // a LoRA-like wrapper
    const q = compileOrFallback(m, { maxTokens: 64 });
    expect(q.engine).toBeNull();
    expect(q.lm).toBe(m);
    expect(q.reason).toMatch(/down_proj/);
    m.replaceModule(name, base);
    m.dispose();
  });

  it('still throws for bad options', async () => {
    const m = new TransformerLM(CONFIGS.gpt2);
    await expectInferError(() => compileOrFallback(m, { weights: 'q3_k' as never }), 'UNSUPPORTED_FORMAT');
    m.dispose();
  });
});
