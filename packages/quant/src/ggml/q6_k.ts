/**
 * Q6_K (ggml type 14): super-blocks of 256 values, 210 bytes each; 16 sub-blocks of 16 with a
 * signed 8-bit scale each, 6-bit levels stored as q + 32 (0..63).
 *
 *   block_q6_K layout (ggml-common.h):
 *     bytes 0..127    ql[128]     low 4 bits of the levels
 *     bytes 128..191  qh[64]      high 2 bits of the levels
 *     bytes 192..207  scales[16]  int8 sub-block scales
 *     bytes 208..209  d           fp16 super-block scale
 *   For each 128-value half h (0..1) and l in 0..31, with L = level + 32 and e = 128h + l:
 *     ql[64h + l]      = L[e] & 15      | (L[e + 64] & 15) << 4
 *     ql[64h + 32 + l] = L[e + 32] & 15 | (L[e + 96] & 15) << 4
 *     qh[32h + l]      = L[e] >> 4 | (L[e + 32] >> 4) << 2 | (L[e + 64] >> 4) << 4 | (L[e + 96] >> 4) << 6
 *   dequantized: y[e] = d · scales[e / 16] · (L[e] - 32)
 *
 * Example: a super-block whose 16-value sub-blocks all dequantize to level 1 with scale 1 and
 * d = 1 has every L = 33: ql bytes 0x11, qh bytes 0xaa, scales 01, d 00 3c.
 *
 * Quantizer: ggml's `quantize_row_q6_K_ref` — make_qx_quants(16, 32, rmse_type 1) per sub-block,
 * scales quantized to int8 against the one of largest magnitude (iscale = -128 / max_scale),
 * then levels recomputed against the stored scales.
 */
import { f32, halfValue, nearestInt, roundToHalf, writeHalf } from './half.js';
import { GROUP_MAX_EPS, makeQxQuantsRmse1 } from './kquant-fit.js';
import { QK_K } from './types.js';

export const Q6_K_BYTES = 210;

export function quantizeQ6_K(x: Float32Array): Uint8Array {
  const nb = x.length / QK_K;
  const out = new Uint8Array(nb * Q6_K_BYTES);
  const L = new Uint8Array(QK_K);
  const scales = new Float32Array(16);
  for (let i = 0; i < nb; i++) {
    const xb = i * QK_K;
    const ob = i * Q6_K_BYTES;
    let maxScale = 0;
    let maxAbsScale = 0;
    for (let ib = 0; ib < 16; ib++) {
      const s = makeQxQuantsRmse1(16, 32, x.subarray(xb + 16 * ib, xb + 16 * ib + 16), L.subarray(16 * ib, 16 * ib + 16));
      scales[ib] = s;
      if (Math.abs(s) > maxAbsScale) {
        maxAbsScale = Math.abs(s);
        maxScale = s;
      }
    }
    if (maxAbsScale < GROUP_MAX_EPS) continue; // the block stays all zero bytes (d = +0)
    const iscale = f32(-128 / maxScale);
    writeHalf(out, ob + 208, f32(1 / iscale));
    const dAll = roundToHalf(f32(1 / iscale));
    for (let ib = 0; ib < 16; ib++) {
      const s = Math.min(127, nearestInt(f32(iscale * scales[ib]!)));
      out[ob + 192 + ib] = s & 0xff;
      const d = f32(dAll * ((s << 24) >> 24));
      if (d === 0) continue; // keeps the levels make_qx_quants chose, as ggml does
      for (let ii = 0; ii < 16; ii++) {
        const l = nearestInt(f32((x[xb + 16 * ib + ii] as number) / d));
        L[16 * ib + ii] = Math.max(-32, Math.min(31, l)) + 32;
      }
    }
    for (let h = 0; h < 2; h++) {
      for (let l = 0; l < 32; l++) {
        const e = 128 * h + l;
        const a = L[e]!;
        const b = L[e + 32]!;
        const c = L[e + 64]!;
        const dd = L[e + 96]!;
        out[ob + 64 * h + l] = (a & 0xf) | ((c & 0xf) << 4);
        out[ob + 64 * h + 32 + l] = (b & 0xf) | ((dd & 0xf) << 4);
        out[ob + 128 + 32 * h + l] = (a >> 4) | ((b >> 4) << 2) | ((c >> 4) << 4) | ((dd >> 4) << 6);
      }
    }
  }
  return out;
}

export function dequantizeQ6_K(bytes: Uint8Array, n: number): Float32Array {
  const out = new Float32Array(n);
  const nb = n / QK_K;
  for (let i = 0; i < nb; i++) {
    const ob = i * Q6_K_BYTES;
    const d = halfValue((bytes[ob + 208] as number) | ((bytes[ob + 209] as number) << 8));
    for (let h = 0; h < 2; h++) {
      const ql = ob + 64 * h;
      const qh = ob + 128 + 32 * h;
      const sc = ob + 192 + 8 * h;
      const y = i * QK_K + 128 * h;
      for (let l = 0; l < 32; l++) {
        const is = l >> 4;
        const hb = bytes[qh + l] as number;
        const lo0 = bytes[ql + l] as number;
        const lo1 = bytes[ql + 32 + l] as number;
        const q1 = ((lo0 & 0xf) | ((hb & 3) << 4)) - 32;
        const q2 = ((lo1 & 0xf) | (((hb >> 2) & 3) << 4)) - 32;
        const q3 = ((lo0 >> 4) | (((hb >> 4) & 3) << 4)) - 32;
        const q4 = ((lo1 >> 4) | (((hb >> 6) & 3) << 4)) - 32;
        const s = (k: number): number => ((bytes[sc + is + k] as number) << 24) >> 24;
        out[y + l] = f32(d * s(0)) * q1;
        out[y + 32 + l] = f32(d * s(2)) * q2;
        out[y + 64 + l] = f32(d * s(4)) * q3;
        out[y + 96 + l] = f32(d * s(6)) * q4;
      }
    }
  }
  return out;
}
