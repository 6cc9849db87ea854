/**
 * int8 per-output-channel absmax (bitsandbytes' int8_vectorwise_quant / LLM.int8's weight
 * format) with LLM.int8-style outlier INPUT columns kept in float32.
 *
 *   absmax[o] = max |w[o, j]| over the non-outlier columns j
 *   q[o, j]   = round(w[o, j] · (127 · (1/absmax[o])))   half-to-even, float32 — as bitsandbytes
 *                                                         (torch.round(A * (127.0 / row_stats)))
 *   w'[o, j]  = q · absmax[o] · (1/127)                   bitsandbytes' int8_vectorwise_dequant
 *
 * Outlier columns: LLM.int8 decomposes at run time on the ACTIVATIONS (an input feature with
 * |x| ≥ 6 in any row runs in 16-bit). A weight-only quantizer has to choose the columns ahead of
 * time, so: with calibration activations, the columns j where any |x[:, j]| ≥ threshold; without
 * them, the columns where any |w[:, j]| ≥ threshold. Those weight columns are kept in float32
 * (bitsandbytes keeps int8 weights there and only the activations in 16-bit; keeping the weight
 * column too is the more accurate weight-only reading) and their q are 0. threshold ≤ 0 or
 * Infinity turns outliers off.
 */
import { QuantError } from '../errors.js';
import { checkMatrix, f32, roundHalfEven, type WeightMatrix } from './common.js';

/** float32(1/127), the constant bitsandbytes multiplies by to dequantize. */
export const INV_127 = Math.fround(7.874015718698502e-3);

export interface Int8Weight {
  readonly scheme: 'int8';
  readonly shape: [number, number];
  /** [out, in] int8 codes (0 in outlier columns). */
  readonly q: Int8Array;
  /** [out] float32 row absmax (over non-outlier columns). */
  readonly absmax: Float32Array;
  /** Sorted outlier input columns. */
  readonly outlierCols: Int32Array;
  /** [out, outlierCols.length] float32 weights of those columns. */
  readonly outliers: Float32Array;
  readonly threshold: number;
  dequantize(): Float32Array;
  byteSize(): number;
}

export interface Int8Options {
  /** LLM.int8's outlier threshold (default 6.0). */
  threshold?: number;
  /**
   * Per input column max |x| of calibration activations (length in). With it, outlier columns are
   * the ones whose activations reach the threshold; without, the ones whose weights do.
   */
  activationAbsMax?: Float32Array;
}

export function quantizeInt8(w: WeightMatrix, opts: Int8Options = {}): Int8Weight {
  const [out, inF] = checkMatrix(w, 'quantizeInt8');
  const threshold = opts.threshold ?? 6;
  if (typeof threshold !== 'number' || Number.isNaN(threshold)) throw new QuantError('INVALID_ARGUMENT', `quantizeInt8: threshold must be a number, got ${threshold}.`);
  const act = opts.activationAbsMax;
  if (act && act.length !== inF) throw new QuantError('INVALID_ARGUMENT', `quantizeInt8: activationAbsMax has ${act.length} columns, the weight ${inF}.`);
  const isOutlier = new Uint8Array(inF);
  if (threshold > 0 && Number.isFinite(threshold)) {
    for (let j = 0; j < inF; j++) {
      if (act) isOutlier[j] = act[j]! >= threshold ? 1 : 0;
      else for (let o = 0; o < out && !isOutlier[j]; o++) if (Math.abs(w.data[o * inF + j]!) >= threshold) isOutlier[j] = 1;
    }
  }
  const cols: number[] = [];
  for (let j = 0; j < inF; j++) if (isOutlier[j]) cols.push(j);
  const q = new Int8Array(out * inF);
  const absmax = new Float32Array(out);
  const outliers = new Float32Array(out * cols.length);
  for (let o = 0; o < out; o++) {
    let m = 0;
    for (let j = 0; j < inF; j++) if (!isOutlier[j]) m = Math.max(m, Math.abs(w.data[o * inF + j]!));
    absmax[o] = m;
    cols.forEach((j, k) => (outliers[o * cols.length + k] = w.data[o * inF + j]!));
    if (m === 0) continue;
    const mul = f32(f32(1 / m) * 127); // 127.0 / row_stats == row_stats.reciprocal() * 127 in torch
    for (let j = 0; j < inF; j++) if (!isOutlier[j]) q[o * inF + j] = Math.max(-127, Math.min(127, roundHalfEven(f32(w.data[o * inF + j]! * mul))));
  }
  return makeInt8([out, inF], q, absmax, Int32Array.from(cols), outliers, threshold);
}

/** An Int8Weight from stored parts (checked). */
export function makeInt8(shape: [number, number], q: Int8Array, absmax: Float32Array, outlierCols: Int32Array, outliers: Float32Array, threshold: number): Int8Weight {
  const [out, inF] = shape;
  if (q.length !== out * inF || absmax.length !== out) throw new QuantError('INVALID_ARGUMENT', `int8: ${q.length} codes and ${absmax.length} absmax for a [${out}, ${inF}] weight.`);
  if (outliers.length !== out * outlierCols.length) throw new QuantError('INVALID_ARGUMENT', `int8: ${outliers.length} outlier weights for ${out} rows × ${outlierCols.length} columns.`);
  for (let k = 0; k < outlierCols.length; k++) {
    const c = outlierCols[k]!;
    if (c < 0 || c >= inF || (k > 0 && c <= outlierCols[k - 1]!)) throw new QuantError('INVALID_ARGUMENT', `int8: outlier columns must be increasing and in [0, ${inF}), got ${c} at ${k}.`);
  }
  for (let i = 0; i < absmax.length; i++) if (!Number.isFinite(absmax[i]!) || absmax[i]! < 0) throw new QuantError('INVALID_ARGUMENT', `int8: absmax ${absmax[i]} of row ${i} is not a finite number ≥ 0.`);
  return {
    scheme: 'int8',
    shape,
    q,
    absmax,
    outlierCols,
    outliers,
    threshold,
    dequantize: () => {
      const r = new Float32Array(out * inF);
      for (let o = 0; o < out; o++) for (let j = 0; j < inF; j++) r[o * inF + j] = f32(f32(q[o * inF + j]! * absmax[o]!) * INV_127);
      outlierCols.forEach((j, k) => {
        for (let o = 0; o < out; o++) r[o * inF + j] = outliers[o * outlierCols.length + k]!;
      });
      return r;
    },
    byteSize: () => q.length + absmax.length * 4 + outlierCols.length * 4 + outliers.length * 4,
  };
}
