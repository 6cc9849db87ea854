// Run by vitest.sample.config.ts only: sample's testing/lm module really is the engine's there.
import { beforeAll, describe, expect, it } from 'vitest';
import { asTestLM, testLM } from '../../../sample/src/testing/lm.js';
import { tf } from '@llm/tensor-gpu';
import { TransformerLM } from '@llm/transformer';
import { InferenceModel } from '../engine/model.js';
import { useWasm } from './helpers.js';

beforeAll(useWasm);

describe('@llm/sample\'s test model under vitest.sample.config.ts', () => {
  it('is an InferenceModel, and the TransformerLM it was packed from is disposed', () => {
    const m = testLM({ family: 'gpt2', vocabSize: 20, nLayer: 1, nHead: 2, nEmbd: 8, blockSize: 16 });
    expect(m).toBeInstanceOf(InferenceModel);
    const src = new TransformerLM({ family: 'gpt2', vocabSize: 20, nLayer: 1, nHead: 2, nEmbd: 8, blockSize: 16 });
    const b = asTestLM(src);
    expect(b).toBeInstanceOf(InferenceModel);
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
