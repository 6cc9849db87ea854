/**
 * AWQ (Lin et al. 2023; llm-awq's auto_scale / AutoAWQ's _search_best_scale as anchors) over a
 * model, on the same sequential groups and input capture as GPTQ:
 *
 *   s_x = mean |x| per input channel over the calibration tokens of the group's input
 *   w_mean = mean over the group's weight rows of |W| / (its group's max |W|)   (AutoAWQ)
 *   for α in {0, 1/20, …, 19/20}:  s = max(s_x^α / (w_mean^(1−α) + 1e-4), 1e-4) (AutoAWQ's default
 *       duo scaling; duoScaling: false gives llm-awq's s = max(s_x^α, 1e-4)); s /= √(max s · min s)
 *       W' = Q(W · diag(s)) · diag(1/s)        (Q = int4 asymmetric groups, round-to-nearest)
 *       loss(α) (objective: 'block', the default; AutoAWQ _search_best_scale / _compute_best_scale
 *           with its module2inspect): for attn_in (q/k/v, c_attn) and mlp_in (gate+up, c_fc), the
 *           mean over every element of (y − y')² where y is the sub-block's output — the
 *           self-attention's (the output of o_proj / attn.c_proj) or the MLP's (the output of
 *           down_proj / mlp.c_proj), before the residual add, AutoAWQ's self_attn / mlp output —
 *           with the group's float weights and y' the same with W' in their place (plain Linears,
 *           model.replaceModule), both computed by running the model up to that projection
 *           (captureOutputs) on the same calibration sequences (the first whole ones with ≤ maxRows
 *           tokens), so through the same already-quantized earlier groups; the other linears of
 *           the sub-block (o_proj, down_proj) are float then, as in AutoAWQ;
 *         for attention out / MLP down, and every group with objective: 'linear':
 *           mean ‖X·Wᵀ − X·W'ᵀ‖² over the group's linears and its first maxRows calibration rows
 *           (for those two AutoAWQ's module2inspect is the linear itself, so this is its loss)
 *   keep the best α, with s = 1 (plain RTN) always a candidate (AWQ never does worse than RTN on
 *   the calibration data by its objective), then
 *   the linears hold Q(W·diag(s)) and their input is divided by s: folded into the norm before
 *   (ln_1 / input_layernorm for qkv, ln_2 / post_attention_layernorm for c_fc / gate+up: weight
 *   and bias ÷ s), else kept as the module's explicit input scale (attention out, MLP down).
 *
 * Then the weight-clipping search (clip: true, the default, as AutoAWQ's apply_clip=True;
 * AutoAWQ awq/quantize/quantizer.py AwqQuantizer.quantize step 3, _search_best_clip /
 * _compute_best_clip; llm-awq awq/quantize/auto_clip.py auto_clip_block / auto_clip_layer), run on
 * the SCALED weight W' = W·diag(s) [out, in] and its scaled input X/s (AutoAWQ scale.py apply_scale
 * divides the cached input features by s "to prepare it for clipping"), on the calibration tokens
 * taken every step-th, step = max(1, ⌊tokens / 512⌋) (n_sample_token = 512):
 *
 *   for each output row o and input group g:  m = max |W'[o, g]|
 *     for r in 1, 0.95, …, 0.55 (n_grid 20, max_shrink 0.5: 10 ratios):
 *       err(r) = mean over tokens of (x_g · (Q(clamp(W'[o, g], −m·r, m·r)) − W'[o, g]))²
 *     keep the r of least err (strictly less: ties keep the larger r; r = 1 is a candidate, so the
 *     per-(row, group) error never grows)
 *   the linear then holds Q(clamp(W', ±m·r_best)).
 *
 * Not clipped, as AutoAWQ ("due to qk bmm, it is hard to clip precisely"): linears whose output
 * feeds the attention scores — names (inside the block) containing "q_", "k_", "query", "key" or
 * "Wqkv" (Llama's q_proj and k_proj), and GPT-2's fused c_attn (q, k and v in one linear, like MPT's
 * Wqkv, which AutoAWQ skips; its name matches none of the substrings, so this one is by intent).
 * Every other linear is clipped, also those of `unfoldable: 'rtn'` groups (s = 1 there): AutoAWQ's
 * clip loop runs over every linear of the block whether or not it got a scale (Llama with GQA gets
 * no o_proj scale — awq/models/llama.py get_layers_for_scaling — and its o_proj is still clipped).
 *
 * Differences from AutoAWQ, on purpose: the calibration inputs come from the model with the
 * earlier groups already quantized (AutoGPTQ's true_sequential; AutoAWQ feeds each layer the
 * outputs of the float layers before it), the block loss runs the model's forward prefix rather
 * than the sub-block alone (the same sub-block output on the same input, at the cost of recomputing
 * the prefix per α), s = 1 added as a candidate, no folding into v_proj / up_proj (so attention
 * out / MLP down keep an explicit input scale, or with unfoldable: 'rtn' no scale). Int4 groups
 * are src/quantizers' quantizeInt4 (asymmetric, its range [min(w, 0), max(w, 0)] as AutoGPTQ;
 * AutoAWQ's pseudo_quantize_tensor uses [min w, max w]), also inside the clipping search; the
 * clip error is computed in float64 as dᵀ·(X_gᵀX_g / n)·d (the same mean of squared partial dot
 * products) and the last group may be shorter than groupSize (AutoAWQ asserts in % groupSize = 0).
 * The result is packed as GPTQ (g_idx = i // groupSize) and run by GptqLinear.
 *
 *   awqQuantizeModel(model, { groupSize: 128, calibration: { tokenizer, texts } });   // objective: 'block', clip: true
 */
