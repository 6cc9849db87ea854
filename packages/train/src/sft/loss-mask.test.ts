// The SFT loss mask, end to end: records → tokenizeExample → collate → a tiny TransformerLM (wasm)
// → crossEntropy(logits, targets). Only response positions may carry loss or gradient.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf, initBackend, crossEntropy } from '@llm/tensor-gpu';
import { TransformerLM } from '@llm/transformer';
import { chatmlTemplate } from '@llm/tokenizer-bpe';
import { type SftRecord, type TokenizedExample, tokenizeExample } from './examples.js';
import { collate, toTensors } from './collate.js';
import { logSoftmaxRow } from '../testing/loss-reference.js';
import { byteTokenizer } from '../testing/sft-helpers.js';

const X = -100;
const tok = byteTokenizer();
const V = tok.vocabSize; // 260
const other: SftRecord = { messages: [{ role: 'user', content: 'a question?' }, { role: 'assistant', content: 'ok.' }] };

function examplesFor(record: SftRecord): TokenizedExample[] {
  return [record, other].map((r) => tokenizeExample(r, tok, chatmlTemplate())!);
}

function batchFor(record: SftRecord) {
  return collate(examplesFor(record), { padId: 0, padTo: 40 });
}

describe('SFT loss mask (tiny TransformerLM, wasm)', () => {
  let model: TransformerLM;
  let logits: tf.Tensor3D; // [B, T, V] for the batch of { prompt: 'hi', response: 'yo' } + other
  let liveBefore: number;
  const base: SftRecord = { prompt: 'hi', response: 'yo' };
  const batch = batchFor(base);

  beforeAll(async () => {
    await initBackend({ backend: 'wasm', log: false });
    model = new TransformerLM({ family: 'gpt2', vocabSize: V, nLayer: 1, nHead: 2, nEmbd: 16, blockSize: 64, seed: 1 });
    liveBefore = tf.memory().numTensors; // the model's weights
    const { inputs, targets, mask } = toTensors(batch);
    logits = model.forward(inputs, { attentionMask: mask }) as tf.Tensor3D; // [B, T, V]
    tf.dispose([inputs, targets]);
  });

  afterAll(() => {
    logits.dispose();
    expect(tf.memory().numTensors).toBe(liveBefore); // nothing leaked across all tests
  });

  const lossWith = (l: tf.Tensor, targetData: Int32Array): number =>
    tf.tidy(() => crossEntropy(l, tf.tensor2d(targetData, [2, 40], 'int32')).dataSync()[0]!);

  it('the response positions are exactly the hand-expected ones', () => {
    // 'hi'/'yo': 21 prompt tokens then y o <|im_end|> \n → positions 20..23 predict them.
    const kept = (b: number): number[] => [...Array(40).keys()].filter((t) => batch.targets[b * 40 + t] !== X);
    expect(kept(0)).toEqual([20, 21, 22, 23]);
    expect([20, 21, 22, 23].map((t) => batch.targets[t])).toEqual([121, 111, 257, 10]);
    expect(kept(1)).toHaveLength(5); // 'ok.' + <|im_end|> + '\n'
  });

  it('(1) d loss / d logits is exactly 0 wherever the target is -100 and non-zero at response positions', () => {
    const before = tf.memory().numTensors;
    const targets = tf.tensor2d(batch.targets, [2, 40], 'int32'); // [B, T]
    const grad = tf.grad((l: tf.Tensor) => crossEntropy(l, targets))(logits); // [B, T, V]
    const g = grad.dataSync();
    for (let n = 0; n < 2 * 40; n++) {
      const row = Array.from(g.subarray(n * V, (n + 1) * V));
      if (batch.targets[n] === X) expect(row.every((x) => x === 0), `position ${n} (ignored)`).toBe(true);
      else expect(row.some((x) => x !== 0), `position ${n} (response)`).toBe(true);
    }
    tf.dispose([targets, grad]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('(1b) noise on prompt and padding logits leaves the loss bit-identical; one response logit moves it', () => {
    const noise = tf.tidy(() => {
      const ignored = tf.tensor3d(Array.from(batch.targets, (t) => (t === X ? 1 : 0)), [2, 40, 1]); // [B, T, 1]
      return logits.add(tf.randomNormal([2, 40, V], 0, 5, 'float32', 7).mul(ignored)); // [B, T, V]
    });
    expect(lossWith(noise, batch.targets)).toBe(lossWith(logits, batch.targets));
    const one = tf.buffer([2, 40, V]);
    one.set(3, 0, 20, 121); // raise the target logit of response position 20 in row 0
    const bump = tf.tidy(() => logits.add(one.toTensor())); // [B, T, V]
    expect(lossWith(bump, batch.targets)).not.toBe(lossWith(logits, batch.targets));
    tf.dispose([noise, bump]);
  });

  it('(2) changing prompt tokens in the data leaves the loss unchanged; changing a response token changes it', () => {
    const otherPrompt = batchFor({ prompt: 'HI', response: 'yo' });
    const otherResponse = batchFor({ prompt: 'hi', response: 'ya' });
    expect(Array.from(otherPrompt.inputs)).not.toEqual(Array.from(batch.inputs)); // the data did change
    expect(Array.from(otherPrompt.targets)).toEqual(Array.from(batch.targets)); // but not the targets
    expect(lossWith(logits, otherPrompt.targets)).toBe(lossWith(logits, batch.targets));
    expect(lossWith(logits, otherResponse.targets)).not.toBe(lossWith(logits, batch.targets));
  });

  it('(3) the loss equals a plain-loop log-softmax over response positions only', () => {
    const flat = logits.dataSync(); // [B, T, V] row-major
    const examples = examplesFor(base);
    let total = 0;
    let count = 0;
    examples.forEach((ex, b) => {
      for (let t = 0; t + 1 < ex.ids.length; t++) {
        const next = ex.labels[t + 1]!; // logits at t predict token t + 1
        if (next === X) continue;
        const offset = (b * 40 + t) * V;
        total -= logSoftmaxRow(flat.subarray(offset, offset + V))[next]!;
        count++;
      }
    });
    expect(count).toBe(4 + 5);
    expect(lossWith(logits, batch.targets)).toBeCloseTo(total / count, 5);
  });

  it('(4) a few optimizer steps on the masked loss lower it, without leaking tensors', () => {
    const { inputs, targets, mask } = toTensors(batch);
    const vars = model.trainableParameters().map(([, v]) => v);
    const loss = (): tf.Scalar => crossEntropy(model.forward(inputs, { attentionMask: mask, training: true }), targets) as tf.Scalar;
    const first = tf.tidy(() => loss().dataSync()[0]!);
    const before = tf.memory().numTensors;
    const optimizer = tf.train.adam(0.01);
    for (let step = 0; step < 5; step++) tf.dispose(optimizer.minimize(loss, false, vars) ?? []);
    const last = tf.tidy(() => loss().dataSync()[0]!);
    optimizer.dispose(); // its moment estimates
    tf.dispose([inputs, targets]);
    expect(tf.memory().numTensors).toBe(before - 2);
    expect(last).toBeLessThan(first);
  });
});
