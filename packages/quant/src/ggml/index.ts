/** ggml block formats: type table, row quantize/dequantize, llama.cpp's Q4_K_M type mix. */
export { GGML_TYPE, GGML_TYPES, QK_K, ggmlTypeInfo, isSupportedGgmlType, tensorBytes } from './types.js';
export type { GgmlType, GgmlTypeInfo, GgmlTypeName } from './types.js';
export { quantizeRow, dequantizeRow } from './row.js';
export { q4kmTypeFor, useMoreBits } from './q4km.js';
export type { Q4kmOptions } from './q4km.js';
