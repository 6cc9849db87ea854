// Classification and value heads: pooling at the last real token, padding invariance, gradients,
// save/load.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@llm/tensor-gpu';
import { TransformerLM } from './model.js';
import { SequenceClassifier, ValueHead, loadSequenceClassifier } from './heads.js';
import { loadModel } from './checkpoint.js';
import { expectError, maxAbsDiff, useWasm } from './testing/helpers.js';

let root: string;
beforeAll(async () => {
  await useWasm();
  root = await mkdtemp(join(tmpdir(), 'llm-heads-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

const cfg = { family: 'llama', vocabSize: 30, nLayer: 2, nHead: 4, nKvHead: 2, nEmbd: 16, intermediateSize: 24, blockSize: 16, initStd: 0.2 } as const;

describe('SequenceClassifier', () => {
  it('pools the hidden state of the last real token: score · h[b, last]', () => {
    const backbone = new TransformerLM(cfg);
    const clf = new SequenceClassifier(backbone, { numLabels: 3 });
    const ids = tf.tensor2d([[0, 0, 5, 6, 7], [1, 2, 3, 4, 9]], [2, 5], 'int32');
    const mask = [[0, 0, 1, 1, 1], [1, 1, 1, 1, 1]];
    const logits = clf.forward(ids, { attentionMask: mask });
    expect(logits.shape).toEqual([2, 3]);
    // reference: hidden state at position 4 of each row, times score weightᵀ, in plain loops
    const { hidden } = backbone.run(ids, { attentionMask: mask, logits: false });
    const h = hidden.arraySync() as number[][][];
    const w = clf.score.weight.arraySync() as number[][];
    const ref = [0, 1].map((b) => w.map((row) => row.reduce((a, x, c) => a + x * h[b]![4]![c]!, 0)));
    expect(maxAbsDiff(logits.dataSync(), ref.flat())).toBeLessThan(1e-5);
    // left padding does not change a row's score
    const alone = clf.forward(tf.tensor2d([[5, 6, 7]], [1, 3], 'int32'));
    expect(maxAbsDiff(alone.dataSync(), logits.dataSync().slice(0, 3))).toBeLessThan(1e-5);
    tf.dispose([ids, logits, hidden, alone]);
    clf.dispose();
    backbone.dispose();
  });

  it('a reward model (numLabels 1) trains end to end: gradients reach the score and the backbone', () => {
    const backbone = new TransformerLM(cfg);
    const rm_ = new SequenceClassifier(backbone, { numLabels: 1 });
    const chosen = tf.tensor2d([[1, 2, 3, 4]], [1, 4], 'int32');
    const rejected = tf.tensor2d([[1, 2, 9, 9]], [1, 4], 'int32');
    const vars = rm_.namedParameters();
    const { grads, value } = tf.variableGrads(() => tf.softplus(rm_.forward(rejected).sub(rm_.forward(chosen))).mean() as tf.Scalar /* −log σ(r_c − r_r); tfjs's logSigmoid gradient reads a disposed closure tensor */, vars.map(([, v]) => v));
    for (const name of ['score.weight', 'model.layers.0.self_attn.q_proj.weight', 'model.norm.weight']) {
      const v = vars.find(([n]) => n === name)![1];
      expect(Math.max(...Array.from(grads[v.name]!.dataSync(), Math.abs)), name).toBeGreaterThan(0);
    }
    tf.dispose([chosen, rejected, value, ...Object.values(grads)]);
    rm_.dispose();
    backbone.dispose();
  });

  it('saves as HF *ForSequenceClassification and loads back bit-exact', async () => {
    const backbone = new TransformerLM(cfg);
    const clf = new SequenceClassifier(backbone, { numLabels: 2, labels: ['neg', 'pos'] });
    const dir = join(root, 'clf');
    await clf.save(dir);
    const back = await loadSequenceClassifier(dir);
    expect(back.labels).toEqual(['neg', 'pos']);
    expect(Buffer.from(back.score.weight.dataSync().buffer).equals(Buffer.from(clf.score.weight.dataSync().buffer))).toBe(true);
    const ids = tf.tensor2d([[3, 4, 5]], [1, 3], 'int32');
    const [a, b] = [clf.forward(ids), back.forward(ids)];
    expect(maxAbsDiff(a.dataSync(), b.dataSync())).toBe(0);
    await expectError(() => loadModel(dir), 'CHECKPOINT_UNEXPECTED_TENSOR', /loadSequenceClassifier/);
    tf.dispose([ids, a, b]);
    [clf, back].forEach((x) => x.dispose());
    [backbone, back.backbone].forEach((x) => x.dispose());
  });
});

describe('ValueHead', () => {
  it('gives one value per token; pooled() picks the last real token; shares the backbone with the LM head', async () => {
    const backbone = new TransformerLM(cfg);
    const vh = new ValueHead(backbone);
    const ids = tf.tensor2d([[0, 4, 5, 6], [7, 8, 9, 10]], [2, 4], 'int32');
    const mask = [[0, 1, 1, 1], [1, 1, 1, 1]];
    const out = backbone.run(ids, { attentionMask: mask }); // one pass: logits for the policy, hidden for values
    const values = vh.apply(out.hidden);
    expect(values.shape).toEqual([2, 4]);
    const h = out.hidden.arraySync() as number[][][];
    const w = vh.summary.weight.dataSync();
    const bias = vh.summary.bias!.dataSync()[0]!;
    const ref = h.map((row) => row.map((hv) => hv.reduce((a, x, c) => a + x * w[c]!, bias)));
    expect(maxAbsDiff(values.dataSync(), ref.flat())).toBeLessThan(1e-5);
    const pooled = vh.pooled(ids, { attentionMask: mask });
    expect(maxAbsDiff(pooled.dataSync(), [ref[0]![3]!, ref[1]![3]!])).toBeLessThan(1e-5);
    const dir = join(root, 'vh');
    await backbone.save(dir);
    await vh.save(dir);
    const back = await ValueHead.load(dir, backbone);
    expect(maxAbsDiff(back.summary.weight.dataSync(), w)).toBe(0);
    await expectError(() => ValueHead.load(join(root, 'nope'), backbone), 'CHECKPOINT_INVALID', /value_head\.safetensors/);
    tf.dispose([ids, out.logits!, out.hidden, values, pooled]);
    [vh, back].forEach((x) => x.dispose());
    backbone.dispose();
  });
});
