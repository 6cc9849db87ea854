/**
 * The min/max group quantizer GPTQ uses (AutoGPTQ quantization/quantizer.py `Quantizer`:
 * find_params with weight=True, perchannel=True, mse=False), on host arrays.
 *
 *   asym, 4 bits: xmin = min(0, min x), xmax = max(0, max x); both 0 → [-1, 1];
 *                 scale = (xmax − xmin) / 15; zero = round(−xmin / scale)
 *   sym:          xmax = max(|xmin|, xmax), xmin = −xmax (when xmin < 0); zero = (maxq + 1) / 2
 *   code q = clamp(round(w / scale) + zero, 0, maxq); dequant = scale · (q − zero)
 *
 * `round` is torch.round (half to even). The arithmetic is float64 (the PyTorch fixture script
 * runs the same algorithm in float64 so codes can be compared exactly).
 *
 * NOTE: this is a small local quantizer for GPTQ/AWQ: src/quantizers/ (round-to-nearest int4) did
 * not exist when this was written.
 */

/** torch.round: round half to even (one definition, in quantizers/common.ts). */
export { roundHalfEven } from '../quantizers/common.js';
import { roundHalfEven } from '../quantizers/common.js';

export interface GroupParams {
  /** Per output row (length out). */
  scale: Float64Array;
  zero: Float64Array;
}

/**
 * Scale and zero per row of W [rows, cols] (row-major, row stride `stride`) over columns
 * [c0, c1) — AutoGPTQ's find_params(W[:, c0:c1], weight=True).
 */
export function findParams(W: Float64Array, rows: number, stride: number, c0: number, c1: number, bits: number, sym: boolean): GroupParams {
  const maxq = 2 ** bits - 1;
  const scale = new Float64Array(rows);
  const zero = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let xmin = 0;
    let xmax = 0;
    const base = r * stride;
    for (let c = c0; c < c1; c++) {
      const v = W[base + c]!;
      if (v < xmin) xmin = v;
      if (v > xmax) xmax = v;
    }
    if (sym) {
      xmax = Math.max(Math.abs(xmin), xmax);
      if (xmin < 0) xmin = -xmax;
    }
    if (xmin === 0 && xmax === 0) {
      xmin = -1;
      xmax = 1;
    }
    const s = (xmax - xmin) / maxq;
    scale[r] = s;
    zero[r] = sym ? (maxq + 1) / 2 : roundHalfEven(-xmin / s);
  }
  return { scale, zero };
}

/** Integer code of w under (scale, zero): clamp(round(w / scale) + zero, 0, maxq). */
export function quantCode(w: number, scale: number, zero: number, maxq: number): number {
  const q = roundHalfEven(w / scale) + zero;
  return q < 0 ? 0 : q > maxq ? maxq : q;
}

/**
 * Round-to-nearest group quantization of W [out, in] (row-major), groups of `groupSize` input
 * columns (−1 = one group): the baseline GPTQ and AWQ are measured against.
 */
export function rtnQuantize(W: ArrayLike<number>, out: number, inF: number, groupSize: number, bits = 4, sym = false): QuantizedWeight {
  const gs = groupSize === -1 ? inF : groupSize;
  const G = Math.ceil(inF / gs);
  const W64 = Float64Array.from(W);
  const maxq = 2 ** bits - 1;
  const codes = new Uint8Array(out * inF);
  const scales = new Float64Array(G * out);
  const zeros = new Float64Array(G * out);
  const gIdx = new Int32Array(inF);
  for (let g = 0; g < G; g++) {
    const c0 = g * gs;
    const c1 = Math.min(inF, c0 + gs);
    const p = findParams(W64, out, inF, c0, c1, bits, sym);
    scales.set(p.scale, g * out);
    zeros.set(p.zero, g * out);
    for (let c = c0; c < c1; c++) gIdx[c] = g;
    for (let r = 0; r < out; r++) for (let c = c0; c < c1; c++) codes[r * inF + c] = quantCode(W64[r * inF + c]!, p.scale[r]!, p.zero[r]!, maxq);
  }
  return { bits, groupSize: gs, out, inF, codes, scales, zeros, gIdx };
}

/**
 * A group-quantized weight in the GPTQ sense, before packing: integer codes [out, in], per-group
 * scales and zero points [groups, out], and the group of each input column (g_idx, [in]).
 */
export interface QuantizedWeight {
  bits: number;
  groupSize: number;
  out: number;
  inF: number;
  /** [out, in] row-major, 0..2^bits−1. */
  codes: Uint8Array;
  /** [groups, out]. */
  scales: Float64Array;
  /** [groups, out], integers 0..2^bits−1. */
  zeros: Float64Array;
  /** [in]: group of each input column. */
  gIdx: Int32Array;
}

/** Dequantized W [out, in] row-major: scales[g_idx[c]] · (code − zeros[g_idx[c]]). */
export function dequantize(q: QuantizedWeight): Float32Array {
  const { out, inF, codes, scales, zeros, gIdx } = q;
  const W = new Float32Array(out * inF);
  for (let r = 0; r < out; r++) {
    for (let c = 0; c < inF; c++) {
      const g = gIdx[c]! * out + r;
      W[r * inF + c] = scales[g]! * (codes[r * inF + c]! - zeros[g]!);
    }
  }
  return W;
}
