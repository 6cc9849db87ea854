/**
 * AWQ (Lin et al. 2023; llm-awq's auto_scale / AutoAWQ's _search_best_scale as anchors) over a
 * model, on the same sequential groups and input capture as GPTQ:
 *
 *   s_x = mean |x| per input channel over the calibration tokens of the group's input
 *   w_mean = mean over the group's weight rows of |W| / (its group's max |W|)   (AutoAWQ)
 *   for α in {0, 1/20, …, 19/20}:  s = max(s_x^α / (w_mean^(1−α) + 1e-4), 1e-4) (AutoAWQ's default
 *       duo scaling; duoScaling: false gives llm-awq's s = max(s_x^α, 1e-4)); s /= √(max s · min s)
 *       W' = Q(W · diag(s)) · diag(1/s)        (Q = int4 asymmetric groups, round-to-nearest)
 *       loss(α) = mean ‖X·Wᵀ − X·W'ᵀ‖² over the group's linears and calibration rows
 *   keep the best α, with s = 1 (plain RTN) always a candidate (AWQ never does worse than RTN on
 *   the calibration data), then
 *   the linears hold Q(W·diag(s)) and their input is divided by s: folded into the norm before
 *   (ln_1 / input_layernorm for qkv, ln_2 / post_attention_layernorm for c_fc / gate+up: weight
 *   and bias ÷ s), else kept as the module's explicit input scale (attention out, MLP down).
 *
 * Differences from AutoAWQ, on purpose: the loss is measured on the group's own linears (AutoAWQ
 * runs the whole attention / MLP block), s = 1 added as a candidate, no weight
 * clipping search, no folding into v_proj / up_proj. Int4 groups are src/quantizers' quantizeInt4
 * (asymmetric); the result is packed as GPTQ (g_idx = i // groupSize) and run by GptqLinear.
 *
 *   awqQuantizeModel(model, { groupSize: 128, calibration: { tokenizer, texts } });
 */
import { tf } from '@llm/tensor-gpu';
import type { TransformerLM } from '@llm/transformer';
import { QuantError } from '../errors.js';
import { quantizeInt4, unpackInt4 } from '../quantizers/index.js';
import { captureInputs, calibrationSequences, linearWeight, sequentialGroups, type CalibrationOptions } from '../gptq/calibrate.js';
import { GptqLinear } from '../gptq/module.js';
import { packGptq } from '../gptq/pack.js';
import type { QuantizedWeight } from '../gptq/quantizer.js';

export interface AwqModelOptions {
  /** Default 128. */
  groupSize?: number;
  calibration: CalibrationOptions;
  /** Grid points for α in [0, 1). Default 20. */
  nGrid?: number;
  /** AutoAWQ's duo scaling s = s_x^α / w_mean^(1−α) (its default) instead of llm-awq's s_x^α. Default true. */
  duoScaling?: boolean;
  /** Calibration rows kept per group for the loss (s_x uses all). Default 4096. */
  maxRows?: number;
  /** Linears (HF names) to leave in float. */
  skip?: readonly string[];
  /**
   * A group whose 1/s cannot be folded into a norm (attention out, MLP down, partly skipped
   * groups): 'input-scale' (default) keeps s as the module's explicit input scale; 'rtn' quantizes
   * it round-to-nearest (s = 1) instead, so the model holds no input scale and saves in the GPTQ
   * layout (saveGptqCheckpoint).
   */
  unfoldable?: 'input-scale' | 'rtn';
  onProgress?: (p: { names: string[]; alpha: number; loss: number; rtnLoss: number }) => void;
}

export interface AwqGroupResult {
  names: string[];
  alpha: number;
  /** Output MSE on the calibration rows at the chosen α, and at α = 0 (RTN). */
  loss: number;
  rtnLoss: number;
  folded: string | null;
  /** True when the group was quantized round-to-nearest (s = 1) because 1/s could not be folded (unfoldable: 'rtn'). */
  rtn?: boolean;
}

export interface AwqReport {
  groups: AwqGroupResult[];
  samples: number;
}

