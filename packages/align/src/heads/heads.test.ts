// The light regressor: ridge in closed form against hand-solved cases; pooled embeddings ignore padding.
import { beforeAll, describe, expect, it } from 'vitest';
import { tf, initBackend, Rng } from '@llm/tensor-gpu';
import { TransformerLM, SequenceClassifier, loadSequenceClassifier } from '@llm/transformer';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { embedTexts, fitRidge, HeadModel } from './index.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm', log: false });
});

describe('fitRidge', () => {
  it('recovers an exact linear relation (λ → 0) and matches the 1-D closed form w = Σxy / (Σx² + λ)', () => {
    const r = new Rng(1);
    const N = 40;
    const data = Float64Array.from({ length: N * 3 }, () => r.next() * 2 - 1);
    const y = Array.from({ length: N }, (_, n) => data[n * 3]! - 2 * data[n * 3 + 1]! + 0.5 * data[n * 3 + 2]! + 3);
    const m = fitRidge({ data, rows: N, cols: 3 }, y, { lambda: 0 });
    expect(Array.from(m.weights).map((w) => +w.toFixed(6))).toEqual([1, -2, 0.5]);
    expect(m.bias).toBeCloseTo(3, 6);
    expect(m.predict({ data: Float64Array.of(1, 1, 1), rows: 1, cols: 3 })[0]).toBeCloseTo(2.5, 6);
    const x = [1, 2, 3, 4];
    const yy = [2, 1, 4, 3];
    const one = fitRidge({ data: Float64Array.from(x), rows: 4, cols: 1 }, yy, { lambda: 2 });
    const xc = x.map((v) => v - 2.5);
    const yc = yy.map((v) => v - 2.5);
    const w = xc.reduce((s, v, i) => s + v * yc[i]!, 0) / (xc.reduce((s, v) => s + v * v, 0) + 2);
    expect(one.weights[0]).toBeCloseTo(w, 10);
    expect(one.bias).toBeCloseTo(2.5 - 2.5 * w, 10);
  });
});

describe('embedTexts', () => {
  it('mean / last-token pooling: a text alone = the same text padded in a batch; shapes [N, C]', () => {
    const model = new TransformerLM({ family: 'llama', vocabSize: 24, nLayer: 1, nHead: 2, nKvHead: 1, nEmbd: 16, intermediateSize: 24, blockSize: 16, seed: 2 });
    embedTexts(model, [[3, 4, 5, 6]]); // the model builds its RoPE tables once (its own tensors)
    const live = tf.memory().numTensors;
    for (const pooling of ['mean', 'last'] as const) {
      const both = embedTexts(model, [[3, 4, 5, 6], [7, 8]], { pooling });
      const alone = embedTexts(model, [[7, 8]], { pooling });
      expect(both.rows).toBe(2);
      expect(both.cols).toBe(16);
      for (let c = 0; c < 16; c++) expect(both.data[16 + c]).toBeCloseTo(alone.data[c]!, 5);
    }
    expect(tf.memory().numTensors).toBe(live);
    model.dispose();
  });
});

describe('HeadModel', () => {
  it('gives train() what it needs and saves an HF *ForSequenceClassification directory', async () => {
    const clf = new HeadModel(new SequenceClassifier(new TransformerLM({ family: 'gpt2', vocabSize: 24, nLayer: 1, nHead: 2, nEmbd: 16, blockSize: 16 }), { numLabels: 3, labels: ['a', 'b', 'c'] }));
    expect(clf.trainableParameters().at(-1)![0]).toBe('score.weight');
    expect(clf.trainableParameters().length).toBe(clf.classifier.backbone.trainableParameters().length + 1);
    const dir = join(mkdtempSync(join(tmpdir(), 'align-head-')), 'clf');
    await clf.save(dir);
    const back = await loadSequenceClassifier(dir);
    expect(back.labels).toEqual(['a', 'b', 'c']);
    const ids = tf.tensor2d([[1, 2, 3]], [1, 3], 'int32');
    const [a, b] = [clf.scores(ids), back.forward(ids)];
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    tf.dispose([ids, a, b]);
    clf.dispose();
    back.dispose();
    back.backbone.dispose();
  });
});
