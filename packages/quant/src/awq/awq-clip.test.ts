// AWQ's weight-clipping search (AutoAWQ _search_best_clip / _compute_best_clip, llm-awq auto_clip_block):
// against a slow, obvious reference, and in awqQuantizeModel.
import { beforeAll, describe, expect, it } from 'vitest';
import { tf, initBackend, Rng } from '@llm/tensor-gpu';
import { TransformerLM, type ModelConfigInput } from '@llm/transformer';
import { quantizeInt4 } from '../quantizers/index.js';
import { awqClipSearch, awqClipSkipped, awqClipStep, awqQuantizeModel, int4Groups } from './awq.js';
import { GptqLinear } from '../gptq/module.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm', log: false });
});

/**
 * The obvious reference: plain loops over rows, groups and the 10 ratios 1, 0.95, …, 0.55; the error
 * is the mean over tokens of the squared partial dot product x_g · (Q(clamped) − w) (float64), the
 * quantizer quantizeInt4 (asymmetric) on the one group; strictly smaller error wins.
 */
function referenceClip(W: Float32Array, out: number, inF: number, X: Float32Array, n: number, gs: number) {
  const nG = Math.ceil(inF / gs);
  const ratio = new Float32Array(out * nG);
  const errs: number[][] = [];
  const Wc = W.slice();
  for (let o = 0; o < out; o++) {
    for (let g = 0; g < nG; g++) {
      const cols: number[] = [];
      for (let i = g * gs; i < Math.min(inF, (g + 1) * gs); i++) cols.push(i);
      const w = cols.map((i) => W[o * inF + i]!);
      const orgMax = Math.max(...w.map(Math.abs));
      let bestErr = Infinity;
      let bestR = 1;
      let bestM = orgMax;
      const e: number[] = [];
      for (let k = 0; k < 10; k++) {
        const r = Math.fround(1 - k / 20);
        const m = Math.fround(orgMax * r);
        const clamped = Float32Array.from(w, (v) => Math.min(m, Math.max(-m, v)));
        const q = quantizeInt4({ data: clamped, shape: [1, w.length] }, { groupSize: gs, symmetric: false }).dequantize();
        let err = 0;
        for (let t = 0; t < n; t++) {
          let dot = 0;
          cols.forEach((i, c) => (dot += X[t * inF + i]! * (q[c]! - w[c]!)));
          err += dot * dot;
        }
        err /= n;
        e.push(err);
        if (err < bestErr) {
          bestErr = err;
          bestR = r;
          bestM = m;
        }
      }
      errs.push(e);
      ratio[o * nG + g] = bestR;
      cols.forEach((i) => (Wc[o * inF + i] = Math.min(bestM, Math.max(-bestM, W[o * inF + i]!))));
    }
  }
  return { ratio, W: Wc, errs };
}

/** A small W [out, in] with planted outlier weights and X [n, in] with an outlier input channel. */
function planted(seed: number, out: number, inF: number, n: number) {
  const r = new Rng(seed);
  const W = new Float32Array(out * inF).map(() => (r.next() - 0.5) * 0.2);
  for (let o = 0; o < out; o += 3) W[o * inF + ((o * 7) % inF)] = (o % 2 ? -1 : 1) * (1 + r.next()); // outliers
  const X = new Float32Array(n * inF).map((_, k) => (r.next() - 0.5) * (k % inF === 5 ? 20 : 1));
  return { W, X };
}

