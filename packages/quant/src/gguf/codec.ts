/**
 * Float32 tensors ⇄ ggml tensor bytes through src/ggml's quantizeRow / dequantizeRow (F32, F16,
 * Q4_0, Q4_1, Q5_0, Q8_0, Q4_K, Q6_K). A tensor is a whole number of rows and no ggml block spans
 * two rows, so a tensor is encoded as one long row once its row length is checked.
 */
import { QuantError } from '../errors.js';
import { dequantizeRow, isSupportedGgmlType, quantizeRow } from '../ggml/index.js';
import { GGML_TYPE_NAMES, GGML_TYPE_SIZES } from './format.js';

export const canEncode = (type: number): boolean => isSupportedGgmlType(type);

/** A row-major float32 tensor whose rows have `rowLength` elements → ggml bytes. */
export function encodeTensor(type: number, x: Float32Array, rowLength: number): Uint8Array {
  if (!isSupportedGgmlType(type)) throw new QuantError('GGUF_UNSUPPORTED', `GGUF: writing ggml type ${GGML_TYPE_NAMES[type] ?? type} is not supported`);
  const bs = GGML_TYPE_SIZES[type]![0];
  if (rowLength % bs !== 0) throw new QuantError('INVALID_ARGUMENT', `GGUF: rows of ${rowLength} elements are not a multiple of ${GGML_TYPE_NAMES[type]}'s block of ${bs}`);
  return quantizeRow(type, x);
}

/** ggml bytes → float32 (n elements). */
export function decodeTensor(type: number, bytes: Uint8Array, n: number): Float32Array {
  if (!isSupportedGgmlType(type)) throw new QuantError('GGUF_UNSUPPORTED', `GGUF: reading ggml type ${GGML_TYPE_NAMES[type] ?? type} is not supported (F32, F16, Q4_0, Q4_1, Q5_0, Q8_0, Q4_K, Q6_K are)`);
  return dequantizeRow(type, bytes, n);
}
