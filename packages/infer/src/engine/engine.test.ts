// Engine logits against the tfjs TransformerLM (the reference) on random-weight GPT-2, Llama (GQA)
// and MoE models: full forward, prefill + decode through the cache, left-padded batches,
// logitsToKeep, and the sequence API (mixed prefill/decode in one step).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@llm/tensor-gpu';
import type { TransformerLM } from '@llm/transformer';
import { compileForInference } from '../compile.js';
import type { InferenceModel } from './model.js';
import { CONFIGS, maxAbsDiff, randomIdRows, randomModel, useWasm } from '../testing/helpers.js';

beforeAll(useWasm);

const TOL = 1e-4;
const arr = (t: tf.Tensor): Float32Array => {
  const d = t.dataSync() as Float32Array;
  t.dispose();
  return Float32Array.from(d);
};

describe.each(Object.keys(CONFIGS) as Array<keyof typeof CONFIGS>)('%s: engine = tfjs TransformerLM', (name) => {
  let ref: TransformerLM;
  let eng: InferenceModel;
  beforeAll(() => {
    ref = randomModel(CONFIGS[name]);
    eng = compileForInference(ref, { maxTokens: 256, blockTokens: 4, maxBatchTokens: 8 });
  });
  afterAll(() => {
    eng.dispose();
    ref.dispose();
  });
  const V = () => ref.config.vocabSize;

  it('full forward of a batch (every position)', () => {
    const ids = tf.tensor2d(randomIdRows(2, 13, V(), 1), [2, 13], 'int32');
    const a = arr(ref.forward(ids));
    const b = arr(eng.forward(ids));
    ids.dispose();
    expect(b.length).toBe(a.length);
    expect(maxAbsDiff(a, b)).toBeLessThan(TOL);
    expect(Math.max(...a.map(Math.abs))).toBeGreaterThan(0.1); // the comparison means something
  });

  it('prefill, then decode steps through the cache, with left padding and logitsToKeep', () => {
    const rows = randomIdRows(3, 9, V(), 2);
    const mask = [[0, 0, 0, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1, 1, 1, 1], [0, 0, 0, 0, 0, 0, 1, 1, 1]];
    const rc = ref.createCache(3, 20);
    const ec = eng.createCache(3, 20);
    const ids = tf.tensor2d(rows, [3, 9], 'int32');
    const a = arr(ref.forward(ids, { cache: rc, attentionMask: mask, logitsToKeep: 2 })).slice();
    const b = arr(eng.forward(ids, { cache: ec, attentionMask: mask, logitsToKeep: 2 }));
    ids.dispose();
    // compare real positions only (pads' logits are unspecified)
    const Vn = V();
    for (let r = 0; r < 3; r++) for (let t = 0; t < 2; t++) {
      const o = (r * 2 + t) * Vn;
      expect(maxAbsDiff(a.subarray(o, o + Vn), b.subarray(o, o + Vn))).toBeLessThan(TOL);
    }
    for (let s = 0; s < 4; s++) {
      const next = tf.tensor2d(randomIdRows(3, 1, Vn, 10 + s), [3, 1], 'int32');
      const full = mask.map((m) => [...m, ...Array(s + 1).fill(1)]);
      const x = arr(ref.forward(next, { cache: rc, attentionMask: full }));
      const y = arr(eng.forward(next, { cache: ec, attentionMask: full }));
      next.dispose();
      expect(maxAbsDiff(x, y)).toBeLessThan(TOL);
    }
    expect(ec.length).toBe(rc.length);
    rc.dispose();
    ec.dispose();
    expect(eng.cacheStats().blocksInUse).toBe(0);
  });

  it('one step mixing a prefill and decodes at different positions = separate forwards', () => {
    const [p1, p2] = randomIdRows(2, 7, V(), 3) as [number[], number[]];
    const a = eng.newSequence();
    const b = eng.newSequence();
    eng.step([{ seq: a, tokens: p1.slice(0, 5) }]);
    const got = eng.step([{ seq: a, tokens: p1.slice(5, 7) }, { seq: b, tokens: p2 }], { allLogits: true });
    expect(a.length).toBe(7);
    expect(b.length).toBe(7);
    const want = arr(ref.forward(tf.tensor2d([p1, p2], [2, 7], 'int32')));
    const Vn = V();
    expect(maxAbsDiff(got[0]!, want.subarray(5 * Vn, 7 * Vn))).toBeLessThan(TOL);
    expect(maxAbsDiff(got[1]!, want.subarray(7 * Vn, 14 * Vn))).toBeLessThan(TOL);
    a.free();
    b.free();
  });
});