import { tf } from '@llm/tensor-gpu';
import { Linear, type TransformerLM } from '@llm/transformer';
import { QuantError } from '../errors.js';
import { quantizeInt4, unpackInt4 } from '../quantizers/index.js';
import { f32 } from '../quantizers/common.js';
import { captureInputs, captureOutputs, calibrationSequences, linearWeight, sequentialGroups, type CalibrationOptions, type LinearGroup } from '../gptq/calibrate.js';
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
  /**
   * What each α candidate is scored by. 'block' (default, AutoAWQ's _search_best_scale): for the
   * groups with a sub-block behind them — attn_in (q/k/v, c_attn) and mlp_in (gate+up, c_fc) — the
   * MSE of that sub-block's output (the self-attention's output projection o_proj / attn.c_proj,
   * the MLP's down_proj / mlp.c_proj; before the residual add) between the float weights and the
   * candidate's Q(W·diag(s))·diag(1/s), on the same calibration sequences through the same model
   * prefix; the other groups (attention out, MLP down) by their own output, which is what AutoAWQ
   * inspects there too. 'linear': every group by the MSE of its own linears' outputs.
   */
  objective?: 'block' | 'linear';
  /**
   * Calibration tokens per group for the loss (s_x uses all): the first maxRows rows with the
   * 'linear' objective; with 'block', the first whole sequences with ≤ maxRows tokens in all (at
   * least one). Default 4096.
   */
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
  /**
   * AWQ's weight-clipping search after the scales (AutoAWQ's apply_clip): every linear but those
   * feeding the attention scores (q_proj, k_proj, c_attn) is clamped per (row, group) to the
   * ratio of its max |w| in 1, 0.95, …, 0.55 that best keeps its calibration output. Default true.
   */
  clip?: boolean;
  onProgress?: (p: { names: string[]; alpha: number; loss: number; rtnLoss: number; clipLoss?: number }) => void;
}

