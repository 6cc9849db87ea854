// Quantized linears and quantizeModel on real TransformerLMs (wasm backend, as users get).
import { beforeAll, describe, expect, it } from 'vitest';
import { tf, initBackend } from '@llm/tensor-gpu';
import { Linear, TransformerLM, type ModelConfigInput } from '@llm/transformer';
import { expectErrorAsync, rng } from '@llm/kit';
import { QuantError } from '../errors.js';
import { quantizeInt4, quantizeInt8, quantizeNf4 } from '../quantizers/index.js';
import { Int4Linear, Int8Linear, Nf4Linear, QuantizedLinear } from './quantized-linear.js';
import { quantizeModel, type QuantizeOptions } from './quantize-model.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm', log: false });
});

const gpt2: ModelConfigInput = { family: 'gpt2', vocabSize: 40, nLayer: 2, nHead: 2, nEmbd: 32, blockSize: 16, seed: 3 } as ModelConfigInput;
const llama: ModelConfigInput = { family: 'llama', vocabSize: 40, nLayer: 2, nHead: 4, nKvHead: 2, nEmbd: 32, intermediateSize: 48, blockSize: 16, seed: 4 } as ModelConfigInput;

function ids(seed: number): tf.Tensor2D {
  const r = rng(seed);
  return tf.tensor2d(Int32Array.from({ length: 2 * 7 }, () => Math.floor(r() * 40)), [2, 7], 'int32');
}
const randomMatrix = (out: number, inF: number, seed: number, scale = 0.1) => {
  const r = rng(seed);
  return { data: Float32Array.from({ length: out * inF }, () => (r() * 2 - 1) * scale), shape: [out, inF] as [number, number] };
};

describe('quantized linear modules', () => {
  it('rebuild exactly the quantizer’s dequantized weight in tfjs, and apply like a Linear of it', () => {
    const w = randomMatrix(12, 100, 1);
    w.data[5] = 7; // an int8 outlier column
    const bias = Float32Array.from({ length: 12 }, (_, i) => i / 10);
    const mods = [
      new Nf4Linear(quantizeNf4(w), bias),
      new Nf4Linear(quantizeNf4(w, { doubleQuant: false }), bias),
      new Int4Linear(quantizeInt4(w, { groupSize: 32 }), bias),
      new Int4Linear(quantizeInt4(w, { groupSize: 64, symmetric: false }), bias),
      new Int8Linear(quantizeInt8(w), bias),
    ];
    const x = tf.tensor2d(Float32Array.from({ length: 3 * 100 }, (_, i) => Math.sin(i)), [3, 100]);
    for (const m of mods) {
      const deq = m.weight.dequantize();
      const t = m.dequantizedWeight();
      expect(Array.from(t.dataSync())).toEqual(Array.from(deq));
      t.dispose();
      const ref = new Linear({ inFeatures: 100, outFeatures: 12, layout: 'out_in', bias: true, weight: tf.tensor2d(deq, [12, 100]), biasValue: tf.tensor1d(bias) });
      const y = m.apply(x);
      const yr = ref.apply(x);
      expect(y.shape).toEqual([3, 12]);
      expect(Array.from(y.dataSync())).toEqual(Array.from(yr.dataSync()));
      tf.dispose([y, yr, ref.weight, ref.bias!]);
      expect(m.namedParameters().map(([n, v]) => [n, v.trainable])).toEqual([['bias', false]]);
      m.dispose();
    }
    x.dispose();
  });
  it('bytes per parameter of a 256×1024 weight: NF4+DQ ≈ 0.52, int4 g128 ≈ 0.53, int8 ≈ 1.004', () => {
    const w = randomMatrix(256, 1024, 5);
    expect(quantizeNf4(w).byteSize()).toBe(131072 + 4096 + 16 * 4 + 1024 + 4);
    expect(quantizeNf4(w, { doubleQuant: false }).byteSize()).toBe(131072 + 4096 * 4);
    expect(quantizeInt4(w, { groupSize: 128 }).byteSize()).toBe(131072 + 2048 * 4 + 1024);
    expect(quantizeInt8(w, { threshold: 0 }).byteSize()).toBe(262144 + 256 * 4);
  });
  it('nf4 with more than 256 blocks (two nested blocks) still matches', () => {
    const m = new Nf4Linear(quantizeNf4(randomMatrix(64, 320, 2)));
    const t = m.dequantizedWeight();
    expect(Array.from(t.dataSync())).toEqual(Array.from(m.weight.dequantize()));
    t.dispose();
    m.dispose();
  });
});

const schemes: Array<[string, QuantizeOptions, number]> = [
  ['int8', { scheme: 'int8' }, 0.05],
  ['int4 g32 sym', { scheme: 'int4', groupSize: 32 }, 0.5],
  ['int4 g32 asym', { scheme: 'int4', groupSize: 32, symmetric: false }, 0.5],
  ['nf4 + double quant', { scheme: 'nf4' }, 0.5],
];

