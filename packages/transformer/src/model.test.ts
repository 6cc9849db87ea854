// Config validation, module tree, init, parameter counts, dropout and finite-difference gradients.
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { tf, crossEntropy } from '@llm/tensor-gpu';
import { TransformerLM } from './model.js';
import { resolveConfig, type ModelConfigInput } from './config.js';
import { countParameters, summarize } from './summary.js';
import { checkpointShapes } from './layout.js';
import { expectError, maxAbsDiff, randomIds, rng, useWasm } from './testing/helpers.js';

beforeAll(useWasm);

const tiny = (over: Partial<ModelConfigInput> = {}): ModelConfigInput => ({ family: 'gpt2', vocabSize: 30, nLayer: 2, nHead: 2, nEmbd: 8, blockSize: 16, ...over } as ModelConfigInput);
const tinyLlama = (over: Partial<ModelConfigInput> = {}): ModelConfigInput => tiny({ family: 'llama', nHead: 4, nKvHead: 2, nEmbd: 16, intermediateSize: 12, ...over });

describe('config', () => {
  it('fills family defaults', () => {
    const g = resolveConfig(tiny());
    expect(g).toMatchObject({ nKvHead: 2, headDim: 4, intermediateSize: 32, activation: 'gelu_tanh', normEps: 1e-5, bias: true, tieWordEmbeddings: true, dropout: 0, attnDropout: 0, nExperts: 0 });
    const l = resolveConfig({ family: 'llama', vocabSize: 32000, nLayer: 2, nHead: 32, nEmbd: 4096, blockSize: 2048 });
    expect(l).toMatchObject({ nKvHead: 32, headDim: 128, intermediateSize: 11008, activation: 'silu', normEps: 1e-6, ropeTheta: 10000, bias: false, tieWordEmbeddings: false });
  });
  it('rejects unknown keys, wrong types and contradictions with an actionable message', async () => {
    await expectError(() => resolveConfig({ ...tiny(), n_embd: 8 } as ModelConfigInput), 'CONFIG_UNKNOWN_KEY', /unknown key "n_embd"; valid keys are family, vocabSize/);
    await expectError(() => resolveConfig(tiny({ nEmbd: 10, nHead: 4 })), 'CONFIG_INVALID', /nEmbd \(10\) must be divisible by nHead \(4\)/);
    await expectError(() => resolveConfig(tiny({ nLayer: 0 })), 'CONFIG_INVALID', /nLayer must be an integer ≥ 1, got 0/);
    await expectError(() => resolveConfig(tiny({ dropout: 1 })), 'CONFIG_INVALID', /dropout must be a number in \[0, 1\)/);
    await expectError(() => resolveConfig(tiny({ nKvHead: 1 })), 'CONFIG_INVALID', /gpt2 has no grouped-query attention/);
    await expectError(() => resolveConfig(tinyLlama({ nHead: 3, nKvHead: 2, nEmbd: 12 })), 'CONFIG_INVALID', /multiple of nKvHead/);
    await expectError(() => resolveConfig(tinyLlama({ headDim: 3 })), 'CONFIG_INVALID', /even headDim/);
    await expectError(() => resolveConfig(tinyLlama({ nExperts: 2, nExpertsPerTok: 3 })), 'CONFIG_INVALID', /nExpertsPerTok \(3\) must be ≤ nExperts \(2\)/);
    await expectError(() => resolveConfig(tiny({ family: 'bert' as 'gpt2' })), 'CONFIG_INVALID', /family must be "gpt2" or "llama"/);
    await expectError(() => resolveConfig(tiny({ eosTokenId: 30 })), 'CONFIG_INVALID', /eosTokenId \(30\) must be < vocabSize/);
  });
});

