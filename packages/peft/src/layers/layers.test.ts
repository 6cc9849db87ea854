// Adapter layers against slow, obvious host references of PEFT's formulas (loops over arrays).
import { beforeAll, describe, expect, it } from 'vitest';
import { tf, initBackend, Rng } from '@llm/tensor-gpu';
import { Linear } from '@llm/transformer';
import { maxAbsDiff, randomArray } from '@llm/kit';
import { LoraLinear } from './lora-linear.js';
import { Ia3Linear } from './ia3-linear.js';
import { BottleneckLinear } from './bottleneck-linear.js';
import { kaimingUniformA5, normal } from './init.js';
import { mat, mm, tr, type M } from '../testing/tiny.testing.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm', log: false });
});

const N = 5, C = 7, O = 6, R = 3;

/** A base Linear with random weight and bias; `wOI` is its weight as [O, C] on the host. */
function base(layout: 'in_out' | 'out_in', seed: number): { lin: Linear; wOI: M; bias: Float32Array } {
  const wOIdata = randomArray(O * C, seed);
  const wOI: M = { d: wOIdata, r: O, c: C };
  const stored = layout === 'out_in' ? wOI : tr(wOI);
  const bias = randomArray(O, seed + 1);
  const lin = new Linear({ inFeatures: C, outFeatures: O, layout, bias: true, weight: tf.tensor2d(stored.d, [stored.r, stored.c]), biasValue: tf.tensor1d(bias) });
  return { lin, wOI, bias };
}
const addBias = (y: M, b: Float32Array): M => ({ ...y, d: y.d.map((v, i) => v + b[i % y.c]!) });