export interface AwqGroupResult {
  names: string[];
  alpha: number;
  /**
   * The objective at the chosen α and at s = 1 (RTN), on the calibration rows: the sub-block output
   * MSE ('block') or the group's own output MSE ('linear'), per output element.
   */
  loss: number;
  rtnLoss: number;
  folded: string | null;
  /** Which objective scored this group's candidates ('block' only for attn_in / mlp_in). */
  objective?: 'block' | 'linear';
  /** True when the group was quantized round-to-nearest (s = 1) because 1/s could not be folded (unfoldable: 'rtn'). */
  rtn?: boolean;
  /**
   * clip: true only. The same objective on the same calibration rows as `loss`, of the weights as
   * stored (after the clipping search), the linears that were clipped (q/k/c_attn never are), and
   * the fraction of their (row, group) pairs whose chosen ratio is below 1.
   */
  clipLoss?: number;
  clipped?: string[];
  clipShrunk?: number;
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
  const objective = opts.objective ?? 'block';
  if (objective !== 'block' && objective !== 'linear') throw new QuantError('INVALID_ARGUMENT', `AWQ: objective must be 'block' or 'linear', got ${String(objective)}.`);
  const nGrid = opts.nGrid ?? 20;
  const maxRows = opts.maxRows ?? 4096;
  const duo = opts.duoScaling ?? true;
  const seqs = calibrationSequences(model, opts.calibration);
  const skip = new Set(opts.skip ?? []);
  const params = new Set(model.namedParameters().map(([n]) => n));
  const clip = opts.clip ?? true;
  // AutoAWQ _compute_best_clip: every step-th token of all the calibration tokens (in order)
  const clipStep = awqClipStep(seqs.reduce((a, q) => a + q.length, 0));
  const groups = sequentialGroups(model);
  // block objective: whole calibration sequences, first ones, ≤ maxRows tokens in all (at least one)
  const batches = objective === 'block' ? blockBatches(seqs, maxRows) : [];
  const results: AwqGroupResult[] = [];
  try {
    for (const group of groups) {
      const names = group.names.filter((n) => !skip.has(n));
      if (names.length === 0) continue;
      // the block objective's sub-block output: AutoAWQ's module2inspect (self_attn / mlp) output
      const blockOut = objective === 'block' ? awqBlockOutput(groups, group) : null;
      const inF = model.getModule(names[0]!).inFeatures;
      const absSum = new Float64Array(inF);
      let count = 0;
      const rows: Float32Array[] = [];
      let kept = 0;
      const clipRows: Float32Array[] = [];
      const clipAny = clip && names.some((n) => !awqClipSkipped(n));
      captureInputs(model, [names[0]!], seqs, (_n, x) => {
        const v = x.dataSync() as Float32Array; // [T, in]
        const T = v.length / inF;
        for (let k = 0; k < v.length; k++) absSum[k % inF]! += Math.abs(v[k]!);
        if (clipAny) for (let t = (clipStep - (count % clipStep)) % clipStep; t < T; t += clipStep) clipRows.push(v.slice(t * inF, (t + 1) * inF));
        count += T;
        if (!blockOut && kept < maxRows) {
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
      const linW = lin.map((l) => ({ W: l.W, out: l.m.outFeatures }));
      const probe = blockOut ? new BlockProbe(model, blockOut, batches) : null;
      try {
        // the objective for a set of effective weights W_eff (one per linear of the group)
        const lossOf = probe
          ? (Weffs: readonly Float32Array[]) => probe.loss(lin.map((l, j) => ({ name: l.name, out: l.m.outFeatures, inF, Weff: Weffs[j]!, bias: l.bias })))
          : (Weffs: readonly Float32Array[]) => outputMse(Xh, kept, inF, lin.map((l, j) => ({ W: l.W, out: l.m.outFeatures, Weff: Weffs[j]! })));
        const best = awqGridSearch(sx, inF, linW, gs, nGrid, duo, lossOf);
        const rtnLoss = best.rtnLoss;
        const fold = group.norm !== null && names.length === group.names.length ? group.norm : null;
        const rtn = !fold && opts.unfoldable === 'rtn';
        const s = rtn ? new Float32Array(inF).fill(1) : best.s;
        // the clipping search's input: the sampled tokens divided by s, as AutoAWQ's apply_scale leaves them
        const nClip = clipRows.length;
        const Xc = new Float32Array(nClip * inF);
        clipRows.forEach((row, t) => {
          for (let i = 0; i < inF; i++) Xc[t * inF + i] = row[i]! / s[i]!;
        });
        const clipped: string[] = [];
        let pairs = 0;
        let shrunk = 0;
        const qs: QuantizedWeight[] = [];
        for (const l of lin) {
          const out = l.m.outFeatures;
          let Ws = scaleColumns(l.W, out, inF, s); // W·diag(s)
          if (clip && nClip > 0 && !awqClipSkipped(l.name)) {
            const c = awqClipSearch(Ws, out, inF, Xc, nClip, gs);
            Ws = c.W;
            clipped.push(l.name);
            pairs += c.ratio.length;
            for (const r of c.ratio) if (r < 1) shrunk++;
          }
          qs.push(int4Groups(Ws, out, inF, gs));
        }
        const r: AwqGroupResult = rtn
          ? { names, alpha: 0, loss: rtnLoss, rtnLoss, folded: null, rtn: true }
          : { names, alpha: best.alpha, loss: best.loss, rtnLoss, folded: fold };
        r.objective = probe ? 'block' : 'linear';
        if (clip) {
          // the same objective, on the same rows, of the weights as stored (before the model changes)
          r.clipLoss = clipped.length ? lossOf(qs.map((q) => awqEffectiveWeight(q, s))) : r.loss;
          r.clipped = clipped;
          r.clipShrunk = pairs ? shrunk / pairs : 0;
        }
        // apply: fold 1/s into the norm when every linear reading it is quantized here
        if (fold) {
          for (const suffix of ['weight', 'bias']) {
            const pn = `${fold}.${suffix}`;
            if (!params.has(pn)) continue;
            const v = model.param(pn);
            v.assign(tf.tidy(() => v.div(tf.tensor1d(best.s))));
          }
        }
        lin.forEach((l, j) => model.replaceModule(l.name, new GptqLinear(packGptq(qs[j]!), l.bias, fold || rtn ? null : best.s)));
        results.push(r);
        opts.onProgress?.({ names, alpha: r.alpha, loss: r.loss, rtnLoss, ...(clip ? { clipLoss: r.clipLoss! } : {}) });
      } finally {
        probe?.dispose();
      }
    }
  } finally {
    tf.dispose(batches);
  }
  return { groups: results, samples: seqs.length };
}

/**
 * The linear whose output is the sub-block output AutoAWQ's loss inspects for a group
 * (module2inspect): for attn_in (qkv / c_attn) the same layer's attention output projection
 * (o_proj / attn.c_proj: the self-attention's output, before the residual add), for mlp_in
 * (gate+up / c_fc) the MLP's down projection (down_proj / mlp.c_proj: the MLP's output). Null
 * for the unfoldable groups (attention out, MLP down), whose module2inspect is the linear itself.
 */
export function awqBlockOutput(groups: readonly LinearGroup[], group: LinearGroup): string | null {
  const kind = group.kind === 'attn_in' ? 'attn_out' : group.kind === 'mlp_in' ? 'mlp_out' : null;
  if (!kind) return null;
  return groups.find((g) => g.layer === group.layer && g.kind === kind)?.names[0] ?? null;
}

/** The first calibration sequences with ≤ maxRows tokens in all (at least one), as [B, T] int32 batches of equal-length sequences. */
function blockBatches(seqs: readonly number[][], maxRows: number): tf.Tensor[] {
  const byLen = new Map<number, number[][]>();
  let tokens = 0;
  for (const q of seqs) {
    if (tokens > 0 && tokens + q.length > maxRows) break;
    tokens += q.length;
    byLen.set(q.length, [...(byLen.get(q.length) ?? []), q]);
  }
  return [...byLen.values()].map((b) => tf.tensor2d(b, [b.length, b[0]!.length], 'int32'));
}

/**
 * AWQ's block objective for one group (AutoAWQ _search_best_scale / _compute_best_scale): the
 * float sub-block output (the output of `outName` with the group's linears as they are now) on the
 * calibration batches, kept; loss(W_eff) puts plain Linears holding W_eff in the group's places,
 * runs the same forward prefix and returns mean (y − y_float)² over every output element.
 */
class BlockProbe {
  private readonly ref: tf.Tensor[] = [];
  private elems = 0;
  constructor(private readonly model: TransformerLM, private readonly outName: string, private readonly batches: readonly tf.Tensor[]) {
    captureOutputs(model, outName, batches, (y) => {
      this.ref.push(tf.keep(y.clone()));
      this.elems += y.size;
    });
  }

  loss(lin: ReadonlyArray<{ name: string; out: number; inF: number; Weff: Float32Array; bias: Float32Array | null }>): number {
    const mods = lin.map((l) => {
      const w = tf.tensor2d(l.Weff, [l.out, l.inF]);
      const b = l.bias ? tf.tensor1d(l.bias) : null;
      const m = new Linear({ inFeatures: l.inF, outFeatures: l.out, layout: 'out_in', bias: b !== null, weight: w, ...(b ? { biasValue: b } : {}) });
      tf.dispose([w, ...(b ? [b] : [])]);
      return m;
    });
    const old = lin.map((l, j) => this.model.replaceModule(l.name, mods[j]!));
    let sum = 0;
    try {
      captureOutputs(this.model, this.outName, this.batches, (y, b) => {
        sum += tf.tidy(() => y.sub(this.ref[b]!).square().sum().dataSync()[0]!);
      });
    } finally {
      lin.forEach((l, j) => this.model.replaceModule(l.name, old[j]!));
      for (const m of mods) tf.dispose(m.namedParameters().map(([, v]) => v));
    }
    return sum / this.elems;
  }

  dispose(): void {
    tf.dispose(this.ref);
  }
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
  return int4Groups(scaleColumns(W, out, inF, s), out, inF, groupSize);
}

/** W·diag(s) for W [out, in] (float32 products). */
function scaleColumns(W: Float32Array, out: number, inF: number, s: ArrayLike<number>): Float32Array {
  const Ws = new Float32Array(W.length);
  for (let o = 0; o < out; o++) for (let i = 0; i < inF; i++) Ws[o * inF + i] = W[o * inF + i]! * s[i]!;
  return Ws;
}

/** mean ‖X·Wᵀ − X·Weffᵀ‖² over the rows of X [n, in] and the outputs of all the linears (awqSearch's loss). */
function outputMse(Xh: Float32Array, n: number, inF: number, lin: ReadonlyArray<{ W: Float32Array; out: number; Weff: Float32Array }>): number {
  let loss = 0;
  let totalOut = 0;
  const X = tf.tensor2d(Xh, [n, inF]);
  try {
    for (const l of lin) {
      const D = Float32Array.from(l.W, (w, k) => w - l.Weff[k]!);
      loss += tf.tidy(() => tf.matMul(X, tf.tensor2d(D, [l.out, inF]), false, true).square().sum().dataSync()[0]!);
      totalOut += l.out;
    }
  } finally {
    X.dispose();
  }
  return loss / (n * totalOut);
}

/**
 * Substrings of a linear's name (inside its block) that AutoAWQ's _search_best_clip does not clip
 * (awq/quantize/quantizer.py avoid_clipping; llm-awq auto_clip_block has "q_", "k_").
 */
export const AWQ_CLIP_SKIP: readonly string[] = ['q_', 'k_', 'query', 'key', 'Wqkv'];

/**
 * Whether AWQ's clipping search leaves this linear alone because its output feeds the attention
 * scores: AWQ_CLIP_SKIP matched on the name inside the block (after "….<layer>."), as AutoAWQ
 * matches its block-relative names, and GPT-2's fused q/k/v `attn.c_attn`.
 */
export function awqClipSkipped(name: string): boolean {
  const inBlock = name.replace(/^.*?\.\d+\./, '');
  return AWQ_CLIP_SKIP.some((p) => inBlock.includes(p)) || /(^|\.)c_attn$/.test(inBlock);
}

/** AutoAWQ _compute_best_clip's token stride: max(1, ⌊tokens / nSampleToken⌋) (tokens 0, step, 2·step, …). */
export function awqClipStep(tokens: number, nSampleToken = 512): number {
  return Math.max(1, Math.floor(tokens / nSampleToken));
}

export interface AwqClipResult {
  /** clamp(W, −maxVal, maxVal) per (row, group), [out, in]: what is then quantized. */
  W: Float32Array;
  /** The chosen ratio per (row, group), [out, nGroups] row-major (1 = not clipped). */
  ratio: Float32Array;
  /** max |W[o, g]| · ratio, [out, nGroups]. */
  maxVal: Float32Array;
  /** The clip error at the chosen ratio and at ratio 1, [out, nGroups] (mean over the tokens). */
  err: Float64Array;
  errNoClip: Float64Array;
}

/**
 * AWQ's clipping search on one (already scaled) weight W [out, in] with its (scaled) input
 * X [n, in] (AutoAWQ awq/quantize/quantizer.py _compute_best_clip; llm-awq awq/quantize/auto_clip.py
 * auto_clip_layer): per output row o and input group g, with m = max |W[o, g]|, for
 * r = 1 − k/nGrid, k = 0 … ⌊maxShrink·nGrid⌋ − 1, the error
 *   err(r) = mean_t (x_t,g · (Q(clamp(W[o, g], −m·r, m·r)) − W[o, g]))²
 * (Q: quantizeInt4 asymmetric, one group), computed as dᵀ·G_g·d with G_g = X_gᵀX_g / n in float64;
 * keeps the r of least error (strictly less, so ties keep the larger r) and returns the clamped W.
 */
export function awqClipSearch(W: Float32Array, out: number, inF: number, X: Float32Array, n: number, groupSize: number, opts: { nGrid?: number; maxShrink?: number } = {}): AwqClipResult {
  const nGrid = opts.nGrid ?? 20;
  const maxShrink = opts.maxShrink ?? 0.5;
  if (W.length !== out * inF || X.length !== n * inF || n < 1) throw new QuantError('INVALID_ARGUMENT', `awqClipSearch: W must be ${out}×${inF} and X n×${inF} with n ≥ 1, got ${W.length} and ${X.length} values (n = ${n}).`);
  if (!Number.isInteger(groupSize) || groupSize < 2 || groupSize % 2) throw new QuantError('INVALID_ARGUMENT', `awqClipSearch: groupSize must be an even integer ≥ 2, got ${groupSize}.`);
  const nRatio = Math.trunc(maxShrink * nGrid); // int(max_shrink * n_grid)
  if (!Number.isInteger(nGrid) || nGrid < 1 || nRatio < 1 || maxShrink >= 1) throw new QuantError('INVALID_ARGUMENT', `awqClipSearch: need an integer nGrid ≥ 1 and maxShrink in (0, 1) with ⌊maxShrink·nGrid⌋ ≥ 1, got nGrid ${nGrid}, maxShrink ${maxShrink}.`);
  const nG = Math.ceil(inF / groupSize);
  const ratio = new Float32Array(out * nG).fill(1);
  const maxVal = new Float32Array(out * nG);
  const err = new Float64Array(out * nG).fill(Infinity);
  const errNoClip = new Float64Array(out * nG);
  const Wc = W.slice();
  for (let g = 0; g < nG; g++) {
    const g0 = g * groupSize;
    const L = Math.min(inF, g0 + groupSize) - g0;
    // G = X_gᵀ X_g / n (upper triangle used)
    const G = new Float64Array(L * L);
    for (let t = 0; t < n; t++) {
      const xo = t * inF + g0;
      for (let i = 0; i < L; i++) {
        const xi = X[xo + i]!;
        if (xi === 0) continue;
        for (let j = i; j < L; j++) G[i * L + j]! += xi * X[xo + j]!;
      }
    }
    for (let k = 0; k < G.length; k++) G[k]! /= n;
    const orgMax = new Float32Array(out);
    for (let o = 0; o < out; o++) {
      let m = 0;
      for (let i = 0; i < L; i++) m = Math.max(m, Math.abs(W[o * inF + g0 + i]!));
      orgMax[o] = m;
      maxVal[o * nG + g] = m;
    }
    const C = new Float32Array(out * L);
    const d = new Float64Array(L);
    for (let k = 0; k < nRatio; k++) {
      const r = f32(1 - k / nGrid);
      for (let o = 0; o < out; o++) {
        const m = f32(orgMax[o]! * r);
        for (let i = 0; i < L; i++) C[o * L + i] = Math.min(m, Math.max(-m, W[o * inF + g0 + i]!));
      }
      const Q = quantizeInt4({ data: C, shape: [out, L] }, { groupSize, symmetric: false }).dequantize();
      for (let o = 0; o < out; o++) {
        for (let i = 0; i < L; i++) d[i] = Q[o * L + i]! - W[o * inF + g0 + i]!;
        let e = 0;
        for (let i = 0; i < L; i++) {
          const di = d[i]!;
          if (di === 0) continue;
          let acc = 0;
          for (let j = i + 1; j < L; j++) acc += G[i * L + j]! * d[j]!;
          e += di * (G[i * L + i]! * di + 2 * acc);
        }
        const og = o * nG + g;
        if (k === 0) errNoClip[og] = e;
        if (e < err[og]!) {
          err[og] = e;
          ratio[og] = r;
          maxVal[og] = f32(orgMax[o]! * r);
        }
      }
    }
    for (let o = 0; o < out; o++) {
      const m = maxVal[o * nG + g]!;
      for (let i = 0; i < L; i++) Wc[o * inF + g0 + i] = Math.min(m, Math.max(-m, W[o * inF + g0 + i]!));
    }
  }
  return { W: Wc, ratio, maxVal, err, errNoClip };
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
 * The α grid search of one group of linears sharing the input X [n, in] (host, row-major) with the
 * per-linear objective (objective: 'linear'): returns the best α, its scales, and the output MSE
 * at the best α and at s = 1 (RTN).
 */
export function awqSearch(Xh: Float32Array, n: number, inF: number, sx: ArrayLike<number>, lin: ReadonlyArray<{ W: Float32Array; out: number }>, groupSize: number, nGrid = 20, duoScaling = false): { alpha: number; s: Float32Array; loss: number; rtnLoss: number } {
  return awqGridSearch(sx, inF, lin, groupSize, nGrid, duoScaling, (Weffs) => outputMse(Xh, n, inF, lin.map((l, j) => ({ ...l, Weff: Weffs[j]! }))));
}

/**
 * The α grid: s = 1 (plain RTN, always a candidate, so AWQ never does worse than RTN on the
 * calibration data by its objective), then α = k / nGrid, k = 0 … nGrid − 1 (awqScales); each
 * candidate's effective weights Q(W·diag(s))·diag(1/s) go to `lossOf`; the first least loss wins.
 */
function awqGridSearch(sx: ArrayLike<number>, inF: number, lin: ReadonlyArray<{ W: Float32Array; out: number }>, groupSize: number, nGrid: number, duoScaling: boolean, lossOf: (Weffs: Float32Array[]) => number): { alpha: number; s: Float32Array; loss: number; rtnLoss: number } {
  const wMean = duoScaling ? weightMean(lin, inF, groupSize) : null;
  let best = { alpha: 0, s: awqScales(sx, 0), loss: Infinity };
  let rtnLoss = NaN;
  const ones = new Float32Array(inF).fill(1);
  for (let k = -1; k < nGrid; k++) {
    const alpha = k / nGrid;
    const s = k < 0 ? ones : awqScales(sx, alpha, wMean);
    const loss = lossOf(lin.map((l) => awqEffectiveWeight(awqQuantizeScaled(l.W, l.out, inF, s, groupSize), s)));
    if (k < 0) rtnLoss = loss;
    if (loss < best.loss) best = { alpha: Math.max(0, alpha), s, loss };
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
