// Prompt tuning and prefix tuning against independent references:
//   - a prompt made of real tokens' embeddings (TEXT / SAMPLE_VOCAB init) must give exactly the logits
//     of the base model on [prompt tokens, ids] (the path verified against PyTorch);
//   - a prefix table laid out by hand with loops (PEFT's view [P, 2L, K, D] → permute [2L, K, P, D])
//     fed to the base model as past keys/values must give the PeftModel's logits;
//   - a projected prefix's saved table equals tanh(E·W1ᵀ + b1)·W2ᵀ + b2 computed with loops;
//   - save → load gives the same logits; training moves only the prompt; decoding with a cache equals
//     a full forward; adapters off = the base model; no tensor leaks.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf, initBackend } from '@llm/tensor-gpu';
import type { TransformerLM } from '@llm/transformer';
import { expectErrorAsync, maxAbsDiff, rng } from '@llm/kit';
import { PeftError, PeftModel, getPeftModel, loadAdapter, trainableParameters, type PrefixTuner } from '../index.js';
import { FAMILIES, GPT2, LLAMA, V, ids, lmLoss, logitsOf, mat, mm, tinyModel, tr } from '../testing/tiny.testing.js';

let dir: string;
beforeAll(async () => {
  await initBackend({ backend: 'wasm', log: false });
  dir = await mkdtemp(join(tmpdir(), 'peft-prompt-'));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

/** Base logits of [pre, row] for each row, last T positions. */
function concatLogits(model: TransformerLM, pre: number[], x: tf.Tensor2D): Float32Array {
  const rows = (x.arraySync() as number[][]).map((r) => [...pre, ...r]);
  const full = tf.tensor2d(rows, [rows.length, rows[0]!.length], 'int32');
  const out = tf.tidy(() => model.forward(full).slice([0, pre.length, 0], [-1, -1, -1]));
  full.dispose();
  return logitsOf(out);
}

const charTokenizer = { encode: (s: string) => [...s].map((c) => c.charCodeAt(0) % V) };

describe.each(FAMILIES)('prompt tuning (%s)', (_name, cfg) => {
  it('TEXT init = the text tokens in front (repeated to fill); cache decode = full forward; off = base', () => {
    const model = tinyModel(cfg);
    const x = ids(11, 2, 5);
    const base = logitsOf(model.forward(x));
    const peft = getPeftModel(model, { peftType: 'PROMPT_TUNING', numVirtualTokens: 5, promptTuningInit: 'TEXT', promptTuningInitText: 'abc' }, { tokenizer: charTokenizer });
    const pre = charTokenizer.encode('abcab');
    const want = concatLogits(model, pre, x);
    const got = logitsOf(peft.forward(x));
    expect(maxAbsDiff(got, want)).toBeLessThan(1e-5);
    expect(maxAbsDiff(got, base)).toBeGreaterThan(1e-3);
    // prefill 2 tokens, then decode 3 one by one through the cache
    const cache = peft.createCache(2, 5);
    expect(cache.maxLen).toBe(10);
    const parts = [logitsOf(peft.forward(x.slice([0, 0], [2, 2]), { cache }))];
    for (let t = 2; t < 5; t++) parts.push(logitsOf(peft.forward(x.slice([0, t], [2, 1]), { cache })));
    const stitched = new Float32Array(2 * 5 * V);
    for (let b = 0; b < 2; b++) {
      let t0 = 0;
      for (const p of parts) {
        const n = p.length / (2 * V);
        stitched.set(p.subarray(b * n * V, (b + 1) * n * V), (b * 5 + t0) * V);
        t0 += n;
      }
    }
    expect(maxAbsDiff(stitched, want)).toBeLessThan(1e-5);
    cache.dispose();
    expect(maxAbsDiff(logitsOf(peft.withAdaptersDisabled(() => peft.forward(x))), base)).toBe(0);
    x.dispose();
    peft.dispose();
  });

  it('SAMPLE_VOCAB init uses vocabulary rows; training moves only the prompt and lowers the loss; no leaks', () => {
    const model = tinyModel(cfg);
    const peft = getPeftModel(model, { peftType: 'PROMPT_TUNING', numVirtualTokens: 4, promptTuningInit: 'SAMPLE_VOCAB', seed: 3 });
    const rows = mat(model.param(model.layout.embedName));
    const p = mat(peft.tuner('default').stateDict()[0]![1]);
    for (let i = 0; i < 4; i++) {
      const row = p.d.subarray(i * p.c, (i + 1) * p.c);
      expect(Array.from({ length: V }, (_, v) => maxAbsDiff(row, rows.d.subarray(v * rows.c, (v + 1) * rows.c))).some((d) => d === 0)).toBe(true);
    }
    expect(peft.trainableParameters().map(([n]) => n)).toEqual(['prompt_embeddings']);
    expect(trainableParameters(peft).trainable).toBe(4 * model.config.nEmbd);
    const frozen = model.namedParameters().map(([n, v]) => [n, Float32Array.from(v.dataSync() as Float32Array)] as const);
    const x = ids(5, 2, 8);
    const opt = tf.train.adam(0.005);
    const vars = peft.trainableParameters().map(([, v]) => v);
    const before = lmLoss(peft, x);
    const l0 = before.dataSync()[0]!;
    before.dispose();
    const n0 = tf.memory().numTensors;
    for (let i = 0; i < 15; i++) opt.minimize(() => lmLoss(peft, x, true), false, vars);
    const after = lmLoss(peft, x);
    expect(after.dataSync()[0]!).toBeLessThan(l0); // an untrained base: the prompt can only shift attention a little
    after.dispose();
    expect(tf.memory().numTensors).toBeLessThanOrEqual(n0 + 2 * vars.length); // Adam's two moments per variable
    for (const [n, d] of frozen) expect(maxAbsDiff(model.namedParameters().find(([m]) => m === n)![1].dataSync(), d)).toBe(0);
    opt.dispose();
    x.dispose();
    peft.dispose();
  });

  it('save → load: PEFT config fields, prompt_embeddings [P, C], the same logits', async () => {
    const model = tinyModel(cfg);
    const peft = getPeftModel(model, { peftType: 'PROMPT_TUNING', numVirtualTokens: 3, seed: 9 });
    const x = ids(2, 1, 6);
    const want = logitsOf(peft.forward(x));
    const out = join(dir, `prompt-${cfg.family}`);
    await peft.save(out);
    const json = JSON.parse(await readFile(join(out, 'adapter_config.json'), 'utf8'));
    expect(json).toMatchObject({ peft_type: 'PROMPT_TUNING', task_type: 'CAUSAL_LM', num_virtual_tokens: 3, token_dim: model.config.nEmbd, num_attention_heads: model.config.nHead, num_layers: 2, num_transformer_submodules: 1, prompt_tuning_init: 'RANDOM', inference_mode: true });
    const again = await loadAdapter(tinyModel(cfg), out);
    expect(maxAbsDiff(logitsOf(again.forward(x)), want)).toBe(0);
    expect(again.trainableParameters()).toEqual([]);
    again.dispose();
    x.dispose();
    peft.dispose();
  });
});

/** PEFT's prefix layout by loops: table [P, 2L·K·D] → layer l keys [1, K, P, D] = entry 2l, values 2l+1. */
function pastByLoops(table: { d: Float32Array; r: number; c: number }, L: number, K: number, D: number): { keys: tf.Tensor[]; values: tf.Tensor[] } {
  const P = table.r;
  const keys: tf.Tensor[] = [];
  const values: tf.Tensor[] = [];
  for (let l = 0; l < L; l++) {
    for (const [which, store] of [[0, keys], [1, values]] as const) {
      const a = new Float32Array(K * P * D);
      for (let k = 0; k < K; k++) for (let p = 0; p < P; p++) for (let d = 0; d < D; d++) a[(k * P + p) * D + d] = table.d[p * table.c + ((2 * l + which) * K + k) * D + d]!;
      store.push(tf.tensor4d(a, [1, K, P, D]));
    }
  }
  return { keys, values };
}

describe.each(FAMILIES)('prefix tuning (%s)', (_name, cfg) => {
  it('= the base model with the table laid out by hand as past keys/values (GQA: K kv heads); cache decode = full forward', () => {
    const model = tinyModel(cfg);
    const peft = getPeftModel(model, { peftType: 'PREFIX_TUNING', numVirtualTokens: 3, seed: 2 });
    const c = model.config;
    const K = c.family === 'llama' ? c.nKvHead : c.nHead;
    const table = mat(peft.tuner('default').stateDict()[0]![1]);
    expect([table.r, table.c]).toEqual([3, c.nLayer * 2 * K * c.headDim]);
    const x = ids(7, 2, 6);
    const past = pastByLoops(table, c.nLayer, K, c.headDim);
    const want = logitsOf(model.forward(x, { past }));
    expect(maxAbsDiff(logitsOf(peft.forward(x)), want)).toBeLessThan(1e-6);
    const cache = peft.createCache(2, 6);
    const a = logitsOf(peft.forward(x.slice([0, 0], [2, 4]), { cache }));
    const b = logitsOf(peft.forward(x.slice([0, 4], [2, 2]), { cache }));
    const stitched = new Float32Array(2 * 6 * V);
    for (let r = 0; r < 2; r++) {
      stitched.set(a.subarray(r * 4 * V, (r + 1) * 4 * V), r * 6 * V);
      stitched.set(b.subarray(r * 2 * V, (r + 1) * 2 * V), (r * 6 + 4) * V);
    }
    expect(maxAbsDiff(stitched, want)).toBeLessThan(1e-5);
    cache.dispose();
    tf.dispose([...past.keys, ...past.values, x]);
    peft.dispose();
  });

  it('projection: the saved table = tanh(E·W1ᵀ + b1)·W2ᵀ + b2 (loops); it loads as a plain table with the same logits; training lowers the loss', async () => {
    const model = tinyModel(cfg);
    const peft = getPeftModel(model, { peftType: 'PREFIX_TUNING', numVirtualTokens: 2, prefixProjection: true, encoderHiddenSize: 12, seed: 5 });
    const t = peft.tuner('default') as PrefixTuner;
    const w = Object.fromEntries(t.parameters().map(([n, v]) => [n, mat(v)]));
    expect(Object.keys(w).sort()).toEqual(['embedding.weight', 'transform.0.bias', 'transform.0.weight', 'transform.2.bias', 'transform.2.weight']);
    const h = mm(w['embedding.weight']!, tr(w['transform.0.weight']!));
    h.d.forEach((v, i) => (h.d[i] = Math.tanh(v + w['transform.0.bias']!.d[i % h.c]!)));
    const ref = mm(h, tr(w['transform.2.weight']!));
    ref.d.forEach((v, i) => (ref.d[i] = v + w['transform.2.bias']!.d[i % ref.c]!));
    const [name, saved] = t.stateDict()[0]!;
    expect(name).toBe('prompt_embeddings');
    expect(maxAbsDiff(saved!.dataSync(), ref.d)).toBeLessThan(1e-5);
    saved!.dispose();
    const x = ids(3, 1, 7);
    const want = logitsOf(peft.forward(x));
    const out = join(dir, `prefix-proj-${cfg.family}`);
    const n0 = tf.memory().numTensors;
    await peft.save(out);
    expect(tf.memory().numTensors).toBe(n0); // the computed table was disposed
    const json = JSON.parse(await readFile(join(out, 'adapter_config.json'), 'utf8'));
    const K = cfg.family === 'llama' ? model.config.nKvHead : model.config.nHead;
    expect(json).toMatchObject({ peft_type: 'PREFIX_TUNING', num_virtual_tokens: 2, prefix_projection: true, encoder_hidden_size: 12, token_dim: K * model.config.headDim, num_attention_heads: K, num_layers: 2 });
    const again = await loadAdapter(tinyModel(cfg), out);
    expect(maxAbsDiff(logitsOf(again.forward(x)), want)).toBeLessThan(1e-5);
    again.dispose();
    const opt = tf.train.adam(0.01);
    const vars = peft.trainableParameters().map(([, v]) => v);
    expect(vars.length).toBe(5);
    const l0 = lmLoss(peft, x);
    const first = l0.dataSync()[0]!;
    l0.dispose();
    for (let i = 0; i < 10; i++) opt.minimize(() => lmLoss(peft, x, true), false, vars);
    const l1 = lmLoss(peft, x);
    expect(l1.dataSync()[0]!).toBeLessThan(first);
    l1.dispose();
    opt.dispose();
    x.dispose();
    peft.dispose();
  });
});

describe('prompt learning: bad input', () => {
  it('another architecture, a bad config, merge → typed errors', async () => {
    const g = getPeftModel(tinyModel(GPT2), { peftType: 'PREFIX_TUNING', numVirtualTokens: 2 });
    const out = join(dir, 'prefix-gpt2');
    await g.save(out);
    // a Llama with GQA needs token_dim K·D = 8, not 16
    await expectErrorAsync(() => loadAdapter(tinyModel(LLAMA), out), 'SHAPE_MISMATCH', /token_dim is 16, this model needs 8/, PeftError);
    await expectErrorAsync(() => getPeftModel(tinyModel(GPT2), { peftType: 'PROMPT_TUNING', numVirtualTokens: 16 }), 'CONFIG_INVALID', /numVirtualTokens must be an integer in \[1, 15\]/, PeftError);
    await expectErrorAsync(() => getPeftModel(tinyModel(GPT2), { peftType: 'PROMPT_TUNING', numVirtualTokens: 2, promptTuningInit: 'TEXT', promptTuningInitText: 'hi' }), 'INVALID_ARGUMENT', /needs a tokenizer/, PeftError);
    await expectErrorAsync(() => g.mergeAndUnload(), 'UNSUPPORTED', /PREFIX_TUNING adapters cannot be merged/, PeftError);
    expect(g).toBeInstanceOf(PeftModel);
    g.dispose();
    void rng;
  });
});