/** Group-int4 (asymmetric, RTN) of W [out, in] as a GPTQ-packable weight. */
export function int4Groups(W: Float32Array, out: number, inF: number, groupSize: number): QuantizedWeight {
  const q = quantizeInt4({ data: W, shape: [out, inF] }, { groupSize, symmetric: false });
  const nG = Math.ceil(inF / groupSize);
  const scales = new Float64Array(nG * out);
  const zeros = new Float64Array(nG * out);
  for (let o = 0; o < out; o++) {
    for (let g = 0; g < nG; g++) {
      scales[g * out + o] = q.scales[o * nG + g]!;
      zeros[g * out + o] = q.zeros[o * nG + g]!;
    }
  }
  const gIdx = Int32Array.from({ length: inF }, (_, i) => Math.floor(i / groupSize));
  return { bits: 4, groupSize, out, inF, codes: unpackInt4(q.packed, out * inF), scales, zeros, gIdx };
}

export function awqQuantizeModel(model: TransformerLM, opts: AwqModelOptions): AwqReport {
  const gs = opts.groupSize ?? 128;
  if (!Number.isInteger(gs) || gs < 2 || gs % 2) throw new QuantError('INVALID_ARGUMENT', `AWQ: groupSize must be an even integer ≥ 2, got ${gs}.`);
  const nGrid = opts.nGrid ?? 20;
  const maxRows = opts.maxRows ?? 4096;
  const seqs = calibrationSequences(model, opts.calibration);
  const skip = new Set(opts.skip ?? []);
  const params = new Set(model.namedParameters().map(([n]) => n));
  const results: AwqGroupResult[] = [];
  for (const group of sequentialGroups(model)) {
    const names = group.names.filter((n) => !skip.has(n));
    if (names.length === 0) continue;
    const inF = model.getModule(names[0]!).inFeatures;
    const absSum = new Float64Array(inF);
    let count = 0;
    const rows: Float32Array[] = [];
    let kept = 0;
    captureInputs(model, [names[0]!], seqs, (_n, x) => {
      const v = x.dataSync() as Float32Array; // [T, in]
      const T = v.length / inF;
      for (let k = 0; k < v.length; k++) absSum[k % inF]! += Math.abs(v[k]!);
      count += T;
      if (kept < maxRows) {
        const take = Math.min(T, maxRows - kept);
        rows.push(v.slice(0, take * inF));
        kept += take;
      }
    });
    const sx = Float64Array.from(absSum, (a) => a / count);
    const Xh = new Float32Array(kept * inF);
    let off = 0;
    for (const r of rows) {
      Xh.set(r, off);
      off += r.length;
    }
    const lin = names.map((n) => ({ name: n, m: model.getModule(n), ...linearWeight(model.getModule(n), n) }));
    const best = awqSearch(Xh, kept, inF, sx, lin.map((l) => ({ W: l.W, out: l.m.outFeatures })), gs, nGrid, opts.duoScaling ?? true);
    const rtnLoss = best.rtnLoss;
    // apply: fold 1/s into the norm when every linear reading it is quantized here
    const fold = group.norm !== null && names.length === group.names.length ? group.norm : null;
    if (fold) {
      for (const suffix of ['weight', 'bias']) {
        const pn = `${fold}.${suffix}`;
        if (!params.has(pn)) continue;
        const v = model.param(pn);
        v.assign(tf.tidy(() => v.div(tf.tensor1d(best.s))));
      }
    }
    const rtn = !fold && opts.unfoldable === 'rtn';
    for (const l of lin) {
      const q = rtn ? int4Groups(l.W, l.m.outFeatures, inF, gs) : awqQuantizeScaled(l.W, l.m.outFeatures, inF, best.s, gs);
      model.replaceModule(l.name, new GptqLinear(packGptq(q), l.bias, fold || rtn ? null : best.s));
    }
    const r: AwqGroupResult = rtn
      ? { names, alpha: 0, loss: rtnLoss, rtnLoss, folded: null, rtn: true }
      : { names, alpha: best.alpha, loss: best.loss, rtnLoss, folded: fold };
    results.push(r);
    opts.onProgress?.({ names, alpha: r.alpha, loss: r.loss, rtnLoss });
  }
  return { groups: results, samples: seqs.length };
}

/**
 * AWQ's scales for α: s = max(s_x^α, 1e-4) (llm-awq), or with `wMean` AutoAWQ's duo scaling
 * s = max(s_x^α / (w_mean^(1−α) + 1e-4), 1e-4); then s / √(max s · min s).
 */
