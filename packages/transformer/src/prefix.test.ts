// Prefix inputs (prompt tuning's prefixEmbeds, prefix tuning's past keys/values) against the path
// already verified against PyTorch: a prefix made of real tokens' embeddings, or of the keys/values
// those tokens leave in a cache, must give exactly the logits of the concatenated token sequence.
import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@llm/tensor-gpu';
import { TransformerLM } from './model.js';
import type { ModelConfigInput } from './config.js';
import type { PastKeyValues } from './prefix.js';
import { expectError, maxAbsDiff, randomIds, useWasm } from './testing/helpers.js';

const V = 50;
const CONFIGS: Record<string, ModelConfigInput> = {
  gpt2: { family: 'gpt2', vocabSize: V, nLayer: 2, nHead: 4, nEmbd: 32, blockSize: 40, initStd: 0.1 },
  'llama-gqa': { family: 'llama', vocabSize: V, nLayer: 2, nHead: 4, nKvHead: 2, nEmbd: 32, intermediateSize: 48, blockSize: 40, initStd: 0.1 },
  'llama-moe': { family: 'llama', vocabSize: V, nLayer: 2, nHead: 4, nKvHead: 1, nEmbd: 32, intermediateSize: 24, blockSize: 40, nExperts: 4, nExpertsPerTok: 2, initStd: 0.1 },
};
const P = 3;

beforeAll(useWasm);

/** The embedding rows of `pre` [P] as [1, P, C] (what the model would look up for those tokens). */
function embedsOf(model: TransformerLM, pre: number[]): tf.Tensor3D {
  return tf.gather(model.param(model.layout.embedName), tf.tensor1d(pre, 'int32')).expandDims(0) as tf.Tensor3D; // [1, P, C]
}

/** Keys/values the tokens `pre` leave in a cache (clones, [1, K, P, D] per layer). */
function pastOf(model: TransformerLM, pre: number[]): PastKeyValues {
  const cache = model.createCache(1, P);
  model.forward(tf.tensor2d([pre], [1, P], 'int32'), { cache }).dispose();
  const keys = [];
  const values = [];
  for (let l = 0; l < model.config.nLayer; l++) {
    const { keys: k, values: v } = cache.layer(l);
    keys.push(k!.clone());
    values.push(v!.clone());
  }
  cache.dispose();
  return { keys, values };
}

/** Logits of [pre, ids] row by row, the last T positions: the reference. */
function concatenated(model: TransformerLM, pre: number[], ids: number[][], mask?: number[][]): tf.Tensor {
  const rows = ids.map((r) => [...pre, ...r]);
  const full = tf.tensor2d(rows, [rows.length, rows[0]!.length], 'int32');
  const m = mask?.map((r) => [...pre.map(() => 1), ...r]);
  const logits = model.forward(full, m ? { attentionMask: m } : {});
  return logits.slice([0, P, 0], [-1, -1, -1]);
}

