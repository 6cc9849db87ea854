// rangePerplexity against scoring each window alone, unbatched and unpadded.
import { beforeAll, describe, expect, it } from 'vitest';
import { tf, initBackend, crossEntropy } from '@llm/tensor-gpu';
import { TransformerLM } from '@llm/transformer';
import { TokenShard } from '../data/shard.js';
import { rangePerplexity } from './perplexity.js';

beforeAll(() => initBackend({ backend: 'wasm', log: false }).then(() => undefined));

describe('rangePerplexity', () => {
  it('equals the token-weighted mean of per-window losses computed one window at a time', () => {
    const ids = Array.from({ length: 75 }, (_, i) => (i * 7 + (i % 5)) % 20);
    const shard = TokenShard.fromIds(ids, { vocabSize: 20, tokenizer: { name: 't', hash: 'h' }, documents: 1, sources: [] });
    const model = new TransformerLM({ family: 'gpt2', vocabSize: 20, nLayer: 1, nHead: 2, nEmbd: 16, blockSize: 16, initStd: 0.3 });
    const r = rangePerplexity(model, { shard, start: 3, end: 75 }, { batchSize: 3 });
    let sum = 0;
    let n = 0;
    for (let s = 3; s + 1 < 75; s += 16) {
      const len = Math.min(16, 74 - s);
      const w = Array.from(shard.read(s, len + 1));
      sum += tf.tidy(() => crossEntropy(model.forward(tf.tensor2d([w.slice(0, len)], [1, len], 'int32')), tf.tensor2d([w.slice(1)], [1, len], 'int32'), { reduction: 'sum' }).dataSync()[0]!);
      n += len;
    }
    expect(r.tokens).toBe(71);
    expect(n).toBe(71);
    expect(Math.abs(r.loss - sum / n)).toBeLessThan(1e-5);
    expect(r.perplexity).toBeCloseTo(Math.exp(r.loss), 10);
    model.dispose();
  });
});