describe('LoraLinear', () => {
  for (const layout of ['out_in', 'in_out'] as const) {
    it(`y = x Wᵀ + b + s·(x Aᵀ) Bᵀ with nonzero B (${layout === 'in_out' ? 'fan_in_fan_out, Conv1D' : 'nn.Linear'} layout)`, () => {
      const { lin, wOI, bias } = base(layout, 1);
      const l = new LoraLinear(lin);
      const A = randomArray(R * C, 3), B = randomArray(O * R, 4);
      l.addAdapter('default', { r: R, scaling: 16 / R, dropout: 0, A: tf.tensor2d(A, [R, C]), B: tf.tensor2d(B, [O, R]), useDora: false });
      l.active = 'default';
      const x: M = { d: randomArray(N * C, 5), r: N, c: C };
      const y = mat(l.apply(tf.tensor2d(x.d, [N, C])));
      const ref = addBias(mm(x, tr(wOI)), bias);
      const lora = mm(mm(x, tr({ d: A, r: R, c: C })), tr({ d: B, r: O, c: R }));
      const want = ref.d.map((v, i) => v + (16 / R) * lora.d[i]!);
      expect(maxAbsDiff(y.d, want)).toBeLessThan(1e-5);
      // inactive → the base alone
      l.active = null;
      expect(maxAbsDiff(mat(l.apply(tf.tensor2d(x.d, [N, C]))).d, ref.d)).toBeLessThan(1e-5);
    });
  }

  it('DoRA: magnitude starts at ‖W‖ per output row; y = f⊙(x Wᵀ + s·x Aᵀ Bᵀ) + b with f = m/‖W + s·BA‖ (PEFT dora.py)', () => {
    for (const layout of ['out_in', 'in_out'] as const) {
      const { lin, wOI, bias } = base(layout, 11);
      const l = new LoraLinear(lin);
      const A = randomArray(R * C, 13), B = randomArray(O * R, 14);
      const s = 2;
      l.addAdapter('d', { r: R, scaling: s, dropout: 0, A: tf.tensor2d(A, [R, C]), B: tf.tensor2d(tf.zeros([O, R]).dataSync() as Float32Array, [O, R]), useDora: true });
      const m0 = l.adapters.get('d')!.magnitude!.dataSync();
      for (let o = 0; o < O; o++) {
        let n = 0;
        for (let c = 0; c < C; c++) n += wOI.d[o * C + c]! ** 2;
        expect(m0[o]).toBeCloseTo(Math.sqrt(n), 5);
      }
      // nonzero B and a trained-looking magnitude
      l.adapters.get('d')!.B.assign(tf.tensor2d(B, [O, R]));
      const m = randomArray(O, 15, 0.5, 2);
      l.adapters.get('d')!.magnitude!.assign(tf.tensor1d(m));
      l.active = 'd';
      const x: M = { d: randomArray(N * C, 16), r: N, c: C };
      const y = mat(l.apply(tf.tensor2d(x.d, [N, C])));
      const BA = mm({ d: B, r: O, c: R }, { d: A, r: R, c: C }); // [O, C]
      const Wp = wOI.d.map((v, i) => v + s * BA.d[i]!);
      const f = Array.from({ length: O }, (_, o) => {
        let n = 0;
        for (let c = 0; c < C; c++) n += Wp[o * C + c]! ** 2;
        return m[o]! / Math.sqrt(n);
      });
      const xw = mm(x, tr({ d: Wp, r: O, c: C }));
      const want = xw.d.map((v, i) => f[i % O]! * v + bias[i % O]!);
      expect(maxAbsDiff(y.d, want)).toBeLessThan(1e-5);
    }
  });

  it('merge folds W + s·BA into the weight (== unmerged within 1e-5), unmerge restores W within 1e-6; DoRA too', () => {
    for (const useDora of [false, true]) for (const layout of ['out_in', 'in_out'] as const) {
      const { lin } = base(layout, 21);
      const w0 = Float32Array.from(lin.weight.dataSync() as Float32Array);
      const l = new LoraLinear(lin);
      l.addAdapter('a', { r: R, scaling: 0.7, dropout: 0, A: tf.tensor2d(randomArray(R * C, 22), [R, C]), B: tf.tensor2d(randomArray(O * R, 23), [O, R]), useDora });
      if (useDora) l.adapters.get('a')!.magnitude!.assign(tf.tensor1d(randomArray(O, 24, 0.5, 2)));
      l.active = 'a';
      const x = tf.tensor2d(randomArray(N * C, 25), [N, C]);
      const y = mat(l.apply(x)).d;
      l.merge('a');
      expect(maxAbsDiff(mat(l.apply(x)).d, y)).toBeLessThan(1e-5);
      expect(maxAbsDiff(mat(lin.apply(x)).d, y)).toBeLessThan(1e-5);
      l.unmerge();
      expect(maxAbsDiff(lin.weight.dataSync(), w0)).toBeLessThan(1e-6);
      expect(maxAbsDiff(mat(l.apply(x)).d, y)).toBeLessThan(1e-5);
      const plain = l.mergedModule('a', layout);
      expect(maxAbsDiff(mat(plain.apply(x)).d, y)).toBeLessThan(1e-5);
    }
  });

  it('training dropout drops x before A (and the DoRA base term uses the dropped x without bias, as PEFT)', () => {
    const { lin, wOI } = base('out_in', 31);
    const l = new LoraLinear(lin);
    const A = randomArray(R * C, 32), B = randomArray(O * R, 33);
    l.addAdapter('a', { r: R, scaling: 1, dropout: 0.5, A: tf.tensor2d(A, [R, C]), B: tf.tensor2d(B, [O, R]), useDora: true });
    l.active = 'a';
    const keep = Float32Array.from({ length: N * C }, (_, i) => (i % 3 === 0 ? 0 : 2));
    l.dropout = (x) => x.mul(tf.tensor(keep, x.shape));
    const x: M = { d: randomArray(N * C, 34), r: N, c: C };
    const y = mat(l.apply(tf.tensor2d(x.d, [N, C])));
    const xd: M = { ...x, d: x.d.map((v, i) => v * keep[i]!) };
    const m = l.adapters.get('a')!.magnitude!.dataSync();
    const BA = mm({ d: B, r: O, c: R }, { d: A, r: R, c: C });
    const Wp = wOI.d.map((v, i) => v + BA.d[i]!);
    const f = Array.from({ length: O }, (_, o) => {
      let n = 0;
      for (let c = 0; c < C; c++) n += Wp[o * C + c]! ** 2;
      return m[o]! / Math.sqrt(n);
    });
    const baseFull = mat(lin.apply(tf.tensor2d(x.d, [N, C]))); // x Wᵀ + b
    const xdW = mm(xd, tr(wOI));
    const lora = mm(mm(xd, tr({ d: A, r: R, c: C })), tr({ d: B, r: O, c: R }));
    const want = baseFull.d.map((v, i) => v + (f[i % O]! - 1) * xdW.d[i]! + f[i % O]! * lora.d[i]!);
    expect(maxAbsDiff(y.d, want)).toBeLessThan(1e-5);
  });

  it('init: Kaiming-uniform(a=√5) A within ±1/√C with the spread of U(−b, b); gaussian std 1/r', () => {
    const a = kaimingUniformA5(new Rng(1), 64, 100);
    expect(Math.max(...a.map(Math.abs))).toBeLessThanOrEqual(0.1);
    expect(Math.max(...a.map(Math.abs))).toBeGreaterThan(0.099);
    const varU = a.reduce((s, v) => s + v * v, 0) / a.length;
    expect(varU).toBeCloseTo(0.01 / 3, 3);
    const g = normal(new Rng(2), 20000, 1 / 8);
    const sd = Math.sqrt(g.reduce((s, v) => s + v * v, 0) / g.length);
    expect(sd).toBeGreaterThan(0.12);
    expect(sd).toBeLessThan(0.13);
  });
});