describe('quantizeModel', () => {
  for (const cfg of [gpt2, llama]) {
    for (const [label, opts, tol] of schemes) {
      it(`${cfg.family} ${label}: logits close to fp32, equal to the dequantized-weight model, no leaks`, () => {
        const fp = new TransformerLM(cfg);
        const qm = new TransformerLM(cfg);
        const dq = new TransformerLM(cfg);
        const x = ids(7);
        const report = quantizeModel(qm, opts);
        expect(report.skipped).toEqual(['lm_head']);
        expect(report.layers.map((l) => l.name)).toEqual(qm.linearNames().filter((n) => n !== 'lm_head'));
        for (const name of report.layers.map((l) => l.name)) {
          const q = qm.getModule(name) as QuantizedLinear;
          const d = dq.getModule(name) as Linear;
          const deq = tf.tensor2d(q.weight.dequantize(), [q.outFeatures, q.inFeatures]);
          const old = dq.replaceModule(name, new Linear({ inFeatures: q.inFeatures, outFeatures: q.outFeatures, layout: 'out_in', bias: !!d.bias, weight: deq, ...(d.bias ? { biasValue: d.bias.clone() } : {}) })) as Linear;
          old.weight.dispose();
          old.bias?.dispose();
        }
        // the same, with the dequantized weights assigned into the original Linears in their own layout
        const inPlace = new TransformerLM(cfg);
        for (const name of report.layers.map((l) => l.name)) {
          const q = qm.getModule(name) as QuantizedLinear;
          const lin = inPlace.getModule(name) as Linear;
          tf.tidy(() => {
            const deq = tf.tensor2d(q.weight.dequantize(), [q.outFeatures, q.inFeatures]); // [out, in]
            lin.weight.assign(lin.layout === 'out_in' ? deq : deq.transpose()); // gpt2 Conv1D: [in, out]
          });
        }
        const li = inPlace.forward(x);
        const lf = fp.forward(x);
        const lq = qm.forward(x);
        const ld = dq.forward(x);
        expect(Array.from(lq.dataSync())).toEqual(Array.from(ld.dataSync()));
        expect(tf.tidy(() => li.sub(lq).abs().max().dataSync()[0]!)).toBeLessThanOrEqual(1e-5); // [in, out] matMul may sum in another order
        tf.dispose(li);
        inPlace.dispose();
        const diff = tf.tidy(() => lq.sub(lf).abs().max().dataSync()[0]!);
        expect(diff).toBeGreaterThan(0);
        expect(diff).toBeLessThan(tol);
        tf.dispose([lf, lq, ld]);
        const before = tf.memory().numTensors;
        for (let i = 0; i < 3; i++) tf.dispose(qm.forward(x));
        expect(tf.memory().numTensors).toBe(before);
        const bpp = report.total.bytesPerParam;
        if (opts.scheme === 'nf4') expect(bpp).toBeGreaterThan(0.5);
        if (opts.scheme === 'int8') expect(bpp).toBeGreaterThan(1);
        expect(bpp).toBeLessThan(opts.scheme === 'int8' ? 1.3 : opts.scheme === 'nf4' ? 2 : 0.75); // tiny layers: NF4's 1 KiB nested map per layer dominates
        for (const l of report.layers) expect(l.bytesPerParam).toBeCloseTo(l.bytes / l.parameters, 12);
        for (const name of report.layers.map((l) => l.name)) (qm.getModule(name) as QuantizedLinear).dispose();
        tf.dispose(x);
        fp.dispose();
        qm.dispose();
        dq.dispose();
      });
    }
  }
  it('int8 calibration picks activation outlier columns; skip option; errors', async () => {
    const m = new TransformerLM(gpt2);
    const calIds = ids(1);
    const r = quantizeModel(m, { scheme: 'int8', calibration: calIds, threshold: 0.5, skip: /lm_head|c_proj/ });
    calIds.dispose();
    expect(r.skipped).toEqual(['transformer.h.0.attn.c_proj', 'transformer.h.0.mlp.c_proj', 'transformer.h.1.attn.c_proj', 'transformer.h.1.mlp.c_proj', 'lm_head']);
    const q = m.getModule('transformer.h.0.attn.c_attn') as Int8Linear;
    expect(q.weight.outlierCols.length).toBeGreaterThan(0); // layer-normed activations reach 0.5
    await expectErrorAsync(() => quantizeModel(m, { scheme: 'int8', skip: ['lm_head'] }), 'UNSUPPORTED', /already quantized \(int8\)/, QuantError);
    const plain = new TransformerLM(gpt2);
    const cal = ids(1);
    await expectErrorAsync(() => quantizeModel(plain, { scheme: 'nf4', calibration: cal }), 'INVALID_ARGUMENT', /calibration is used by int8 only/, QuantError);
    tf.dispose(cal);
    plain.dispose();
    await expectErrorAsync(() => quantizeModel(m, { scheme: 'int3' as 'int8' }), 'INVALID_ARGUMENT', /scheme must be one of int8, int4, nf4/, QuantError);
    for (const n of r.layers.map((l) => l.name)) (m.getModule(n) as QuantizedLinear).dispose();
    m.dispose();
  });
});