describe.each(Object.keys(CONFIGS))('prefix inputs (%s)', (name) => {
  const pre = [7, 1, 42];
  const idsRows = [
    [3, 9, 12, 4, 30],
    [5, 5, 8, 2, 11],
  ];
  it('prefixEmbeds of real tokens = the concatenated sequence (no cache, with a cache, left padding)', () => {
    const model = new TransformerLM(CONFIGS[name]!);
    const e = embedsOf(model, pre);
    const ids = tf.tensor2d(idsRows, [2, 5], 'int32');
    const want = concatenated(model, pre, idsRows);
    const got = model.forward(ids, { prefixEmbeds: e });
    expect(got.shape).toEqual([2, 5, V]);
    expect(maxAbsDiff(got.dataSync(), want.dataSync())).toBeLessThan(1e-5);
    // prefill 2 tokens with the prefix, then decode the rest through the cache
    const cache = model.createCache(2, P + 5);
    const a = model.forward(ids.slice([0, 0], [2, 2]), { cache, prefixEmbeds: e });
    const b = model.forward(ids.slice([0, 2], [2, 3]), { cache });
    expect(cache.length).toBe(P + 5);
    expect(maxAbsDiff(tf.concat([a, b], 1).dataSync(), want.dataSync())).toBeLessThan(1e-5);
    // left padding: row 0 padded by 2
    const mask = [
      [0, 0, 1, 1, 1],
      [1, 1, 1, 1, 1],
    ];
    const wantPad = concatenated(model, pre, idsRows, mask);
    const gotPad = model.forward(ids, { prefixEmbeds: e, attentionMask: mask });
    expect(maxAbsDiff(gotPad.slice([0, 2, 0], [1, 3, V]).dataSync(), wantPad.slice([0, 2, 0], [1, 3, V]).dataSync())).toBeLessThan(1e-5);
    expect(maxAbsDiff(gotPad.slice([1, 0, 0], [1, 5, V]).dataSync(), wantPad.slice([1, 0, 0], [1, 5, V]).dataSync())).toBeLessThan(1e-5);
    cache.dispose();
    tf.dispose([e, ids, want, got, a, b, wantPad, gotPad]);
    model.dispose();
  });

  it('past keys/values of real tokens = the concatenated sequence (no cache, with a cache, left padding)', () => {
    const model = new TransformerLM(CONFIGS[name]!);
    const past = pastOf(model, pre);
    const ids = tf.tensor2d(idsRows, [2, 5], 'int32');
    const want = concatenated(model, pre, idsRows);
    const got = model.forward(ids, { past });
    expect(maxAbsDiff(got.dataSync(), want.dataSync())).toBeLessThan(1e-5);
    const cache = model.createCache(2, P + 5);
    const a = model.forward(ids.slice([0, 0], [2, 1]), { cache, past });
    const b = model.forward(ids.slice([0, 1], [2, 4]), { cache });
    expect(maxAbsDiff(tf.concat([a, b], 1).dataSync(), want.dataSync())).toBeLessThan(1e-5);
    const mask = [
      [0, 1, 1, 1, 1],
      [1, 1, 1, 1, 1],
    ];
    const wantPad = concatenated(model, pre, idsRows, mask);
    const gotPad = model.forward(ids, { past, attentionMask: mask });
    expect(maxAbsDiff(gotPad.slice([0, 1, 0], [2, 4, V]).dataSync(), wantPad.slice([0, 1, 0], [2, 4, V]).dataSync())).toBeLessThan(1e-5);
    cache.dispose();
    tf.dispose([...past.keys, ...past.values, ids, want, got, a, b, wantPad, gotPad]);
    model.dispose();
  });

  it('gradients reach the prefix (central differences on two entries)', () => {
    const model = new TransformerLM(CONFIGS[name]!);
    const ids = randomIds(1, 4, V, 5);
    const e0 = embedsOf(model, pre);
    const loss = (e: tf.Tensor) => model.forward(ids, { prefixEmbeds: e }).square().mean() as tf.Scalar;
    const g = tf.grad(loss)(e0);
    const gd = g.dataSync();
    const base = e0.dataSync();
    for (const i of [0, 37]) {
      const h = 1e-2;
      const plus = Float32Array.from(base);
      plus[i]! += h;
      const minus = Float32Array.from(base);
      minus[i]! -= h;
      const num = (loss(tf.tensor(plus, e0.shape)).dataSync()[0]! - loss(tf.tensor(minus, e0.shape)).dataSync()[0]!) / (2 * h);
      expect(Math.abs(num - gd[i]!)).toBeLessThan(1e-3 + 0.05 * Math.abs(num));
    }
    const past = pastOf(model, pre);
    const gk = tf.grad((k0: tf.Tensor) => model.forward(ids, { past: { keys: [k0, ...past.keys.slice(1)], values: past.values } }).square().mean() as tf.Scalar)(past.keys[0]!);
    expect(Math.max(...Array.from(gk.dataSync(), Math.abs))).toBeGreaterThan(0);
    tf.dispose([g, gk, e0, ids, ...past.keys, ...past.values]);
    model.dispose();
  });
});

describe('prefix inputs: bad input', () => {
  it('are typed errors and leave the cache usable', async () => {
    const model = new TransformerLM(CONFIGS.gpt2!);
    const ids = randomIds(1, 3, V, 1);
    const e = tf.zeros([1, 2, 32]);
    const before = tf.memory().numTensors;
    await expectError(() => model.forward(ids, { prefixEmbeds: tf.zeros([1, 2, 16]) }), 'SHAPE_MISMATCH', /prefixEmbeds must be \[1 or 1, P ≥ 1, 32\]/);
    await expectError(() => model.forward(ids, { prefixEmbeds: e, past: { keys: [], values: [] } }), 'INVALID_ARGUMENT', /not both/);
    await expectError(() => model.forward(ids, { past: { keys: [e], values: [e] } }), 'SHAPE_MISMATCH', /each of the 2 layers/);
    const cache = model.createCache(1, 10);
    model.forward(ids, { cache }).dispose();
    await expectError(() => model.forward(ids, { cache, prefixEmbeds: e }), 'INVALID_ARGUMENT', /already holds 3 positions/);
    expect(cache.length).toBe(3);
    await expectError(() => model.forward(randomIds(1, 39, V, 2), { prefixEmbeds: e }), 'CONTEXT_OVERFLOW');
    cache.dispose();
    tf.dispose([ids, e]);
    expect(tf.memory().numTensors).toBeLessThanOrEqual(before + 1); // the shape-mismatch zeros above
    model.dispose();
  });
});
