/**
 * Q4_K (ggml type 12): super-blocks of 256 values, 144 bytes each; 8 sub-blocks of 32 with a
 * 6-bit scale and a 6-bit min each, 4-bit levels 0..15.
 *
 *   block_q4_K layout (ggml-common.h):
 *     bytes 0..1     d           fp16 super-scale for the sub-block scales
 *     bytes 2..3     dmin        fp16 super-scale for the sub-block mins
 *     bytes 4..15    scales[12]  8 scales + 8 mins, 6 bits each (see packScaleMin / scaleMinK4)
 *     bytes 16..143  qs[128]     for each 64-value chunk c (0..3): 32 bytes, byte l holds
 *                                element 64c+l in the low nibble and 64c+32+l in the high nibble
 *   dequantized: y = d·sc[j] · q − dmin·m[j] for element of sub-block j
 *
 * Scale packing (get_scale_min_k4): for sub-block j < 4, sc = scales[j] & 63, m = scales[j+4] & 63;
 * for j ≥ 4, sc = (scales[j+4] & 15) | (scales[j-4] >> 6) << 4, m = (scales[j+4] >> 4) | (scales[j] >> 6) << 4.
 * Example: sc = [1..8], m = 0 → scales bytes = 01 02 03 04 00 00 00 00 05 06 07 08.
 *
 * Quantizer: ggml's `quantize_row_q4_K_ref` — per sub-block weights av_x + |x| (av_x the RMS),
 * make_qkx2_quants(32, 15, rmin -1, rdelta 0.1, nstep 20), then 6-bit scales relative to the
 * largest, then levels recomputed against the stored (fp16 · 6-bit) scale and min.
 */
import { f32, halfValue, nearestInt, roundToHalf, writeHalf } from './half.js';
import { makeQkx2Quants } from './kquant-fit.js';
import { QK_K } from './types.js';

export const Q4_K_BYTES = 144;

/** ggml's `get_scale_min_k4(j, scales)` → [scale, min] for sub-block j of 8. */
export function scaleMinK4(j: number, q: Uint8Array, off: number): [number, number] {
  if (j < 4) return [(q[off + j] as number) & 63, (q[off + j + 4] as number) & 63];
  const sc = ((q[off + j + 4] as number) & 0xf) | (((q[off + j - 4] as number) >> 6) << 4);
  const m = ((q[off + j + 4] as number) >> 4) | (((q[off + j] as number) >> 6) << 4);
  return [sc, m];
}

export function quantizeQ4_K(x: Float32Array): Uint8Array {
  const nb = x.length / QK_K;
  const out = new Uint8Array(nb * Q4_K_BYTES);
  const L = new Uint8Array(QK_K);
  const Laux = new Uint8Array(32);
  const weights = new Float32Array(32);
  const mins = new Float32Array(8);
  const scales = new Float32Array(8);
  const rdelta = f32(0.1);
  for (let i = 0; i < nb; i++) {
    const xb = i * QK_K;
    const ob = i * Q4_K_BYTES;
    let maxScale = 0;
    let maxMin = 0;
    for (let j = 0; j < 8; j++) {
      let sumX2 = 0;
      for (let l = 0; l < 32; l++) {
        const v = x[xb + 32 * j + l] as number;
        sumX2 = f32(sumX2 + f32(v * v));
      }
      const avX = f32(Math.sqrt(f32(sumX2 / 32)));
      for (let l = 0; l < 32; l++) weights[l] = f32(avX + Math.abs(x[xb + 32 * j + l] as number));
      const xs = x.subarray(xb + 32 * j, xb + 32 * j + 32);
      const r = makeQkx2Quants(32, 15, xs, weights, L.subarray(32 * j, 32 * j + 32), Laux, -1, rdelta, 20);
      scales[j] = r.scale;
      mins[j] = r.theMin;
      if (scales[j]! > maxScale) maxScale = scales[j]!;
      if (mins[j]! > maxMin) maxMin = mins[j]!;
    }
    const invScale = maxScale > 0 ? f32(63 / maxScale) : 0;
    const invMin = maxMin > 0 ? f32(63 / maxMin) : 0;
    const sc = out.subarray(ob + 4, ob + 16);
    for (let j = 0; j < 8; j++) {
      const ls = Math.min(63, nearestInt(f32(invScale * scales[j]!)) & 0xff); // uint8_t, then MIN(63, ·)
      const lm = Math.min(63, nearestInt(f32(invMin * mins[j]!)) & 0xff);
      if (j < 4) {
        sc[j] = ls;
        sc[j + 4] = lm;
      } else {
        sc[j + 4] = (ls & 0xf) | ((lm & 0xf) << 4);
        sc[j - 4] = sc[j - 4]! | ((ls >> 4) << 6);
        sc[j] = sc[j]! | ((lm >> 4) << 6);
      }
    }
    writeHalf(out, ob, f32(maxScale / 63));
    writeHalf(out, ob + 2, f32(maxMin / 63));
    const dAll = roundToHalf(f32(maxScale / 63));
    const mAll = roundToHalf(f32(maxMin / 63));
    for (let j = 0; j < 8; j++) {
      const [s, m] = scaleMinK4(j, sc, 0);
      const d = f32(dAll * s);
      if (d === 0) continue; // keeps the levels make_qkx2_quants chose, as ggml does
      const dm = f32(mAll * m);
      for (let ii = 0; ii < 32; ii++) {
        const l = nearestInt(f32(f32((x[xb + 32 * j + ii] as number) + dm) / d));
        L[32 * j + ii] = Math.max(0, Math.min(15, l));
      }
    }
    for (let c = 0; c < 4; c++) {
      for (let l = 0; l < 32; l++) {
        out[ob + 16 + 32 * c + l] = L[64 * c + l]! | (L[64 * c + 32 + l]! << 4);
      }
    }
  }
  return out;
}

export function dequantizeQ4_K(bytes: Uint8Array, n: number): Float32Array {
  const out = new Float32Array(n);
  const nb = n / QK_K;
  for (let i = 0; i < nb; i++) {
    const ob = i * Q4_K_BYTES;
    const d = halfValue((bytes[ob] as number) | ((bytes[ob + 1] as number) << 8));
    const min = halfValue((bytes[ob + 2] as number) | ((bytes[ob + 3] as number) << 8));
    for (let c = 0; c < 4; c++) {
      const [s1, m1] = scaleMinK4(2 * c, bytes, ob + 4);
      const [s2, m2] = scaleMinK4(2 * c + 1, bytes, ob + 4);
      const d1 = f32(d * s1);
      const mm1 = f32(min * m1);
      const d2 = f32(d * s2);
      const mm2 = f32(min * m2);
      const y = i * QK_K + 64 * c;
      for (let l = 0; l < 32; l++) {
        const q = bytes[ob + 16 + 32 * c + l] as number;
        out[y + l] = f32(d1 * (q & 0xf)) - mm1;
        out[y + 32 + l] = f32(d2 * (q >> 4)) - mm2;
      }
    }
  }
  return out;
}
