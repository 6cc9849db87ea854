/**
 * Q4_0 (ggml type 2): blocks of 32 values, 18 bytes each, symmetric 4-bit with offset 8.
 *
 *   block_q4_0 layout (ggml-common.h):
 *     bytes 0..1   d       fp16 scale = max / -8, where max is the value of largest magnitude
 *     bytes 2..17  qs[16]  qs[j] = q[j] | q[j+16] << 4   (element j low nibble, j+16 high nibble)
 *     q[j] = min(15, trunc(x[j] / d + 8.5))
 *   dequantized: y[j] = (q[j] - 8) · d
 *
 * Follows ggml's `quantize_row_q4_0_ref` / `dequantize_row_q4_0`. Example: x[0] = -8, x[16] = 4,
 * rest 0 → max = -8, d = 1 (00 3c), q[0] = trunc(-8 + 8.5) = 0, q[16] = trunc(4 + 8.5) = 12,
 * others 8: qs[0] = 0x00 | 0xc0 = 0xc0, qs[1..15] = 0x88.
 */
import { f32, halfValue, signedAbsMax, writeHalf } from './half.js';

export const QK4_0 = 32;
export const Q4_0_BYTES = 18;

export function quantizeQ4_0(x: Float32Array): Uint8Array {
  const nb = x.length / QK4_0;
  const out = new Uint8Array(nb * Q4_0_BYTES);
  for (let i = 0; i < nb; i++) {
    const xb = i * QK4_0;
    const ob = i * Q4_0_BYTES;
    const d = f32(signedAbsMax(x, xb, QK4_0) / -8);
    const id = d !== 0 ? f32(1 / d) : 0;
    writeHalf(out, ob, d);
    for (let j = 0; j < QK4_0 / 2; j++) {
      const x0 = f32((x[xb + j] as number) * id);
      const x1 = f32((x[xb + 16 + j] as number) * id);
      const q0 = Math.min(15, Math.trunc(f32(x0 + 8.5)));
      const q1 = Math.min(15, Math.trunc(f32(x1 + 8.5)));
      out[ob + 2 + j] = q0 | (q1 << 4);
    }
  }
  return out;
}

export function dequantizeQ4_0(bytes: Uint8Array, n: number): Float32Array {
  const out = new Float32Array(n);
  const nb = n / QK4_0;
  for (let i = 0; i < nb; i++) {
    const ob = i * Q4_0_BYTES;
    const d = halfValue((bytes[ob] as number) | ((bytes[ob + 1] as number) << 8));
    for (let j = 0; j < QK4_0 / 2; j++) {
      const b = bytes[ob + 2 + j] as number;
      out[i * QK4_0 + j] = ((b & 0x0f) - 8) * d;
      out[i * QK4_0 + 16 + j] = ((b >> 4) - 8) * d;
    }
  }
  return out;
}