describe('Ia3Linear', () => {
  it('feed-forward scales the input ([1, C]); others scale the output, bias included ([O, 1]); merge/unmerge', () => {
    for (const layout of ['out_in', 'in_out'] as const) for (const feedforward of [true, false]) {
      const { lin, wOI, bias } = base(layout, 41);
      const l = new Ia3Linear(lin);
      const shape = l.shapeFor(feedforward);
      const v = randomArray(shape[0] * shape[1], 42, 0.5, 1.5);
      l.addAdapter('a', { feedforward, init: tf.tensor2d(v, shape) });
      l.active = 'a';
      const x: M = { d: randomArray(N * C, 43), r: N, c: C };
      const y = mat(l.apply(tf.tensor2d(x.d, [N, C])));
      const want = feedforward
        ? addBias(mm({ ...x, d: x.d.map((u, i) => u * v[i % C]!) }, tr(wOI)), bias).d
        : addBias(mm(x, tr(wOI)), bias).d.map((u, i) => u * v[i % O]!);
      expect(maxAbsDiff(y.d, want)).toBeLessThan(1e-5);
      const w0 = Float32Array.from(lin.weight.dataSync() as Float32Array);
      l.merge('a');
      expect(maxAbsDiff(mat(lin.apply(tf.tensor2d(x.d, [N, C]))).d, want)).toBeLessThan(1e-5);
      l.unmerge();
      expect(maxAbsDiff(lin.weight.dataSync(), w0)).toBeLessThan(1e-6);
      expect(maxAbsDiff(lin.bias!.dataSync(), bias)).toBeLessThan(1e-6);
    }
  });
});

describe('BottleneckLinear', () => {
  it('y = h + act(h W_dᵀ + b_d) W_uᵀ + b_u after the base; identity while W_u is zero; merge is UNSUPPORTED', () => {
    const { lin, wOI, bias } = base('out_in', 51);
    const l = new BottleneckLinear(lin);
    const Bn = 3;
    const dw = randomArray(Bn * O, 52);
    l.addAdapter('a', { act: 'relu', downW: tf.tensor2d(dw, [Bn, O]), upW: tf.zeros([O, Bn]) });
    l.active = 'a';
    const x: M = { d: randomArray(N * C, 53), r: N, c: C };
    const h = addBias(mm(x, tr(wOI)), bias);
    expect(maxAbsDiff(mat(l.apply(tf.tensor2d(x.d, [N, C]))).d, h.d)).toBeLessThan(1e-5);
    const uw = randomArray(O * Bn, 54);
    l.adapters.get('a')!.upW.assign(tf.tensor2d(uw, [O, Bn]));
    const d = mm(h, tr({ d: dw, r: Bn, c: O }));
    const act = { ...d, d: d.d.map((v) => Math.max(0, v)) };
    const up = mm(act, tr({ d: uw, r: O, c: Bn }));
    const want = h.d.map((v, i) => v + up.d[i]!);
    expect(maxAbsDiff(mat(l.apply(tf.tensor2d(x.d, [N, C]))).d, want)).toBeLessThan(1e-5);
    expect(() => l.merge()).toThrow(/cannot be merged/);
  });
});

describe('svd (PiSSA)', () => {
  it('W = U diag(S) Vt with orthonormal factors and descending S, both orientations', async () => {
    const { svd } = await import('./svd.js');
    for (const [m, n] of [[6, 4], [4, 6], [5, 5]] as const) {
      const w = randomArray(m * n, m * 10 + n);
      const { u, s, vt, k } = svd(w, m, n);
      expect(k).toBe(Math.min(m, n));
      for (let i = 1; i < k; i++) expect(s[i]!).toBeLessThanOrEqual(s[i - 1]!);
      const back = new Float64Array(m * n);
      for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) for (let t = 0; t < k; t++) back[i * n + j]! += u[i * k + t]! * s[t]! * vt[t * n + j]!;
      expect(maxAbsDiff(back, w)).toBeLessThan(1e-6);
      for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) {
        let dot = 0;
        for (let i = 0; i < n; i++) dot += vt[a * n + i]! * vt[b * n + i]!;
        expect(dot).toBeCloseTo(a === b ? 1 : 0, 9);
      }
    }
  });
});
