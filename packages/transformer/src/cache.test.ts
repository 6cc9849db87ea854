// KV cache: prefill-then-decode equals one full forward at every position, for left-padded
// batches too, and batched greedy generation equals generating each prompt alone.
import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@llm/tensor-gpu';
import { TransformerLM } from './model.js';
import type { ModelConfigInput } from './config.js';
import { expectError, maxAbsDiff, randomIds, useWasm } from './testing/helpers.js';

const V = 50;
const CONFIGS: Record<string, ModelConfigInput> = {
  gpt2: { family: 'gpt2', vocabSize: V, nLayer: 2, nHead: 4, nEmbd: 32, blockSize: 40, initStd: 0.1 },
  'llama-gqa': { family: 'llama', vocabSize: V, nLayer: 2, nHead: 4, nKvHead: 2, nEmbd: 32, intermediateSize: 48, blockSize: 40, initStd: 0.1 },
  'llama-mqa-moe': { family: 'llama', vocabSize: V, nLayer: 2, nHead: 4, nKvHead: 1, nEmbd: 32, intermediateSize: 24, blockSize: 40, nExperts: 4, nExpertsPerTok: 2, initStd: 0.1 },
  'gpt2-moe': { family: 'gpt2', vocabSize: V, nLayer: 2, nHead: 2, nEmbd: 16, blockSize: 40, nExperts: 3, nExpertsPerTok: 1, initStd: 0.1 },
};

/** Rows of ids, left-padded with 0 to a common length, and their mask. */
function leftPad(rows: number[][]): { ids: tf.Tensor2D; mask: number[][] } {
  const T = Math.max(...rows.map((r) => r.length));
  const ids = rows.map((r) => [...Array<number>(T - r.length).fill(0), ...r]);
  const mask = rows.map((r) => [...Array<number>(T - r.length).fill(0), ...r.map(() => 1)]);
  return { ids: tf.tensor2d(ids, [rows.length, T], 'int32'), mask };
}

/** Greedy generation of n tokens with the cache; returns the new ids per row. */
function greedy(model: TransformerLM, rows: number[][], n: number): number[][] {
  const { ids, mask } = leftPad(rows);
  const cache = model.createCache(rows.length, ids.shape[1] + n);
  const out: number[][] = rows.map(() => []);
  let logits = model.forward(ids, { cache, attentionMask: mask, logitsToKeep: 1 }); // [B, 1, V]
  for (let s = 0; s < n; s++) {
    const next = tf.tidy(() => logits.argMax(-1)); // [B, 1]
    next.dataSync().forEach((id, b) => out[b]!.push(id));
    logits.dispose();
    logits = model.forward(next as tf.Tensor2D, { cache }); // [B, 1, V]
    next.dispose();
  }
  logits.dispose();
  ids.dispose();
  cache.dispose();
  return out;
}

beforeAll(useWasm);

for (const [name, cfg] of Object.entries(CONFIGS)) {
  describe(`KV cache (${name})`, () => {
    it('prefill + one-token decode steps equal the full forward at every position (left-padded batch)', () => {
      const model = new TransformerLM(cfg);
      const rows = [[5, 9, 3, 7, 1, 4, 8, 2, 6, 11, 12, 13], [17, 2, 33, 4, 9, 10, 1, 1, 3], [40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 1, 2]];
      const { ids, mask } = leftPad(rows);
      const [B, T] = ids.shape;
      const full = model.forward(ids, { attentionMask: mask }); // [B, T, V]
      const P = 5; // prompt: first P columns (padding included), then one column at a time
      const cache = model.createCache(B, T);
      const pieces = [model.forward(ids.slice([0, 0], [B, P]), { cache, attentionMask: mask.map((r) => r.slice(0, P)) })];
      for (let t = P; t < T; t++) pieces.push(model.forward(ids.slice([0, t], [B, 1]), { cache, attentionMask: mask.map((r) => r.slice(t, t + 1)) }));
      const stepped = tf.concat(pieces, 1); // [B, T, V]
      expect(cache.length).toBe(T);
      const f = full.arraySync() as number[][][];
      const s = stepped.arraySync() as number[][][];
      for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) {
        if (mask[b]![t]) expect(maxAbsDiff(s[b]![t]!, f[b]![t]!), `row ${b} pos ${t}`).toBeLessThan(2e-5);
      }
      tf.dispose([full, stepped, ...pieces, ids]);
      cache.dispose();
      model.dispose();
    });

    it('batched left-padded greedy generation equals generating each prompt alone', () => {
      const model = new TransformerLM(cfg);
      const prompts = [[3, 14, 15, 9, 2, 6], [27], [1, 8, 28]];
      const batched = greedy(model, prompts, 12);
      const single = prompts.map((p) => greedy(model, [p], 12)[0]!);
      expect(batched).toEqual(single);
      model.dispose();
    });
  });
}