export function awqScales(sx: ArrayLike<number>, alpha: number, wMean?: ArrayLike<number> | null): Float32Array {
  const s = Float64Array.from(sx, (v, i) => Math.max(wMean ? v ** alpha / (wMean[i]! ** (1 - alpha) + 1e-4) : v ** alpha, 1e-4));
  let mx = -Infinity;
  let mn = Infinity;
  for (const v of s) {
    mx = Math.max(mx, v);
    mn = Math.min(mn, v);
  }
  const norm = Math.sqrt(mx * mn);
  return Float32Array.from(s, (v) => (Number.isFinite(v / norm) ? v / norm : 1));
}

/** Group-int4 of W·diag(s) (W [out, in]): what the layer stores; it computes (x/s)·Q(W·diag(s))ᵀ. */
export function awqQuantizeScaled(W: Float32Array, out: number, inF: number, s: Float32Array, groupSize: number): QuantizedWeight {
  const Ws = new Float32Array(W.length);
  for (let o = 0; o < out; o++) for (let i = 0; i < inF; i++) Ws[o * inF + i] = W[o * inF + i]! * s[i]!;
  return int4Groups(Ws, out, inF, groupSize);
}

/** The effective weight Q(W·diag(s))·diag(1/s) [out, in]. */
export function awqEffectiveWeight(q: QuantizedWeight, s: Float32Array): Float32Array {
  const { out, inF } = q;
  const W = new Float32Array(out * inF);
  for (let o = 0; o < out; o++) {
    for (let i = 0; i < inF; i++) {
      const g = q.gIdx[i]! * out + o;
      W[o * inF + i] = (q.scales[g]! * (q.codes[o * inF + i]! - q.zeros[g]!)) / s[i]!;
    }
  }
  return W;
}

/**
 * The α grid search of one group of linears sharing the input X [n, in] (host, row-major):
 * returns the best α, its scales, and the output MSE at the best α and at α = 0 (RTN).
 */
export function awqSearch(Xh: Float32Array, n: number, inF: number, sx: ArrayLike<number>, lin: ReadonlyArray<{ W: Float32Array; out: number }>, groupSize: number, nGrid = 20, duoScaling = false): { alpha: number; s: Float32Array; loss: number; rtnLoss: number } {
  const X = tf.tensor2d(Xh, [n, inF]); // [n, in]
  const totalOut = lin.reduce((a, l) => a + l.out, 0);
  const wMean = duoScaling ? weightMean(lin, inF, groupSize) : null;
  let best = { alpha: 0, s: awqScales(sx, 0), loss: Infinity };
  let rtnLoss = NaN;
  try {
    const ones = new Float32Array(inF).fill(1);
    for (let k = -1; k < nGrid; k++) {
      // k = −1: plain RTN (s = 1), always a candidate, so AWQ never loses to RTN on calibration data
      const alpha = k / nGrid;
      const s = k < 0 ? ones : awqScales(sx, alpha, wMean);
      let loss = 0;
      for (const l of lin) {
        const Wq = awqEffectiveWeight(awqQuantizeScaled(l.W, l.out, inF, s, groupSize), s);
        const D = Float32Array.from(l.W, (w, k2) => w - Wq[k2]!); // [out, in]
        loss += tf.tidy(() => tf.matMul(X, tf.tensor2d(D, [l.out, inF]), false, true).square().sum().dataSync()[0]!); // Σ over [n, out]
      }
      loss /= n * totalOut;
      if (k < 0) rtnLoss = loss;
      if (loss < best.loss) best = { alpha: Math.max(0, alpha), s, loss };
    }
  } finally {
    X.dispose();
  }
  return { ...best, rtnLoss };
}

/** AutoAWQ's w_mean: |W| / group amax, averaged over the output rows of all the group's linears. */
function weightMean(lin: ReadonlyArray<{ W: Float32Array; out: number }>, inF: number, gs: number): Float64Array {
  const m = new Float64Array(inF);
  let rows = 0;
  for (const l of lin) {
    for (let o = 0; o < l.out; o++) {
      for (let g0 = 0; g0 < inF; g0 += gs) {
        const g1 = Math.min(inF, g0 + gs);
        let amax = 0;
        for (let i = g0; i < g1; i++) amax = Math.max(amax, Math.abs(l.W[o * inF + i]!));
        for (let i = g0; i < g1; i++) m[i]! += Math.abs(l.W[o * inF + i]!) / (amax + 1e-6);
      }
    }
    rows += l.out;
  }
  return m.map((v) => v / rows);
}
