/**
 * Q8_0 (ggml type 8): blocks of 32 values, 34 bytes each.
 *
 *   block_q8_0 layout (ggml-common.h):
 *     bytes 0..1   d       fp16 scale = amax / 127
 *     bytes 2..33  qs[32]  int8, qs[j] = roundf(x[j] / d)   (ties away from zero)
 *   dequantized: y[j] = qs[j] · d
 *
 * Follows ggml's `quantize_row_q8_0_ref` / `dequantize_row_q8_0` (ggml/src/ggml-quants.c),
 * float32 arithmetic throughout. Example: x = [127, -63.5, 0, …0] → amax 127, d = 1 (fp16 0x3c00),
 * qs = [127, -64, 0, …] (−63.5 rounds away from zero), so the block starts 00 3c 7f c0 00.
 */
import { f32, halfValue, roundf, writeHalf } from './half.js';

export const QK8_0 = 32;
export const Q8_0_BYTES = 34;

export function quantizeQ8_0(x: Float32Array): Uint8Array {
  const nb = x.length / QK8_0;
  const out = new Uint8Array(nb * Q8_0_BYTES);
  for (let i = 0; i < nb; i++) {
    const xb = i * QK8_0;
    const ob = i * Q8_0_BYTES;
    let amax = 0;
    for (let j = 0; j < QK8_0; j++) {
      const a = Math.abs(x[xb + j] as number);
      amax = amax > a ? amax : a; // ggml's MAX(a, b), which differs from Math.max on NaN
    }
    const d = f32(amax / 127);
    const id = d !== 0 ? f32(1 / d) : 0;
    writeHalf(out, ob, d);
    for (let j = 0; j < QK8_0; j++) out[ob + 2 + j] = roundf(f32((x[xb + j] as number) * id)) & 0xff;
  }
  return out;
}

export function dequantizeQ8_0(bytes: Uint8Array, n: number): Float32Array {
  const out = new Float32Array(n);
  const nb = n / QK8_0;
  for (let i = 0; i < nb; i++) {
    const ob = i * Q8_0_BYTES;
    const d = halfValue((bytes[ob] as number) | ((bytes[ob + 1] as number) << 8));
    for (let j = 0; j < QK8_0; j++) {
      const q = ((bytes[ob + 2 + j] as number) << 24) >> 24; // int8
      out[i * QK8_0 + j] = q * d;
    }
  }
  return out;
}