describe('KV cache bookkeeping', () => {
  beforeAll(useWasm);
  it('a full-width HF-style mask [B, S + T] is accepted and must agree with the cache', async () => {
    const model = new TransformerLM(CONFIGS.gpt2!);
    const cache = model.createCache(1, 8);
    tf.dispose(model.forward(tf.tensor2d([[0, 4, 5]], [1, 3], 'int32'), { cache, attentionMask: [[0, 1, 1]] }));
    tf.dispose(model.forward(tf.tensor2d([[6]], [1, 1], 'int32'), { cache, attentionMask: [[0, 1, 1, 1]] }));
    expect(cache.length).toBe(4);
    expect(Array.from(cache.nextPosition)).toEqual([3]);
    await expectError(() => model.forward(tf.tensor2d([[6]], [1, 1], 'int32'), { cache, attentionMask: [[1, 1, 1, 1, 1]] }), 'INVALID_ARGUMENT', /disagrees with the cache/);
    expect(cache.length).toBe(4); // a rejected call leaves the cache untouched
    cache.dispose();
    model.dispose();
  });

  it('overflowing the cache or the context is an error that leaves the cache usable', async () => {
    const model = new TransformerLM({ ...CONFIGS['llama-gqa']!, blockSize: 6 });
    const cache = model.createCache(1, 5);
    tf.dispose(model.forward(tf.tensor2d([[1, 2, 3, 4]], [1, 4], 'int32'), { cache }));
    await expectError(() => model.forward(tf.tensor2d([[1, 2]], [1, 2], 'int32'), { cache }), 'CONTEXT_OVERFLOW', /holds 5 positions; 4 are used and 2 more/);
    await expectError(() => model.forward(tf.zeros([1, 7], 'int32')), 'CONTEXT_OVERFLOW', /position 6.*blockSize/);
    const l = model.forward(tf.tensor2d([[5]], [1, 1], 'int32'), { cache });
    expect(l.shape).toEqual([1, 1, V]);
    expect(cache.length).toBe(5);
    tf.dispose(l);
    cache.dispose();
    model.dispose();
  });

  it('reorder() permutes rows (beam search) so decoding continues as if rows had been swapped', () => {
    const model = new TransformerLM(CONFIGS['llama-gqa']!);
    const a = randomIds(2, 5, V, 3);
    const c1 = model.createCache(2, 8);
    tf.dispose(model.forward(a, { cache: c1 }));
    c1.reorder([1, 0]);
    const swapped = tf.reverse(a, 0);
    const c2 = model.createCache(2, 8);
    tf.dispose(model.forward(swapped, { cache: c2 }));
    const next = tf.tensor2d([[7], [9]], [2, 1], 'int32');
    const l1 = model.forward(next, { cache: c1 });
    const l2 = model.forward(next, { cache: c2 });
    expect(maxAbsDiff(l1.dataSync(), l2.dataSync())).toBeLessThan(1e-6);
    tf.dispose([a, swapped, next, l1, l2]);
    c1.dispose();
    c2.dispose();
    model.dispose();
  });

  it('truncate() rolls back: decoding after truncating equals never having appended', () => {
    const model = new TransformerLM(CONFIGS['llama-gqa']!);
    const prompt = randomIds(2, 4, V, 5);
    const extra = randomIds(2, 3, V, 6);
    const next = tf.tensor2d([[7], [9]], [2, 1], 'int32');
    const c1 = model.createCache(2, 10);
    tf.dispose(model.forward(prompt, { cache: c1, attentionMask: [[0, 1, 1, 1], [1, 1, 1, 1]] }));
    tf.dispose(model.forward(extra, { cache: c1 }));
    c1.truncate(4);
    expect(c1.length).toBe(4);
    expect(Array.from(c1.nextPosition)).toEqual([3, 4]);
    const c2 = model.createCache(2, 10);
    tf.dispose(model.forward(prompt, { cache: c2, attentionMask: [[0, 1, 1, 1], [1, 1, 1, 1]] }));
    const [l1, l2] = [model.forward(next, { cache: c1 }), model.forward(next, { cache: c2 })];
    expect(maxAbsDiff(l1.dataSync(), l2.dataSync())).toBe(0);
    expect(() => c1.truncate(9)).toThrow(/length must be an integer in \[0, 5\]/);
    tf.dispose([prompt, extra, next, l1, l2]);
    c1.dispose();
    c2.dispose();
    model.dispose();
  });

  it('100 cached forward passes leak no tensors', () => {
    const model = new TransformerLM({ ...CONFIGS['llama-mqa-moe']!, blockSize: 128 });
    const warm = model.createCache(2, 110);
    tf.dispose(model.forward(randomIds(2, 3, V, 1), { cache: warm }));
    warm.dispose();
    const before = tf.memory().numTensors;
    const cache = model.createCache(2, 110);
    const prompt = randomIds(2, 4, V, 2);
    tf.dispose([prompt, model.forward(prompt, { cache, attentionMask: [[0, 1, 1, 1], [1, 1, 1, 1]] })]);
    for (let i = 0; i < 100; i++) {
      const ids = tf.tensor2d([[i % V], [(3 * i) % V]], [2, 1], 'int32');
      const out = model.run(ids, { cache });
      tf.dispose([ids, out.logits!, out.hidden, out.auxLoss!]);
    }
    expect(cache.length).toBe(104);
    cache.dispose();
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});
