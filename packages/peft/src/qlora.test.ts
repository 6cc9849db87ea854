// QLoRA: LoRA over a frozen NF4 (double-quantized) base from @llm/quant.
import { beforeAll, describe, expect, it } from 'vitest';
import { tf, initBackend } from '@llm/tensor-gpu';
import { Linear } from '@llm/transformer';
import { Nf4Linear } from '@llm/quant';
import { expectError, maxAbsDiff } from '@llm/kit';
import { PeftError, getPeftModel, prepareQlora, trainableParameters, LoraLinear } from './index.js';
import { FAMILIES, ids, lmLoss, logitsOf, tinyModel } from './testing/tiny.testing.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm', log: false });
});

describe('QLoRA', () => {
  for (const [fam, cfg] of FAMILIES) {
    it(`${fam}: LoRA wraps Nf4Linear bases; training only A/B lowers the loss; the NF4 state never changes`, () => {
      const model = tinyModel({ ...cfg, nEmbd: 64, intermediateSize: 128 });
      const report = prepareQlora(model);
      expect(report.layers.length).toBeGreaterThan(0);
      const x = ids(11, 4, 8);
      const base = logitsOf(model.forward(x));
      const peft = getPeftModel(model, { peftType: 'LORA', r: 4, loraAlpha: 8, targetModules: 'all-linear' });
      const q = peft.base.getModule(peft.base.linearNames()[0]!) as LoraLinear;
      expect(q).toBeInstanceOf(LoraLinear);
      expect(q.base).toBeInstanceOf(Nf4Linear);
      expect(maxAbsDiff(logitsOf(peft.forward(x)), base)).toBeLessThan(1e-5);
      const packed = Array.from((q.base as Nf4Linear).weight.packed);
      const vars = peft.trainableParameters().map(([, v]) => v);
      expect(peft.trainableParameters().every(([n]) => /lora_[AB]/.test(n))).toBe(true);
      const l0 = lmLoss(peft, x).dataSync()[0]!;
      const opt = tf.train.adam(1e-2);
      for (let s = 0; s < 12; s++) {
        const { value, grads } = tf.variableGrads(() => lmLoss(peft, x, true), vars);
        opt.applyGradients(Object.entries(grads).map(([name, tensor]) => ({ name, tensor })));
        tf.dispose([value, ...Object.values(grads)]);
      }
      opt.dispose();
      const l1 = lmLoss(peft, x).dataSync()[0]!;
      expect(l1).toBeLessThan(l0 - 0.05);
      expect(Array.from((q.base as Nf4Linear).weight.packed)).toEqual(packed);
      // counts: an NF4 linear counts out·in weights (PEFT counts bitsandbytes' Params4bit numel × 2)
      const c = trainableParameters(peft);
      const full = trainableParameters(tinyModel({ ...cfg, nEmbd: 64, intermediateSize: 128 }));
      expect(c.all - c.trainable).toBe(full.all);
      // merge in place is not possible on a packed weight; mergeAndUnload builds float Linears
      expectError(() => peft.merge(), 'UNSUPPORTED', /quantized/, PeftError);
      const y = logitsOf(peft.forward(x));
      const plain = peft.mergeAndUnload();
      expect(plain.linearNames().every((n) => plain.getModule(n) instanceof Linear)).toBe(true);
      expect(maxAbsDiff(logitsOf(plain.forward(x)), y)).toBeLessThan(1e-4);
      plain.dispose();
    });
  }
});

describe('memoryFootprint', () => {
  it('QLoRA holds fewer weight bytes than LoRA; both keep optimizer state for the adapter only (vs full fine-tuning)', async () => {
    const { memoryFootprint } = await import('./index.js');
    const cfg = { ...FAMILIES[1][1], nEmbd: 64, intermediateSize: 128 };
    const full = memoryFootprint(tinyModel(cfg));
    const lora = memoryFootprint(getPeftModel(tinyModel(cfg), { peftType: 'LORA', r: 4, targetModules: 'all-linear' }));
    const qm = tinyModel(cfg);
    prepareQlora(qm);
    const qlora = memoryFootprint(getPeftModel(qm, { peftType: 'LORA', r: 4, targetModules: 'all-linear' }));
    expect(full.optimizerBytes).toBe(full.trainable * 8);
    expect(lora.trainable).toBe(qlora.trainable);
    expect(lora.optimizerBytes).toBeLessThan(full.optimizerBytes / 5);
    expect(qlora.weightBytes).toBeLessThan(lora.weightBytes * 0.6);
  });
});
