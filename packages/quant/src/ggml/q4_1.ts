/**
 * Q4_1 (ggml type 3): blocks of 32 values, 20 bytes each, asymmetric 4-bit (scale + minimum).
 *
 *   block_q4_1 layout (ggml-common.h):
 *     bytes 0..1   d       fp16 scale = (max - min) / 15
 *     bytes 2..3   m       fp16 minimum
 *     bytes 4..19  qs[16]  qs[j] = q[j] | q[j+16] << 4   (element j low nibble, j+16 high nibble)
 *     q[j] = min(15, trunc((x[j] - min) / d + 0.5))
 *   dequantized: y[j] = q[j] · d + m
 *
 * Follows ggml's `quantize_row_q4_1_ref` / `dequantize_row_q4_1`. Example: x[j] = j for j < 16,
 * x[16..31] = 15 → min 0, max 15, d = 1 (00 3c), m = 0 (00 00), qs[j] = j | 15 << 4 = 0xf0 + j.
 */
import { f32, halfValue, writeHalf } from './half.js';

export const QK4_1 = 32;
export const Q4_1_BYTES = 20;
const FLT_MAX = 3.4028234663852886e38;

export function quantizeQ4_1(x: Float32Array): Uint8Array {
  const nb = x.length / QK4_1;
  const out = new Uint8Array(nb * Q4_1_BYTES);
  for (let i = 0; i < nb; i++) {
    const xb = i * QK4_1;
    const ob = i * Q4_1_BYTES;
    let min = FLT_MAX;
    let max = -FLT_MAX;
    for (let j = 0; j < QK4_1; j++) {
      const v = x[xb + j] as number;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    const d = f32(f32(max - min) / 15);
    const id = d !== 0 ? f32(1 / d) : 0;
    writeHalf(out, ob, d);
    writeHalf(out, ob + 2, min);
    for (let j = 0; j < QK4_1 / 2; j++) {
      const x0 = f32(f32((x[xb + j] as number) - min) * id);
      const x1 = f32(f32((x[xb + 16 + j] as number) - min) * id);
      const q0 = Math.min(15, Math.trunc(f32(x0 + 0.5)));
      const q1 = Math.min(15, Math.trunc(f32(x1 + 0.5)));
      out[ob + 4 + j] = q0 | (q1 << 4);
    }
  }
  return out;
}

export function dequantizeQ4_1(bytes: Uint8Array, n: number): Float32Array {
  const out = new Float32Array(n);
  const nb = n / QK4_1;
  for (let i = 0; i < nb; i++) {
    const ob = i * Q4_1_BYTES;
    const d = halfValue((bytes[ob] as number) | ((bytes[ob + 1] as number) << 8));
    const m = halfValue((bytes[ob + 2] as number) | ((bytes[ob + 3] as number) << 8));
    for (let j = 0; j < QK4_1 / 2; j++) {
      const b = bytes[ob + 4 + j] as number;
      out[i * QK4_1 + j] = f32((b & 0x0f) * d) + m;
      out[i * QK4_1 + 16 + j] = f32((b >> 4) * d) + m;
    }
  }
  return out;
}
