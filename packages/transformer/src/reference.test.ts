// Logits, hidden states, MoE aux loss and gradients against fixtures produced by an independent
// PyTorch implementation (fixtures/make_fixtures.py; HF GPT-2 / Llama / Mixtral semantics).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf, crossEntropy } from '@llm/tensor-gpu';
import { loadModel } from './checkpoint.js';
import type { TransformerLM } from './model.js';
import { readExpected, fixtureDir, maxAbsDiff, useWasm } from './testing/helpers.js';

const CASES = ['gpt2-tied', 'gpt2-erf-untied', 'llama-gqa', 'llama-mqa-tied', 'mixtral-moe'];

/** Values of x [B, T, F] at positions where mask [B, T] is 1, flattened. */
function realRows(x: tf.Tensor, mask: tf.Tensor): Float32Array {
  const [B, T, F] = x.shape as [number, number, number];
  const v = x.dataSync();
  const m = mask.dataSync();
  const out: number[] = [];
  for (let i = 0; i < B * T; i++) if (m[i]) for (let f = 0; f < F; f++) out.push(v[i * F + f]!);
  return Float32Array.from(out);
}

beforeAll(useWasm);

for (const name of CASES) {
  describe(`${name} vs PyTorch`, () => {
    let model: TransformerLM;
    let exp: Map<string, tf.Tensor>;
    beforeAll(async () => {
      model = await loadModel(fixtureDir(name));
      exp = await readExpected(name);
    });
    afterAll(() => {
      model.dispose();
      tf.dispose([...exp.values()]);
    });

    it('logits and last hidden states of a left-padded batch match to 1e-4', () => {
      const mask = exp.get('attention_mask')!;
      const out = model.run(exp.get('input_ids')!, { attentionMask: mask });
      const dl = maxAbsDiff(realRows(out.logits!, mask), realRows(exp.get('logits')!, mask));
      const dh = maxAbsDiff(realRows(out.hidden, mask), realRows(exp.get('hidden')!, mask));
      expect(dl).toBeLessThan(1e-4);
      expect(dh).toBeLessThan(1e-4);
      if (exp.has('aux_loss')) {
        expect(Math.abs(out.auxLoss!.dataSync()[0]! - exp.get('aux_loss')!.dataSync()[0]!)).toBeLessThan(1e-5);
      } else {
        expect(out.auxLoss).toBeNull();
      }
      tf.dispose([out.logits!, out.hidden, out.auxLoss ?? []]);
    });

    it('the unpadded sequence alone gives the same logits', () => {
      const logits = model.forward(exp.get('single_ids')!);
      expect(maxAbsDiff(logits.dataSync(), exp.get('single_logits')!.dataSync())).toBeLessThan(1e-4);
      logits.dispose();
    });
  });
}

for (const name of ['gpt2-tied', 'llama-gqa']) {
  it(`${name}: the gradient of every weight matches PyTorch autograd`, async () => {
    const model = await loadModel(fixtureDir(name));
    const exp = await readExpected(name);
    const ids = exp.get('input_ids')!;
    const mask = exp.get('attention_mask')!;
    const [B, T] = ids.shape as [number, number];
    // targets: the next token where input and target are both real, else ignored (-100)
    const idv = ids.dataSync();
    const mv = mask.dataSync();
    const tgt = new Int32Array(B * (T - 1));
    for (let b = 0; b < B; b++) for (let t = 0; t < T - 1; t++) {
      tgt[b * (T - 1) + t] = mv[b * T + t] && mv[b * T + t + 1] ? idv[b * T + t + 1]! : -100;
    }
    const params = model.namedParameters();
    const { value, grads } = tf.variableGrads(() => {
      const logits = model.forward(ids, { attentionMask: mask }); // [B, T, V]
      const V = logits.shape[2];
      return crossEntropy(logits.slice([0, 0, 0], [B, T - 1, V]), tf.tensor2d(tgt, [B, T - 1], 'int32')) as tf.Scalar;
    }, params.map(([, v]) => v));
    expect(Math.abs(value.dataSync()[0]! - exp.get('loss')!.dataSync()[0]!)).toBeLessThan(1e-5);
    for (const [pname, v] of params) {
      const ref = exp.get(`grad.${pname}`);
      expect(ref, `fixture has grad.${pname}`).toBeDefined();
      const scale = Math.max(1e-3, ...Array.from(ref!.dataSync(), Math.abs));
      expect(maxAbsDiff(grads[v.name]!.dataSync(), ref!.dataSync()) / scale, pname).toBeLessThan(1e-3);
    }
    expect(params.length).toBe([...exp.keys()].filter((k) => k.startsWith('grad.')).length);
    tf.dispose([value, ...Object.values(grads), ...exp.values()]);
    model.dispose();
  });
}
