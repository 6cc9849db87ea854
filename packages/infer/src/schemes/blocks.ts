/**
 * Row encoders of the engine's private block formats (src/kernels/format.ts SCHEME_FORMATS,
 * assembly/kernels q8_f32.ts / q4_z.ts / nf4.ts): a [rows, cols] weight (cols a multiple of 32)
 * → rows × (cols/32) blocks, from a quantized weight's own codes and scales — nothing is
 * re-quantized, so the engine runs exactly the weights @llm/quant dequantizes.
 *
 *   q8f32Rows(Int8Array.of(2, -3, …32), Float32Array.of(0.5), 1, 32)   // one 36-byte block
 *   q4zRows(2, 64, code, (r, b) => scale, (r, b) => zero)             // 2 rows × 2 blocks of 24 bytes
 */
import { InferError } from '../errors.js';
import { SCHEME_FORMATS } from '../kernels/format.js';

/** 32-element blocks per row; cols must be a whole number of them. */
function blocksPerRow(cols: number): number {
  if (cols % 32 !== 0) throw new InferError('INVALID_ARGUMENT', `private block formats need a multiple of 32 columns, got ${cols}.`);
  return cols / 32;
}

/**
 * Q8_F32: { f32 d; i8 qs[32] } — int8 codes q [rows, cols] (row-major) and one f32 scale per row
 * (repeated in each of its blocks).
 */
export function q8f32Rows(q: Int8Array, d: Float32Array, rows: number, cols: number): Uint8Array {
  const nb = blocksPerRow(cols);
  const bb = SCHEME_FORMATS.q8_f32.blockBytes;
  const out = new Uint8Array(rows * nb * bb);
  const view = new DataView(out.buffer);
  for (let r = 0; r < rows; r++) {
    for (let b = 0; b < nb; b++) {
      const at = (r * nb + b) * bb;
      view.setFloat32(at, d[r]!, true);
      out.set(new Uint8Array(q.buffer, q.byteOffset + r * cols + b * 32, 32), at + 4);
    }
  }
  return out;
}

/**
 * Q4_Z: { f32 d; u8 z; u8 pad[3]; u8 qs[16] } — codes code(r, c) in [0, 15] and, per 32-block b
 * of row r, a scale and a zero point; element j of a block in the low nibble of qs[j], j + 16 in
 * the high one (ggml's order).
 */
export function q4zRows(rows: number, cols: number, code: (r: number, c: number) => number, scale: (r: number, b: number) => number, zero: (r: number, b: number) => number): Uint8Array {
  const nb = blocksPerRow(cols);
  const bb = SCHEME_FORMATS.q4_z.blockBytes;
  const out = new Uint8Array(rows * nb * bb);
  const view = new DataView(out.buffer);
  for (let r = 0; r < rows; r++) {
    for (let b = 0; b < nb; b++) {
      const at = (r * nb + b) * bb;
      view.setFloat32(at, scale(r, b), true);
      out[at + 4] = zero(r, b);
      for (let j = 0; j < 16; j++) out[at + 8 + j] = code(r, 32 * b + j) | (code(r, 32 * b + j + 16) << 4);
    }
  }
  return out;
}

/**
 * NF4: { f32 absmax; u8 qs[16] } — bitsandbytes' packed bytes of the flattened [rows, cols]
 * weight as they are (16 bytes per 32 elements) and the f32 absmax of each 32-block.
 */
export function nf4Rows(packed: Uint8Array, absmax: (r: number, b: number) => number, rows: number, cols: number): Uint8Array {
  const nb = blocksPerRow(cols);
  const bb = SCHEME_FORMATS.nf4.blockBytes;
  const out = new Uint8Array(rows * nb * bb);
  const view = new DataView(out.buffer);
  for (let r = 0; r < rows; r++) {
    for (let b = 0; b < nb; b++) {
      const at = (r * nb + b) * bb;
      view.setFloat32(at, absmax(r, b), true);
      const from = (r * cols + 32 * b) / 2;
      out.set(packed.subarray(from, from + 16), at + 4);
    }
  }
  return out;
}
