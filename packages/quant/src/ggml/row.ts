/**
 * One entry point per direction over every supported ggml type: a row of float32 in, the
 * block bytes exactly as ggml lays them out (and as GGUF stores them) out, and back.
 *
 *   const bytes = quantizeRow(GGML_TYPE.Q8_0, row);        // row.length % 32 === 0
 *   const back = dequantizeRow(GGML_TYPE.Q8_0, bytes, row.length);
 *   bytes.length === tensorBytes(GGML_TYPE.Q8_0, row.length);
 */
import { QuantError } from '../errors.js';
import { dequantizeF16, quantizeF16 } from './f16.js';
import { dequantizeF32, quantizeF32 } from './f32.js';
import { dequantizeQ4_0, quantizeQ4_0 } from './q4_0.js';
import { dequantizeQ4_1, quantizeQ4_1 } from './q4_1.js';
import { dequantizeQ4_K, quantizeQ4_K } from './q4_k.js';
import { dequantizeQ5_0, quantizeQ5_0 } from './q5_0.js';
import { dequantizeQ6_K, quantizeQ6_K } from './q6_k.js';
import { dequantizeQ8_0, quantizeQ8_0 } from './q8_0.js';
import { type GgmlType, GGML_TYPE, ggmlTypeInfo, tensorBytes } from './types.js';

type Quantize = (x: Float32Array) => Uint8Array;
type Dequantize = (bytes: Uint8Array, n: number) => Float32Array;

const CODECS: Record<GgmlType, readonly [Quantize, Dequantize]> = {
  [GGML_TYPE.F32]: [quantizeF32, dequantizeF32],
  [GGML_TYPE.F16]: [quantizeF16, dequantizeF16],
  [GGML_TYPE.Q4_0]: [quantizeQ4_0, dequantizeQ4_0],
  [GGML_TYPE.Q4_1]: [quantizeQ4_1, dequantizeQ4_1],
  [GGML_TYPE.Q5_0]: [quantizeQ5_0, dequantizeQ5_0],
  [GGML_TYPE.Q8_0]: [quantizeQ8_0, dequantizeQ8_0],
  [GGML_TYPE.Q4_K]: [quantizeQ4_K, dequantizeQ4_K],
  [GGML_TYPE.Q6_K]: [quantizeQ6_K, dequantizeQ6_K],
};

/**
 * Quantize `f32` (any number of whole blocks: a row, or several rows back to back) to `type`'s
 * block bytes, following ggml's reference quantizer (`quantize_row_*_ref`) bit for bit.
 * Throws QuantError GGUF_UNSUPPORTED for an unknown type, INVALID_ARGUMENT when the length is
 * not a multiple of the block size.
 */
export function quantizeRow(type: number, f32: Float32Array): Uint8Array {
  tensorBytes(type, f32.length); // validates type and length
  return CODECS[type as GgmlType][0](f32);
}

/**
 * Decode `n` values of `type` from `bytes` (`dequantize_row_*`). `bytes` must hold at least
 * `tensorBytes(type, n)` bytes (extra bytes are ignored); anything shorter is INVALID_ARGUMENT,
 * so a hostile file never reads out of bounds.
 */
export function dequantizeRow(type: number, bytes: Uint8Array, n: number): Float32Array {
  const need = tensorBytes(type, n);
  if (bytes.length < need) {
    throw new QuantError(
      'INVALID_ARGUMENT',
      `${ggmlTypeInfo(type).name}: ${n} elements need ${need} bytes, got ${bytes.length}`,
    );
  }
  return CODECS[type as GgmlType][1](bytes, n);
}
