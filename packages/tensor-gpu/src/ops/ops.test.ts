// Fused and composite ops against independent plain-loop references, on cpu and wasm.
import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../tf.js';
import { installKernels } from '../kernels/install.js';
import { TensorGpuError } from '../errors.js';
import { causalSelfAttention } from './attention.js';
import { crossEntropy } from './cross-entropy.js';
import { layerNorm, rmsNorm } from './norms.js';
import { gelu, silu } from './activations.js';
import { applyRope, ropeTables } from './rope.js';
import { attentionRef, crossEntropyRef } from '../testing/reference.js';
import { maxAbsDiff, randomArray, randomInts } from '@llm/kit';

/** Plain autodiff attention (no custom gradient): the independent path for gradients. */
function naiveAttention(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, offset: number): tf.Tensor {
  const [B, H, Tq, D] = q.shape as number[] as [number, number, number, number];
  const [, K, Tk] = k.shape as number[] as [number, number, number];
  const rep = (x: tf.Tensor) => tf.stack(Array.from({ length: H }, (_, h) => x.gather([Math.floor(h / (H / K))], 1).squeeze([1])), 1);
  const s = tf.matMul(q, rep(k), false, true).div(Math.sqrt(D)); // [B, H, Tq, Tk]
  const allowed: number[] = [];
  for (let i = 0; i < Tq; i++) for (let j = 0; j < Tk; j++) allowed.push(j <= offset + i ? 0 : -1e30);
  const p = tf.softmax(s.add(tf.tensor2d(allowed, [Tq, Tk])));
  return tf.matMul(p, rep(v)).reshape([B, H, Tq, D]);
}

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`ops on ${backend}`, () => {
    beforeAll(async () => {
      await tf.setBackend(backend);
      installKernels(backend);
    });

    it('causalSelfAttention matches the loop reference (GQA, offset, padding mask)', () => {
      const dims = { B: 2, H: 4, K: 2, Tq: 3, Tk: 5, D: 8 };
      const qa = randomArray(2 * 4 * 3 * 8, 1);
      const ka = randomArray(2 * 2 * 5 * 8, 2);
      const va = randomArray(2 * 2 * 5 * 8, 3);
      const mask = [0, 1, 1, 1, 1, 1, 1, 1, 1, 1];
      const out = tf.tidy(() =>
        causalSelfAttention(tf.tensor4d(qa, [2, 4, 3, 8]), tf.tensor4d(ka, [2, 2, 5, 8]), tf.tensor4d(va, [2, 2, 5, 8]), {
          attentionMask: tf.tensor2d(mask, [2, 5], 'int32'),
        }).dataSync(),
      );
      expect(maxAbsDiff(out, attentionRef(qa, ka, va, dims, 2, mask))).toBeLessThan(1e-5);
    });

    it('causalSelfAttention gradient equals autodiff of a naive attention', () => {
      const shapeQ: [number, number, number, number] = [1, 4, 4, 8];
      const shapeK: [number, number, number, number] = [1, 2, 6, 8];
      const [q, k, v] = [tf.tensor4d(randomArray(128, 4), shapeQ), tf.tensor4d(randomArray(96, 5), shapeK), tf.tensor4d(randomArray(96, 6), shapeK)];
      const w = tf.tensor4d(randomArray(128, 7), shapeQ);
      const loss = (f: (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.Tensor) => (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => f(a, b, c).mul(w).sum();
      const ours = tf.grads(loss((a, b, c) => causalSelfAttention(a, b, c, { offset: 2 })))([q, k, v]);
      const ref = tf.grads(loss((a, b, c) => naiveAttention(a, b, c, 2)))([q, k, v]);
      for (let i = 0; i < 3; i++) expect(maxAbsDiff(ours[i]!.dataSync(), ref[i]!.dataSync())).toBeLessThan(1e-5);
      tf.dispose([q, k, v, w, ...ours, ...ref]);
    });

    it('causalSelfAttention rejects mismatched shapes with a typed error', () => {
      const q = tf.zeros([1, 3, 2, 4]);
      const k = tf.zeros([1, 2, 2, 4]);
      expect(() => causalSelfAttention(q, k, k)).toThrow(TensorGpuError);
      expect(() => causalSelfAttention(q, k, k)).toThrow(/multiple of kv heads/);
      tf.dispose([q, k]);
    });

    it('crossEntropy: value and gradient match the reference, ignore index respected', () => {
      const [n, v] = [6, 11];
      const xa = randomArray(n * v, 8, -3, 3);
      const ta = Array.from(randomInts(n, 9, v));
      ta[2] = -100;
      const ref = crossEntropyRef(xa, ta, n, v);
      const valid = ta.filter((t) => t !== -100).length;
      const x = tf.tensor2d(xa, [n, v]);
      const t = tf.tensor1d(ta, 'int32');
      const g = tf.grad((z: tf.Tensor) => crossEntropy(z, t))(x);
      const loss = crossEntropy(x, t).dataSync()[0]!;
      expect(loss).toBeCloseTo(ref.loss.reduce((a, b) => a + b, 0) / valid, 5);
      expect(maxAbsDiff(g.dataSync(), ref.grad.map((d) => d / valid))).toBeLessThan(1e-6);
      const none = crossEntropy(x, t, { reduction: 'none' }).dataSync();
      expect(maxAbsDiff(none, ref.loss)).toBeLessThan(1e-5);
      expect(none[2]).toBe(0);
      tf.dispose([x, t, g]);
    });

    it('crossEntropy: hand-computed case, all-ignored batch and bad input', () => {
      const x = tf.tensor3d([[[0, 0]]]);
      expect(crossEntropy(x, tf.tensor2d([[1]], [1, 1], 'int32')).dataSync()[0]).toBeCloseTo(Math.log(2), 6);
      expect(crossEntropy(x, tf.tensor2d([[-100]], [1, 1], 'int32')).dataSync()[0]).toBe(0);
      expect(() => crossEntropy(x, tf.tensor2d([[2]], [1, 1], 'int32'))).toThrow(/outside the vocabulary/);
      expect(() => crossEntropy(x, tf.tensor1d([1], 'int32'))).toThrow(TensorGpuError);
      expect(() => crossEntropy(x, tf.tensor2d([[1]], [1, 1], 'float32'))).toThrow(/int32/);
    });

    it('layerNorm and rmsNorm match hand-computed values', () => {
      const ln = layerNorm(tf.tensor2d([[1, 3]]), tf.ones([2]), tf.zeros([2]), 0).dataSync();
      expect(Array.from(ln)).toEqual([-1, 1]);
      const rms = rmsNorm(tf.tensor2d([[3, 4]]), tf.tensor1d([1, 2]), 0).dataSync();
      const r = Math.sqrt((9 + 16) / 2);
      expect(rms[0]).toBeCloseTo(3 / r, 6);
      expect(rms[1]).toBeCloseTo((2 * 4) / r, 6);
    });

    it('gelu (tanh, erf) and silu match hand-computed values', () => {
      const x = tf.tensor1d([-2, -0.5, 0, 1, 3]);
      const xs = [-2, -0.5, 0, 1, 3];
      const erf = (z: number) => { // Abramowitz–Stegun 7.1.26 is too coarse; use a series for |z| < 3
        let sum = 0, term = z;
        for (let n = 0; n < 60; n++) { sum += term / (2 * n + 1); term *= (-z * z) / (n + 1); }
        return (2 / Math.sqrt(Math.PI)) * sum;
      };
      const tanhRef = xs.map((z) => 0.5 * z * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (z + 0.044715 * z ** 3))));
      const erfRef = xs.map((z) => 0.5 * z * (1 + erf(z / Math.SQRT2)));
      expect(maxAbsDiff(gelu(x, 'tanh').dataSync(), tanhRef)).toBeLessThan(1e-6);
      expect(maxAbsDiff(gelu(x, 'erf').dataSync(), erfRef)).toBeLessThan(2e-6);
      expect(maxAbsDiff(silu(x).dataSync(), xs.map((z) => z / (1 + Math.exp(-z))))).toBeLessThan(1e-6);
    });

    it('applyRope matches a loop over (x1, x2) pairs in rotate_half layout', () => {
      const [T, D] = [5, 8];
      const xa = randomArray(2 * T * D, 10);
      const { cos, sin } = ropeTables({ positions: T, headDim: D, theta: 10000, offset: 3 });
      const out = applyRope(tf.tensor3d(xa, [2, T, D]), cos, sin).dataSync();
      const ref = new Float64Array(xa.length);
      for (let h = 0; h < 2; h++) for (let t = 0; t < T; t++) for (let i = 0; i < D / 2; i++) {
        const a = (3 + t) / 10000 ** ((2 * i) / D);
        const base = (h * T + t) * D;
        const [x1, x2] = [xa[base + i]!, xa[base + i + D / 2]!];
        ref[base + i] = x1 * Math.cos(a) - x2 * Math.sin(a);
        ref[base + i + D / 2] = x2 * Math.cos(a) + x1 * Math.sin(a);
      }
      expect(maxAbsDiff(out, ref)).toBeLessThan(1e-5);
    });

    it('applyRope with per-row tables [B, 1, T, D/2] rotates each row by its own positions', () => {
      const [B, H, T, D] = [2, 3, 4, 6];
      const xa = randomArray(B * H * T * D, 11);
      const { cos, sin } = ropeTables({ positions: 16, headDim: D, theta: 500 });
      const pos = tf.tensor2d([[0, 1, 2, 3], [1, 1, 0, 9]], [B, T], 'int32');
      const c = tf.gather(cos, pos).expandDims(1); // [B, 1, T, D/2]
      const s = tf.gather(sin, pos).expandDims(1); // [B, 1, T, D/2]
      const out = applyRope(tf.tensor4d(xa, [B, H, T, D]), c, s).dataSync();
      const posRows = [[0, 1, 2, 3], [1, 1, 0, 9]];
      const ref = new Float64Array(xa.length);
      for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let t = 0; t < T; t++) for (let i = 0; i < D / 2; i++) {
        const a = posRows[b]![t]! / 500 ** ((2 * i) / D);
        const base = ((b * H + h) * T + t) * D;
        const [x1, x2] = [xa[base + i]!, xa[base + i + D / 2]!];
        ref[base + i] = x1 * Math.cos(a) - x2 * Math.sin(a);
        ref[base + i + D / 2] = x2 * Math.cos(a) + x1 * Math.sin(a);
      }
      expect(maxAbsDiff(out, ref)).toBeLessThan(1e-5);
      expect(() => applyRope(tf.zeros([B, H, T + 1, D]), c, s)).toThrow(/do not cover/);
    });
  });
}
