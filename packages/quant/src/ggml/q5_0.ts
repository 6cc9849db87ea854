/**
 * Q5_0 (ggml type 6): blocks of 32 values, 22 bytes each, symmetric 5-bit with offset 16.
 * llama-quantize falls back to it for Q4_K tensors whose rows are not a multiple of 256, so the
 * Q4_K_M mix needs it on small models.
 *
 *   block_q5_0 layout (ggml-common.h):
 *     bytes 0..1    d       fp16 scale = max / -16 (max: the value of largest magnitude)
 *     bytes 2..5    qh      uint32 LE: bit j = bit 4 of q[j] (j = 0..31)
 *     bytes 6..21   qs[16]  qs[j] = (q[j] & 15) | (q[j+16] & 15) << 4
 *     q[j] = min(31, trunc(x[j] / d + 16.5))
 *   dequantized: y[j] = (q[j] - 16) · d
 *
 * Follows `quantize_row_q5_0_ref` / `dequantize_row_q5_0`. Example: x[0] = -16, rest 0 → d = 1,
 * q[0] = 0, others 16: qh = 0xfffffffe, qs[0] = 0x00, qs[1..15] = 0x00 (16 & 15 = 0).
 */
import { f32, halfValue, signedAbsMax, writeHalf } from './half.js';

export const QK5_0 = 32;
export const Q5_0_BYTES = 22;

export function quantizeQ5_0(x: Float32Array): Uint8Array {
  const nb = x.length / QK5_0;
  const out = new Uint8Array(nb * Q5_0_BYTES);
  for (let i = 0; i < nb; i++) {
    const xb = i * QK5_0;
    const ob = i * Q5_0_BYTES;
    const d = f32(signedAbsMax(x, xb, QK5_0) / -16);
    const id = d !== 0 ? f32(1 / d) : 0;
    writeHalf(out, ob, d);
    let qh = 0;
    for (let j = 0; j < 16; j++) {
      const q0 = Math.min(31, Math.trunc(f32(f32((x[xb + j] as number) * id) + 16.5)));
      const q1 = Math.min(31, Math.trunc(f32(f32((x[xb + 16 + j] as number) * id) + 16.5)));
      out[ob + 6 + j] = (q0 & 0xf) | ((q1 & 0xf) << 4);
      qh |= ((q0 >> 4) & 1) << j;
      qh |= ((q1 >> 4) & 1) << (j + 16);
    }
    out[ob + 2] = qh & 0xff;
    out[ob + 3] = (qh >>> 8) & 0xff;
    out[ob + 4] = (qh >>> 16) & 0xff;
    out[ob + 5] = (qh >>> 24) & 0xff;
  }
  return out;
}

export function dequantizeQ5_0(bytes: Uint8Array, n: number): Float32Array {
  const out = new Float32Array(n);
  const nb = n / QK5_0;
  for (let i = 0; i < nb; i++) {
    const ob = i * Q5_0_BYTES;
    const d = halfValue((bytes[ob] as number) | ((bytes[ob + 1] as number) << 8));
    const qh =
      ((bytes[ob + 2] as number) | ((bytes[ob + 3] as number) << 8) | ((bytes[ob + 4] as number) << 16) | ((bytes[ob + 5] as number) << 24)) >>> 0;
    for (let j = 0; j < 16; j++) {
      const b = bytes[ob + 6 + j] as number;
      const x0 = ((b & 0xf) | (((qh >>> j) & 1) << 4)) - 16;
      const x1 = ((b >> 4) | (((qh >>> (j + 16)) & 1) << 4)) - 16;
      out[i * QK5_0 + j] = x0 * d;
      out[i * QK5_0 + 16 + j] = x1 * d;
    }
  }
  return out;
}