describe('parameters and module tree', () => {
  it('counts parameters like the HF models (GPT-2 small: 124,439,808; Llama-2-7B: 6,738,415,616)', () => {
    const count = (cfg: ModelConfigInput) => [...checkpointShapes(resolveConfig(cfg)).values()].reduce((a, s) => a + s.reduce((x, y) => x * y, 1), 0);
    expect(count({ family: 'gpt2', vocabSize: 50257, nLayer: 12, nHead: 12, nEmbd: 768, blockSize: 1024 })).toBe(124_439_808);
    expect(count({ family: 'llama', vocabSize: 32000, nLayer: 32, nHead: 32, nEmbd: 4096, intermediateSize: 11008, blockSize: 4096 })).toBe(6_738_415_616);
  });

  it('countParameters and summarize agree with a hand count', () => {
    const m = new TransformerLM(tiny());
    // wte 30·8 + wpe 16·8 + per layer (ln 2·8·2 + c_attn 8·24+24 + c_proj 8·8+8 + c_fc 8·32+32 + c_proj 32·8+8) + ln_f 16
    const perLayer = 32 + 216 + 72 + 288 + 264;
    expect(countParameters(m)).toBe(240 + 128 + 2 * perLayer + 16);
    expect(summarize(m)).toBe('gpt2 · 2.13K params · 2 layers · width 8 · 2 heads (D 4) · context 16 · vocab 30 · tied head');
    m.setTrainable(/./, false);
    m.setTrainable(/ln_/, true);
    expect(countParameters(m, { trainableOnly: true })).toBe(2 * 32 + 16);
    expect(summarize(m)).toContain('(80 trainable)');
    m.dispose();
  });

  it('exposes linears by HF name and lets a wrapper replace one', async () => {
    const m = new TransformerLM(tinyLlama());
    expect(m.linearNames().slice(0, 7)).toEqual([
      'model.layers.0.self_attn.q_proj', 'model.layers.0.self_attn.k_proj', 'model.layers.0.self_attn.v_proj', 'model.layers.0.self_attn.o_proj',
      'model.layers.0.mlp.gate_proj', 'model.layers.0.mlp.up_proj', 'model.layers.0.mlp.down_proj',
    ]);
    const ids = randomIds(1, 5, 30, 1);
    const before = m.forward(ids);
    const name = 'model.layers.1.self_attn.v_proj';
    const base = m.getModule(name);
    const old = m.replaceModule(name, { inFeatures: base.inFeatures, outFeatures: base.outFeatures, apply: (x) => tf.tidy(() => base.apply(x).mul(0)), namedParameters: () => base.namedParameters() });
    expect(old).toBe(base);
    const zeroed = m.forward(ids);
    expect(maxAbsDiff(before.dataSync(), zeroed.dataSync())).toBeGreaterThan(1e-4);
    m.replaceModule(name, old);
    const restored = m.forward(ids);
    expect(maxAbsDiff(before.dataSync(), restored.dataSync())).toBe(0);
    await expectError(() => m.replaceModule('model.layers.9.mlp.up_proj', base), 'MODULE_NOT_FOUND', /no linear module "model\.layers\.9\.mlp\.up_proj"/);
    await expectError(() => m.replaceModule(name, m.getModule('model.layers.0.mlp.up_proj')), 'SHAPE_MISMATCH', /maps 16 → 12 features, the old one 16 → 8/);
    await expectError(() => m.setTrainable(['model.norm.weight', 'nope'], false), 'MODULE_NOT_FOUND', /"nope"/);
    tf.dispose([ids, before, zeroed, restored]);
    m.dispose();
  });

  it('GPT-2 init: N(0, 0.02²), residual projections 0.02/√(2·nLayer), norms 1, biases 0; seeded', () => {
    const cfg = tiny({ nLayer: 8, nEmbd: 64, nHead: 4, vocabSize: 500, blockSize: 64 });
    const m = new TransformerLM(cfg);
    const p = new Map(m.namedParameters());
    const std = (name: string) => {
      const v = p.get(name)!.dataSync() as Float32Array;
      const mean = v.reduce((a, b) => a + b, 0) / v.length;
      return Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length);
    };
    expect(std('transformer.wte.weight')).toBeCloseTo(0.02, 3);
    expect(std('transformer.h.0.mlp.c_fc.weight')).toBeCloseTo(0.02, 3);
    expect(std('transformer.h.3.mlp.c_proj.weight') / (0.02 / Math.sqrt(16))).toBeCloseTo(1, 1);
    expect(std('transformer.h.3.attn.c_proj.weight') / (0.02 / Math.sqrt(16))).toBeCloseTo(1, 1);
    expect([...p.get('transformer.h.2.ln_1.weight')!.dataSync()].every((x) => x === 1)).toBe(true);
    expect([...p.get('transformer.h.2.attn.c_attn.bias')!.dataSync()].every((x) => x === 0)).toBe(true);
    const flat = new TransformerLM({ ...cfg, scaleResidualInit: false });
    const flatStd = (() => {
      const v = new Map(flat.namedParameters()).get('transformer.h.3.mlp.c_proj.weight')!.dataSync() as Float32Array;
      return Math.sqrt(v.reduce((a, b) => a + b * b, 0) / v.length);
    })();
    expect(flatStd).toBeCloseTo(0.02, 3);
    flat.dispose();
    const again = new TransformerLM(cfg);
    const other = new TransformerLM({ ...cfg, seed: 1 });
    const w = (x: TransformerLM) => new Map(x.namedParameters()).get('transformer.h.5.mlp.c_fc.weight')!.dataSync();
    expect(maxAbsDiff(w(m), w(again))).toBe(0);
    expect(maxAbsDiff(w(m), w(other))).toBeGreaterThan(0);
    [m, again, other].forEach((x) => x.dispose());
  });

  it('never reads ids back to the host; an out-of-range id is still a typed error (from the embedding gather)', async () => {
    const m = new TransformerLM(tiny());
    const ids = tf.tensor2d([[1, 2, 3]], [1, 3], 'int32');
    const reads = (['dataSync', 'data', 'arraySync', 'array', 'bufferSync', 'buffer'] as const).map((k) => vi.spyOn(ids, k));
    const cache = m.createCache(1);
    tf.dispose([m.forward(ids, { cache }), m.forward(ids, { cache, logitsToKeep: 1 })]);
    for (const r of reads) expect(r).not.toHaveBeenCalled();
    await expectError(() => m.forward(tf.tensor2d([[1, -1]], [1, 2], 'int32')), 'INVALID_ARGUMENT', /token id -1 is outside the vocabulary \[0, 30\)/);
    const before = cache.length;
    await expectError(() => m.forward(tf.tensor2d([[31]], [1, 1], 'int32'), { cache }), 'INVALID_ARGUMENT', /token id 31 is outside/);
    expect(cache.length).toBe(before); // the failed forward left the cache as it was
    tf.dispose(ids);
    cache.dispose();
    m.dispose();
  });

  it('rejects bad ids and masks before doing any work', async () => {
    const m = new TransformerLM(tiny());
    await expectError(() => m.forward(tf.tensor2d([[1, 30]], [1, 2], 'int32')), 'INVALID_ARGUMENT', /token id 30 .* outside the vocabulary \[0, 30\)/);
    await expectError(() => m.forward(tf.tensor2d([[1, 2]], [1, 2], 'float32')), 'SHAPE_MISMATCH', /ids must be int32/);
    await expectError(() => m.forward(tf.tensor1d([1, 2], 'int32')), 'SHAPE_MISMATCH', /ids must be \[B, T\]/);
    await expectError(() => m.forward(tf.tensor2d([[1, 2]], [1, 2], 'int32'), { attentionMask: [[1, 1, 1]] }), 'SHAPE_MISMATCH', /attentionMask must be \[1, 2\]/);
    await expectError(() => m.forward(tf.tensor2d([[1, 2]], [1, 2], 'int32'), { attentionMask: [[1, 2]] }), 'INVALID_ARGUMENT', /values must be 0 or 1/);
    await expectError(() => m.forward(tf.tensor2d([[1, 2]], [1, 2], 'int32'), { logitsToKeep: 3 }), 'INVALID_ARGUMENT', /logitsToKeep must be an integer in \[1, 2\]/);
    m.dispose();
  });
});

