// Run only by @llm/infer's vitest.sample.config.ts (sample's own config takes *.test.ts): there,
// this package's testing/lm module must really be the engine's (a suite that silently ran on tfjs
// would prove nothing). Duck-typed: sample does not depend on @llm/infer.
import { beforeAll, describe, expect, it } from 'vitest';
import { asTestLM, testLM } from './lm.js';
import { initBackend, tf } from '@llm/tensor-gpu';
import { TransformerLM } from '@llm/transformer';

beforeAll(() => initBackend({ backend: 'wasm', log: false }));

/** An @llm/infer InferenceModel: its class, and the paged cache API a TransformerLM lacks. */
const isEngine = (m: object): boolean => m.constructor.name === 'InferenceModel' && typeof (m as { cacheStats?: unknown }).cacheStats === 'function';

describe('@llm/sample\'s test model under vitest.sample.config.ts', () => {
  it('is an InferenceModel, and the TransformerLM it was packed from is disposed', () => {
    const m = testLM({ family: 'gpt2', vocabSize: 20, nLayer: 1, nHead: 2, nEmbd: 8, blockSize: 16 });
    expect(isEngine(m)).toBe(true);
    const src = new TransformerLM({ family: 'gpt2', vocabSize: 20, nLayer: 1, nHead: 2, nEmbd: 8, blockSize: 16 });
    const b = asTestLM(src);
    expect(isEngine(b)).toBe(true);
    expect([...src.namedParameters()].every(([, t]) => t.isDisposed)).toBe(true);
    m.dispose();
    b.dispose();
  });

  it('dispose() reports KV blocks still held (the engine\'s leak check; sample\'s count tf tensors)', () => {
    const m = testLM({ family: 'gpt2', vocabSize: 20, nLayer: 1, nHead: 2, nEmbd: 8, blockSize: 16 });
    const cache = m.createCache(2, 8);
    tf.tidy(() => m.forward(tf.tensor2d([[1, 2], [3, 4]], [2, 2], 'int32'), { cache }));
    expect(() => m.dispose()).toThrow(/disposed with 2 KV blocks in use/);
    expect(() => m.createCache(1)).toThrow(/disposed/); // disposed all the same
  });
});
