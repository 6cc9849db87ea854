// Engines compiled from models holding @llm/quant's quantized linears against the same tfjs models
// (the reference: each module dequantizes in tfjs at every apply): logits within 1e-4 on GPT-2,
// Llama and MoE, for every scheme, GPTQ and AWQ, after a checkpoint round trip, with the fallbacks
// listed, and two threads = one — on f32 activations, the exact path. With Q8 activations (the
// default 'auto'), int8 (q8_f32) and int4 / GPTQ (q4_z) linears run integer dots: logits close to
// the f32 path (the bounds of engine/q8.test.ts), two threads = one; NF4 keeps f32 activations.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@llm/tensor-gpu';
import { QuantizedLinear, awqQuantizeModel, gptqQuantizeModel, loadGptqCheckpoint, loadQuantizedModel, quantizeModel, saveGptqCheckpoint, saveQuantizedModel, type QuantizeOptions } from '@llm/quant';
import type { TransformerLM } from '@llm/transformer';
import { compileForInference } from '../compile.js';
import type { InferenceModel } from '../engine/model.js';
import { CONFIGS, maxAbsDiff, randomIdRows, randomModel, useWasm } from '../testing/helpers.js';

let root: string;
beforeAll(async () => {
  await useWasm();
  root = await mkdtemp(join(tmpdir(), 'infer-schemes-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

const llama = { ...CONFIGS.llama, tieWordEmbeddings: false };
const calibration = (cfg: { vocabSize: number }) => ({ ids: randomIdRows(4, 16, cfg.vocabSize, 11), seqLen: 16 });

/** Logits of every position of one prompt: engine (prefill 8 + decode steps) and tfjs. */
function logits(model: TransformerLM, eng: InferenceModel): { engine: Float32Array; tfjs: Float32Array } {
  const [p] = randomIdRows(1, 11, model.config.vocabSize, 5) as [number[]];
  const s = eng.newSequence();
  const out = eng.step([{ seq: s, tokens: p.slice(0, 8) }], { allLogits: true });
  for (const t of p.slice(8)) out.push(...eng.step([{ seq: s, tokens: [t] }]));
  s.free();
  const ids = tf.tensor2d([p], [1, p.length], 'int32');
  const ref = model.forward(ids);
  const tfjs = Float32Array.from(ref.dataSync() as Float32Array);
  tf.dispose([ids, ref]);
  return { engine: Float32Array.from(out.flatMap((r) => Array.from(r))), tfjs };
}

/** Compiles `model` (f32 activations), checks logits = tfjs within 1e-4, returns the engine's weights label and fallbacks. */
function run(model: TransformerLM, threads = 1): { weights: string; fallbacks: readonly string[]; engine: Float32Array } {
  const eng = compileForInference(model, { maxTokens: 64, threads, activations: 'f32' });
  const { engine, tfjs } = logits(model, eng);
  expect(maxAbsDiff(engine, tfjs)).toBeLessThan(1e-4);
  expect(Math.max(...tfjs.map(Math.abs))).toBeGreaterThan(0.1); // the comparison means something
  const r = { weights: eng.weights, fallbacks: eng.fallbacks, engine };
  eng.dispose();
  return r;
}

const schemes: Array<[string, QuantizeOptions]> = [
  ['int8', { scheme: 'int8' }],
  ['int4 sym g32', { scheme: 'int4', groupSize: 32 }],
  ['int4 asym g128', { scheme: 'int4', groupSize: 128, symmetric: false }],
  ['nf4 double quant', { scheme: 'nf4' }],
  ['nf4 plain absmax', { scheme: 'nf4', doubleQuant: false }],
];

describe.each(schemes)('quantizeModel %s', (_name, opts) => {
  it.each([['llama', llama], ['gpt2 (tied head)', CONFIGS.gpt2], ['moe (router quantized too)', CONFIGS.moe]] as const)('%s: engine = tfjs, no fallback', (_f, cfg) => {
    const model = randomModel(cfg);
    quantizeModel(model, opts);
    if (cfg === CONFIGS.moe) expect(model.getModule('model.layers.0.block_sparse_moe.gate')).toBeInstanceOf(QuantizedLinear); // runs as f32 rows
    const r = run(model);
    expect(r.fallbacks).toEqual([]);
    expect(r.weights).toBe(cfg === CONFIGS.gpt2 ? opts.scheme : `${opts.scheme}+f32`); // lm_head is skipped: plain f32
    model.dispose();
  });
});

/** The engine's logits (logits()'s prompt) on `activations`, and the activations that ran. */
function engineOn(model: TransformerLM, activations: 'auto' | 'f32' | 'q8', threads = 1): { engine: Float32Array; activations: string } {
  const eng = compileForInference(model, { maxTokens: 64, threads, activations });
  const r = { engine: logits(model, eng).engine, activations: eng.activations };
  eng.dispose();
  return r;
}

describe('Q8 activations', () => {
  it.each(schemes)("%s: 'auto' = 'q8' ≈ 'f32' (nf4: f32, the same logits)", (name, opts) => {
    const model = randomModel(llama);
    quantizeModel(model, opts);
    const exact = engineOn(model, 'f32');
    const q8 = engineOn(model, 'q8');
    const auto = engineOn(model, 'auto');
    const a = exact.engine;
    const b = q8.engine;
    expect(Buffer.from(auto.engine.buffer).equals(Buffer.from(b.buffer))).toBe(true);
    if (opts.scheme === 'nf4') {
      expect([q8.activations, auto.activations]).toEqual(['f32', 'f32']); // lm_head is plain f32: no linear has an integer kernel
      expect(Buffer.from(b.buffer).equals(Buffer.from(a.buffer))).toBe(true);
    } else {
      expect([exact.activations, q8.activations, auto.activations]).toEqual(['f32', 'q8', 'q8']);
      const top = Math.max(...a.map(Math.abs));
      const mean = a.reduce((s, v, i) => s + Math.abs(v - b[i]!), 0) / a.length;
      expect(top).toBeGreaterThan(0.5);
      expect(maxAbsDiff(a, b)).toBeGreaterThan(0); // the Q8 path ran
      expect(maxAbsDiff(a, b), name).toBeLessThanOrEqual(0.05 * top);
      expect(mean, name).toBeLessThanOrEqual(0.01 * top);
    }
    model.dispose();
  });

  it('int4 asym on q8: threads 2 = threads 1 (bit-identical logits)', () => {
    const model = randomModel(llama);
    quantizeModel(model, { scheme: 'int4', groupSize: 64, symmetric: false });
    const one = engineOn(model, 'q8', 1);
    expect(one.activations).toBe('q8');
    expect(engineOn(model, 'q8', 2).engine).toEqual(one.engine);
    model.dispose();
  });
});

describe('fallbacks and reloads', () => {
  it('int4 with groups of 16: exact f32 rows, each linear listed in engine.fallbacks', () => {
    const model = randomModel(llama);
    quantizeModel(model, { scheme: 'int4', groupSize: 16 });
    const r = run(model);
    expect(r.fallbacks).toHaveLength(14);
    expect(r.fallbacks[0]).toBe('model.layers.0.self_attn.q_proj: int4 → f32 (group size 16, not a multiple of 32; dequantized exactly)');
    model.dispose();
  });

  it('nf4 with 48 inputs (not whole 32-blocks): f32 rows listed; 64-input linears stay nf4 (smaller than f32)', () => {
    const model = randomModel({ ...CONFIGS.llama, nEmbd: 48, nHead: 4, nKvHead: 2 });
    const f32 = compileForInference(model, { maxTokens: 64 });
    quantizeModel(model, { scheme: 'nf4' });
    const r = run(model);
    expect(r.fallbacks).toHaveLength(12); // q, k, v, gate, up of 2 layers read 48 inputs; o_proj too (nHead·headDim = 48)
    expect(r.fallbacks.every((f) => f.endsWith(': nf4 → f32 (48 inputs, not a multiple of 32; dequantized exactly)'))).toBe(true);
    const eng = compileForInference(model, { maxTokens: 64 });
    expect(eng.weightBytes).toBeLessThan(f32.weightBytes); // down_proj (64 inputs) runs as nf4
    eng.dispose();
    f32.dispose();
    model.dispose();
  });

  it('int8 outlier columns: f32 fallback listed', () => {
    const model = randomModel(CONFIGS.gpt2);
    quantizeModel(model, { scheme: 'int8', threshold: 0.3 });
    const r = run(model);
    expect(r.fallbacks.some((f) => /int8 → f32 \(\d+ outlier columns kept in f32/.test(f))).toBe(true);
    model.dispose();
  });

  it('loadQuantizedModel (nf4, int4 asym): same engine logits as before saving', async () => {
    for (const opts of [{ scheme: 'nf4' }, { scheme: 'int4', symmetric: false, groupSize: 32 }] as QuantizeOptions[]) {
      const model = randomModel(llama);
      quantizeModel(model, opts);
      const dir = join(root, opts.scheme);
      await saveQuantizedModel(model, dir);
      const back = await loadQuantizedModel(dir);
      expect(run(back).engine).toEqual(run(model).engine);
      model.dispose();
      back.dispose();
    }
  });

  it('threads 2 = threads 1 (bit-identical logits)', () => {
    const model = randomModel(llama);
    quantizeModel(model, { scheme: 'nf4' });
    expect(run(model, 2).engine).toEqual(run(model, 1).engine);
    model.dispose();
  });
});

describe('GPTQ and AWQ (GptqLinear)', () => {
  it.each([['llama', llama], ['gpt2', CONFIGS.gpt2]] as const)('%s GPTQ g32: q4_z, no fallback; after loadGptqCheckpoint too', async (name, cfg) => {
    const model = randomModel(cfg);
    const report = gptqQuantizeModel(model, { groupSize: 32, calibration: calibration(cfg) });
    const r = run(model);
    expect(r.fallbacks).toEqual([]);
    expect(r.weights).toBe(cfg === llama ? 'gptq+f32' : 'gptq');
    if (cfg === llama) {
      await saveGptqCheckpoint(model, join(root, `gptq-${name}`), report.config);
      const back = await loadGptqCheckpoint(join(root, `gptq-${name}`));
      expect(run(back).engine).toEqual(r.engine);
      back.dispose();
    }
    model.dispose();
  });

  it('GPTQ act-order g16: exact where g_idx is constant on 32 columns, else f32 rows listed', () => {
    const model = randomModel(llama);
    gptqQuantizeModel(model, { groupSize: 16, actOrder: true, calibration: calibration(llama) });
    const r = run(model);
    expect(r.fallbacks.length).toBeGreaterThan(0);
    expect(r.fallbacks.every((f) => f.includes('gptq → f32 (act-order g_idx not constant on 32-column blocks'))).toBe(true);
    model.dispose();
  });

  it('AWQ g32: folded groups run on q4_z; input-scaled ones (o_proj, down_proj) as f32 rows, listed', () => {
    const model = randomModel(llama);
    awqQuantizeModel(model, { groupSize: 32, calibration: calibration(llama), nGrid: 4 });
    const r = run(model);
    expect(r.weights).toBe('gptq+f32');
    expect(r.fallbacks.length).toBeGreaterThan(0);
    expect(r.fallbacks.every((f) => /(o_proj|down_proj): gptq → f32 \(an AWQ input scale/.test(f))).toBe(true);
    model.dispose();
  });
});