/** Mean next-token cross-entropy of the model on ids [B, T]. */
function lmLoss(m: TransformerLM, ids: tf.Tensor2D, training = false): tf.Scalar {
  const [B, T] = ids.shape;
  const out = m.run(ids.slice([0, 0], [B, T - 1]), { training });
  const ce = crossEntropy(out.logits!, ids.slice([0, 1], [B, T - 1])) as tf.Scalar;
  return out.auxLoss ? ce.add(out.auxLoss.mul(m.config.routerAuxLossCoef)) : ce;
}

describe('gradients', () => {
  const cases: Record<string, ModelConfigInput> = {
    'gpt2 (biases, tied)': tiny({ initStd: 0.2 }),
    'llama (GQA, RoPE, untied)': tinyLlama({ initStd: 0.2 }),
    'gpt2 with dropout (fixed masks)': tiny({ initStd: 0.2, dropout: 0.2, attnDropout: 0.3, tieWordEmbeddings: false, activation: 'gelu' }),
    'llama with attention dropout': tinyLlama({ initStd: 0.2, dropout: 0.1, attnDropout: 0.25, nKvHead: 1 }),
  };
  for (const [name, cfg] of Object.entries(cases)) {
    it(`${name}: every weight gets a gradient that matches central finite differences`, () => {
      const m = new TransformerLM(cfg);
      const training = m.config.dropout > 0;
      const ids = randomIds(3, 9, m.config.vocabSize, 11);
      const state = m.getDropoutState();
      const loss = () => {
        m.setDropoutState(state); // the same dropout masks for every evaluation
        return lmLoss(m, ids, training);
      };
      const params = m.trainableParameters();
      const { grads, value } = tf.variableGrads(loss, params.map(([, v]) => v));
      value.dispose();
      const r = rng(5);
      for (const [pname, v] of params) {
        const g = grads[v.name]!;
        const gv = g.dataSync() as Float32Array;
        expect(gv.every(Number.isFinite), pname).toBe(true);
        const gnorm = Math.hypot(...gv);
        expect(gnorm, `${pname} gets no gradient`).toBeGreaterThan(0);
        // direction mixing the gradient and a random vector, unit length
        const rand = Float32Array.from(gv, () => r() - 0.5);
        const rnorm = Math.hypot(...rand);
        const dir = Float32Array.from(gv, (x, i) => x / gnorm + rand[i]! / rnorm);
        const dnorm = Math.hypot(...dir);
        dir.forEach((x, i) => (dir[i] = x / dnorm));
        const analytic = gv.reduce((a, x, i) => a + x * dir[i]!, 0);
        const eps = 1e-2;
        const orig = v.clone();
        const at = (s: number) => {
          v.assign(orig.add(tf.tensor(dir, v.shape).mul(s)));
          return tf.tidy(() => loss().dataSync()[0]!);
        };
        const numeric = (at(eps) - at(-eps)) / (2 * eps);
        v.assign(orig);
        orig.dispose();
        expect(Math.abs(numeric - analytic), `${pname}: fd ${numeric} vs autograd ${analytic}`).toBeLessThan(2e-3 + 2e-2 * Math.abs(analytic));
      }
      tf.dispose([ids, ...Object.values(grads)]);
      m.dispose();
    });
  }

  it('MoE: router, every expert and the aux loss get gradients', () => {
    const m = new TransformerLM(tinyLlama({ nExperts: 4, nExpertsPerTok: 2, initStd: 0.2 }));
    const ids = randomIds(4, 12, 30, 2);
    const params = m.trainableParameters();
    const { grads, value } = tf.variableGrads(() => lmLoss(m, ids), params.map(([, v]) => v));
    for (const [pname, v] of params) expect(Math.max(...Array.from(grads[v.name]!.dataSync(), Math.abs)), pname).toBeGreaterThan(0);
    const aux = m.run(ids).auxLoss!;
    expect(aux.dataSync()[0]).toBeGreaterThan(0.9); // E·Σ F·P ≥ 1 · (min at perfect balance is 1)
    tf.dispose([ids, value, aux, ...Object.values(grads)]);
    m.dispose();
  });
});

