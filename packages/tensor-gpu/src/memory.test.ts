import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from './tf.js';
import { trackTensors, ownedVariable } from './memory.js';
import { initBackend } from './backend.js';
import { TensorGpuError } from './errors.js';
import { causalSelfAttention } from './ops/attention.js';
import { crossEntropy } from './ops/cross-entropy.js';
import { randomArray, randomInts } from '@llm/kit';

describe('trackTensors', () => {
  beforeAll(async () => {
    await initBackend({ log: false });
  });
  it('passes a clean function and counts its returned tensors', async () => {
    const { result, leaked } = await trackTensors(() => tf.tidy(() => tf.ones([2]).add(1)));
    expect(leaked).toBe(0);
    result.dispose();
  });

  it('fails a leaking function with a typed error', async () => {
    const leaky = () => {
      tf.ones([2]); // never disposed
      return 1;
    };
    await expect(trackTensors(leaky)).rejects.toThrow(TensorGpuError);
    const { leaked } = await trackTensors(leaky, { throwOnLeak: false });
    expect(leaked).toBe(1);
  });
});

describe('no leaks in training-style loops', () => {
  for (const backend of ['cpu', 'wasm'] as const) {
    it(`${backend}: 20 forward+backward steps of attention + cross-entropy leave nothing behind`, async () => {
      await initBackend({ backend, log: false });
      const wq = tf.variable(tf.tensor2d(randomArray(16 * 16, 1), [16, 16]));
      const emb = tf.variable(tf.tensor2d(randomArray(10 * 16, 2), [10, 16]));
      const ids = tf.tensor2d(randomInts(2 * 6, 3, 10), [2, 6], 'int32');
      const targets = tf.tensor2d(randomInts(2 * 6, 4, 10), [2, 6], 'int32');
      const step = () => {
        const { value, grads } = tf.variableGrads(() => {
          const x = tf.gather(emb, ids); // [2, 6, 16]
          const q = tf.matMul(x, wq).reshape([2, 6, 2, 8]).transpose([0, 2, 1, 3]); // [2, 2, 6, 8]
          const y = causalSelfAttention(q, q, q).transpose([0, 2, 1, 3]).reshape([2, 6, 16]);
          return crossEntropy(tf.matMul(y, emb, false, true), targets) as tf.Scalar; // [2, 6, 10] logits
        });
        tf.tidy(() => {
          for (const [name, g] of Object.entries(grads)) {
            const v = name === wq.name ? wq : emb;
            v.assign(v.sub(g.mul(0.1)));
          }
        });
        tf.dispose([value, ...Object.values(grads)]);
      };
      step(); // warm-up may create cached constants
      const { leaked } = await trackTensors(() => {
        for (let i = 0; i < 20; i++) step();
      });
      expect(leaked).toBe(0);
      tf.dispose([wq, emb, ids, targets]);
    });
  }
});

describe('ownedVariable', () => {
  it('holds the data and leaves no extra tensor behind (tf.variable(t) alone leaves t registered)', () => {
    const n0 = tf.memory().numTensors;
    const plain = tf.variable(tf.ones([2, 2]));
    expect(tf.memory().numTensors).toBe(n0 + 2); // the variable and the orphaned ones()
    const v = ownedVariable(tf.ones([2, 2]), false, 'owned-test');
    expect(tf.memory().numTensors).toBe(n0 + 3);
    expect(Array.from(v.dataSync())).toEqual([1, 1, 1, 1]);
    expect(v.trainable).toBe(false);
    v.dispose();
    plain.dispose();
    expect(tf.memory().numTensors).toBe(n0 + 1); // only the orphan of tf.variable(…) remains
  });
});