describe('AWQ clipping search', () => {
  for (const [out, inF, gs, n] of [[12, 96, 32, 200], [10, 80, 32, 64]] as const) {
    it(`matches the plain-loop reference exactly (${out}×${inF}, group ${gs}${inF % gs ? ', ragged last group' : ''}, ${n} tokens)`, () => {
      const { W, X } = planted(out + inF, out, inF, n);
      const got = awqClipSearch(W, out, inF, X, n, gs);
      const ref = referenceClip(W, out, inF, X, n, gs);
      expect(Array.from(got.ratio)).toEqual(Array.from(ref.ratio));
      expect(got.W).toEqual(ref.W);
      const [a, b] = [int4Groups(got.W, out, inF, gs), int4Groups(ref.W, out, inF, gs)];
      expect(a.codes).toEqual(b.codes);
      expect(a.scales).toEqual(b.scales);
      expect(a.zeros).toEqual(b.zeros);
      // the planted outliers get clipped somewhere, and not everything is clipped
      expect(Array.from(got.ratio).some((r) => r < 1)).toBe(true);
      expect(Array.from(got.ratio).some((r) => r === 1)).toBe(true);
      expect(Math.min(...got.ratio)).toBeGreaterThanOrEqual(Math.fround(0.55));
      // errors: the same numbers as the reference (float64, other summation order); never above ratio 1's
      ref.errs.forEach((e, og) => {
        expect(got.err[og]).toBeCloseTo(Math.min(...e), 12);
        expect(got.errNoClip[og]).toBeCloseTo(e[0]!, 12);
        expect(got.err[og]!).toBeLessThanOrEqual(got.errNoClip[og]!);
        expect(Math.min(...e)).toBeLessThanOrEqual(e[0]!);
        // no near-tie that the summation order could flip: the winner is clear of the runner-up
        const sorted = [...e].sort((x, y) => x - y);
        if (sorted[0] !== sorted[1]) expect((sorted[1]! - sorted[0]!) / sorted[1]!).toBeGreaterThan(1e-9);
      });
    });
  }

  it('a weight on the int4 grid is left alone (ratio 1 is a candidate); ties keep the larger ratio', () => {
    // rows 0.125·[0 … 15] and −0.125·[0 … 15]: exact in int4 at ratio 1 (scale 0.125), error 0
    const W = Float32Array.from({ length: 2 * 16 }, (_, k) => (k < 16 ? 1 : -1) * 0.125 * (k % 16));
    const X = Float32Array.from({ length: 8 * 16 }, (_, k) => Math.sin(k));
    const c = awqClipSearch(W, 2, 16, X, 8, 16);
    expect(Array.from(c.ratio)).toEqual([1, 1]);
    expect(c.W).toEqual(W);
    expect(Array.from(c.err)).toEqual([0, 0]);
    // every ratio gives error 0 on all-zero inputs: the first (ratio 1) is kept, the weight unclipped
    const { W: W2 } = planted(3, 4, 32, 1);
    const z = awqClipSearch(W2, 4, 32, new Float32Array(5 * 32), 5, 16);
    expect(Array.from(z.ratio)).toEqual(new Array(8).fill(1));
    expect(z.W).toEqual(W2);
  });

  it('runs in seconds on the clipped linears of a 4-layer, width-128 GPT-2 (512 tokens, group 128)', () => {
    const t0 = performance.now();
    for (let layer = 0; layer < 4; layer++) {
      for (const [out, inF] of [[128, 128], [512, 128], [128, 512]] as const) {
        const { W, X } = planted(layer * 10 + out, out, inF, 512);
        awqClipSearch(W, out, inF, X, 512, 128);
      }
    }
    const sec = (performance.now() - t0) / 1000;
    console.log(`clipping search, 4 layers × (attn c_proj, c_fc, mlp c_proj) of width 128, 512 tokens, group 128: ${sec.toFixed(2)} s`);
    expect(sec).toBeLessThan(30); // ≈ 1–2 s here; generous for a shared machine
  });

  it('skips the linears feeding the attention scores (AutoAWQ avoid_clipping; GPT-2 c_attn) and strides tokens as AutoAWQ', () => {
    for (const n of ['model.layers.0.self_attn.q_proj', 'model.layers.11.self_attn.k_proj', 'transformer.h.3.attn.c_attn']) expect(awqClipSkipped(n)).toBe(true);
    for (const n of ['model.layers.0.self_attn.v_proj', 'model.layers.0.self_attn.o_proj', 'model.layers.2.mlp.gate_proj', 'model.layers.2.mlp.up_proj', 'model.layers.2.mlp.down_proj', 'transformer.h.0.attn.c_proj', 'transformer.h.0.mlp.c_fc', 'transformer.h.0.mlp.c_proj']) expect(awqClipSkipped(n)).toBe(false);
    expect([100, 512, 1023, 1024, 4096].map((t) => awqClipStep(t))).toEqual([1, 1, 1, 2, 8]);
  });
});

const ids = (seed: number, n: number, T: number, V: number) => {
  const r = new Rng(seed);
  return Array.from({ length: n }, () => Array.from({ length: T }, () => Math.floor(r.next() * V)));
};

/** Mean squared difference of the final hidden states of two models over some sequences. */
function hiddenMse(a: TransformerLM, b: TransformerLM, seqs: number[][]): number {
  let s = 0;
  let c = 0;
  for (const q of seqs) {
    const x = tf.tensor2d(q, [1, q.length], 'int32');
    const [ra, rb] = [a.run(x, { logits: false }), b.run(x, { logits: false })];
    s += tf.tidy(() => ra.hidden.sub(rb.hidden).square().sum().dataSync()[0]!);
    c += ra.hidden.size;
    tf.dispose([x, ra.hidden, rb.hidden]);
  }
  return s / c;
}

