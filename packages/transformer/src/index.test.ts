// The public surface: what the package exports, and a model built only through it.
import { describe, expect, it } from 'vitest';
import { tf, initBackend } from '@llm/tensor-gpu';
import * as api from './index.js';

describe('@llm/transformer public surface', () => {
  it('exports the documented API', () => {
    expect(Object.keys(api).sort()).toEqual([
      'KVCache', 'Linear', 'MODEL_LIMITS', 'SequenceClassifier', 'TransformerError', 'TransformerLM', 'ValueHead',
      'checkpointFile', 'checkpointShapes', 'countParameters', 'findModelDir', 'formatCount', 'fromHfConfig', 'fromHfGenerationConfig', 'llama2cConfig', 'loadLlama2c', 'loadModel', 'loadSequenceClassifier',
      'modelLayout', 'poolLastToken', 'readCheckpoint', 'readLlama2c', 'resolveConfig', 'saveModel', 'summarize', 'toHfConfig', 'toHfGenerationConfig',
    ]);
  });

  it('a README-sized example runs: build, forward, cache decode', async () => {
    await initBackend({ backend: 'wasm', log: false });
    const model = new api.TransformerLM({ family: 'llama', vocabSize: 64, nLayer: 2, nHead: 4, nKvHead: 2, nEmbd: 32, intermediateSize: 64, blockSize: 32 });
    const ids = tf.tensor2d([[1, 2, 3]], [1, 3], 'int32');
    const cache = model.createCache(1);
    const logits = model.forward(ids, { cache });
    expect(logits.shape).toEqual([1, 3, 64]);
    const next = model.forward(tf.tensor2d([[4]], [1, 1], 'int32'), { cache });
    expect(next.shape).toEqual([1, 1, 64]);
    expect(api.summarize(model)).toMatch(/^llama · .* params · 2 layers · width 32 · 4 heads \/ 2 kv \(D 8\) · context 32 · vocab 64$/);
    tf.dispose([ids, logits, next]);
    cache.dispose();
    model.dispose();
  });
});