describe('dropout', () => {
  it('is off unless training, deterministic given the seed and RNG state, and different across steps', () => {
    const cfg = tinyLlama({ dropout: 0.3, attnDropout: 0.3 });
    const a = new TransformerLM(cfg);
    const b = new TransformerLM(cfg);
    const ids = randomIds(2, 6, 30, 4);
    const evalA = a.forward(ids);
    const evalA2 = a.forward(ids);
    expect(maxAbsDiff(evalA.dataSync(), evalA2.dataSync())).toBe(0);
    const t1 = a.forward(ids, { training: true });
    const t2 = a.forward(ids, { training: true });
    const u1 = b.forward(ids, { training: true });
    expect(maxAbsDiff(t1.dataSync(), u1.dataSync())).toBe(0); // same seed, same stream
    expect(maxAbsDiff(t1.dataSync(), t2.dataSync())).toBeGreaterThan(1e-3); // new masks each step
    expect(maxAbsDiff(t1.dataSync(), evalA.dataSync())).toBeGreaterThan(1e-3);
    tf.dispose([ids, evalA, evalA2, t1, t2, u1]);
    a.dispose();
    b.dispose();
  });

  it('the explicit attention path (used for attention dropout) equals the fused kernel at p → 0, with padding and GQA', () => {
    const m = new TransformerLM(tinyLlama({ attnDropout: 1e-12, initStd: 0.3 }));
    const ids = randomIds(2, 7, 30, 8);
    const mask = [[0, 0, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1, 1]];
    const fused = m.forward(ids, { attentionMask: mask });
    const explicit = m.forward(ids, { attentionMask: mask, training: true });
    const f = fused.arraySync() as number[][][];
    const e = explicit.arraySync() as number[][][];
    for (let b = 0; b < 2; b++) for (let t = 0; t < 7; t++) if (mask[b]![t]) expect(maxAbsDiff(f[b]![t]!, e[b]![t]!)).toBeLessThan(1e-5);
    tf.dispose([ids, fused, explicit]);
    m.dispose();
  });
});

describe('memory', () => {
  it('training steps (forward + backward) leak no tensors', () => {
    const m = new TransformerLM(tinyLlama({ nExperts: 3, dropout: 0.1 }));
    const ids = randomIds(2, 8, 30, 3);
    const step = () => {
      const { value, grads } = tf.variableGrads(() => lmLoss(m, ids, true), m.trainableParameters().map(([, v]) => v));
      tf.dispose([value, ...Object.values(grads)]);
    };
    step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) step();
    expect(tf.memory().numTensors).toBe(before);
    ids.dispose();
    m.dispose();
  });
});