const dq = (m: TransformerLM, n: string) => (m.getModule(n) as GptqLinear).dequantize();

describe('AWQ clipping in awqQuantizeModel', () => {
  it('llama: q/k are not clipped, the rest is; no-clip gives identical q/k; output MSE on the calibration data with clip ≤ without', () => {
    const cfg: ModelConfigInput = { family: 'llama', vocabSize: 64, nLayer: 2, nHead: 4, nKvHead: 2, nEmbd: 64, intermediateSize: 128, blockSize: 32, seed: 7 };
    const cal = ids(2, 16, 32, 64);
    const fp = new TransformerLM(cfg);
    const [a, b] = [new TransformerLM(cfg), new TransformerLM(cfg)];
    const ra = awqQuantizeModel(a, { groupSize: 32, calibration: { ids: cal } });
    const rb = awqQuantizeModel(b, { groupSize: 32, calibration: { ids: cal }, clip: false });
    const p = 'model.layers.0';
    expect(ra.groups.map((g) => g.clipped)).toEqual([0, 1].flatMap((l) => [
      [`model.layers.${l}.self_attn.v_proj`], [`model.layers.${l}.self_attn.o_proj`], [`model.layers.${l}.mlp.gate_proj`, `model.layers.${l}.mlp.up_proj`], [`model.layers.${l}.mlp.down_proj`],
    ]));
    expect(rb.groups.every((g) => g.clipLoss === undefined && g.clipped === undefined)).toBe(true);
    // layer 0's first group sees the same inputs either way: q/k identical, v clipped
    expect(dq(a, `${p}.self_attn.q_proj`)).toEqual(dq(b, `${p}.self_attn.q_proj`));
    expect(dq(a, `${p}.self_attn.k_proj`)).toEqual(dq(b, `${p}.self_attn.k_proj`));
    expect(dq(a, `${p}.self_attn.v_proj`)).not.toEqual(dq(b, `${p}.self_attn.v_proj`));
    expect(ra.groups.some((g) => g.clipShrunk! > 0)).toBe(true);
    const [mClip, mNo] = [hiddenMse(fp, a, cal), hiddenMse(fp, b, cal)];
    console.log(`llama 2×64, g32: final-hidden MSE vs fp32 on the calibration data: clip ${mClip.toExponential(4)}, no clip ${mNo.toExponential(4)}; per group loss → clipLoss ${ra.groups.map((g) => `${g.loss.toExponential(2)}→${g.clipLoss!.toExponential(2)}`).join(' ')}`);
    expect(mClip).toBeLessThanOrEqual(mNo);
    for (const m of [fp, a, b]) m.dispose();
  });

  it('gpt2: c_attn is not clipped, unfoldable rtn groups are; output MSE on the calibration data with clip ≤ without', () => {
    const cfg: ModelConfigInput = { family: 'gpt2', vocabSize: 96, nLayer: 2, nHead: 4, nEmbd: 64, blockSize: 32, seed: 11 };
    const cal = ids(4, 24, 32, 96);
    const fp = new TransformerLM(cfg);
    const [a, b] = [new TransformerLM(cfg), new TransformerLM(cfg)];
    const ra = awqQuantizeModel(a, { groupSize: 64, calibration: { ids: cal }, unfoldable: 'rtn' });
    const rb = awqQuantizeModel(b, { groupSize: 64, calibration: { ids: cal }, unfoldable: 'rtn', clip: false });
    for (const g of ra.groups) {
      const attnIn = g.names[0]!.endsWith('attn.c_attn');
      expect(g.clipped).toEqual(attnIn ? [] : g.names);
      if (attnIn) expect(g.clipLoss).toBe(g.loss);
    }
    expect(ra.groups.filter((g) => g.rtn).map((g) => g.clipped!.length)).toEqual([1, 1, 1, 1]);
    expect(dq(a, 'transformer.h.0.attn.c_attn')).toEqual(dq(b, 'transformer.h.0.attn.c_attn'));
    expect(rb.groups[0]!.alpha).toBe(ra.groups[0]!.alpha); // same inputs, same scale search
    const [mClip, mNo] = [hiddenMse(fp, a, cal), hiddenMse(fp, b, cal)];
    console.log(`gpt2 2×64, g64, unfoldable rtn: final-hidden MSE vs fp32 on the calibration data: clip ${mClip.toExponential(4)}, no clip ${mNo.toExponential(4)}; clipShrunk per group ${ra.groups.map((g) => g.clipShrunk!.toFixed(2)).join(' ')}`);
    expect(mClip).toBeLessThanOrEqual(mNo);
    for (const m of [fp, a, b]) m.dispose();
  });
});
