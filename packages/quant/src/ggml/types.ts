/**
 * ggml tensor types we read and write, with ggml's type ids and block geometry
 * (ggml/include/ggml.h `enum ggml_type`, ggml/src/ggml.c `type_traits`, ggml/src/ggml-common.h).
 *
 * A row of `n` elements of type `t` is `n / blockSize` blocks of `typeSize` bytes each:
 *
 *   tensorBytes(GGML_TYPE.Q8_0, 64)  // → 68  (2 blocks × 34 bytes)
 *   tensorBytes(GGML_TYPE.Q4_K, 512) // → 288 (2 super-blocks × 144 bytes)
 */
import { QuantError } from '../errors.js';

/** ggml type ids (stable on disk: GGUF stores them in tensor infos). */
export const GGML_TYPE = {
  F32: 0,
  F16: 1,
  Q4_0: 2,
  Q4_1: 3,
  Q5_0: 6,
  Q8_0: 8,
  Q4_K: 12,
  Q6_K: 14,
} as const;

export type GgmlTypeName = keyof typeof GGML_TYPE;
export type GgmlType = (typeof GGML_TYPE)[GgmlTypeName];

export interface GgmlTypeInfo {
  /** ggml type id. */
  readonly id: GgmlType;
  /** ggml's name (`ggml_type_name`): `f32`, `f16`, `q4_0`, `q4_1`, `q5_0`, `q8_0`, `q4_K`, `q6_K`. */
  readonly name: string;
  /** Elements per block (1 for F32/F16, 32 for Q*_0/Q*_1, 256 = QK_K for K-quants). */
  readonly blockSize: number;
  /** Bytes per block. */
  readonly typeSize: number;
}

/** QK_K: elements per K-quant super-block. */
export const QK_K = 256;

/** The type table, keyed by ggml type id. */
export const GGML_TYPES: Readonly<Record<GgmlType, GgmlTypeInfo>> = {
  0: { id: 0, name: 'f32', blockSize: 1, typeSize: 4 },
  1: { id: 1, name: 'f16', blockSize: 1, typeSize: 2 },
  // block_q4_0 { ggml_half d; uint8_t qs[16]; }
  2: { id: 2, name: 'q4_0', blockSize: 32, typeSize: 18 },
  // block_q4_1 { ggml_half d; ggml_half m; uint8_t qs[16]; }
  3: { id: 3, name: 'q4_1', blockSize: 32, typeSize: 20 },
  // block_q5_0 { ggml_half d; uint8_t qh[4]; uint8_t qs[16]; }
  6: { id: 6, name: 'q5_0', blockSize: 32, typeSize: 22 },
  // block_q8_0 { ggml_half d; int8_t qs[32]; }
  8: { id: 8, name: 'q8_0', blockSize: 32, typeSize: 34 },
  // block_q4_K { ggml_half d; ggml_half dmin; uint8_t scales[12]; uint8_t qs[128]; }
  12: { id: 12, name: 'q4_K', blockSize: QK_K, typeSize: 144 },
  // block_q6_K { uint8_t ql[128]; uint8_t qh[64]; int8_t scales[16]; ggml_half d; }
  14: { id: 14, name: 'q6_K', blockSize: QK_K, typeSize: 210 },
};

/** True when `id` is a ggml type id this package implements. */
export function isSupportedGgmlType(id: number): id is GgmlType {
  return Object.prototype.hasOwnProperty.call(GGML_TYPES, id);
}

/** The table entry for `type`; a GGUF_UNSUPPORTED QuantError for any other id. */
export function ggmlTypeInfo(type: number): GgmlTypeInfo {
  if (!isSupportedGgmlType(type)) {
    throw new QuantError(
      'GGUF_UNSUPPORTED',
      `ggml type id ${String(type)} is not supported; supported: ${Object.values(GGML_TYPES)
        .map((t) => `${t.name}=${t.id}`)
        .join(', ')}`,
    );
  }
  return GGML_TYPES[type];
}

/**
 * Bytes that `nElements` values of `type` occupy. `nElements` must be a whole number of blocks
 * (INVALID_ARGUMENT otherwise), as ggml requires of every row.
 */
export function tensorBytes(type: number, nElements: number): number {
  const info = ggmlTypeInfo(type);
  if (!Number.isSafeInteger(nElements) || nElements < 0) {
    throw new QuantError('INVALID_ARGUMENT', `element count must be a non-negative integer, got ${String(nElements)}`);
  }
  if (nElements % info.blockSize !== 0) {
    throw new QuantError(
      'INVALID_ARGUMENT',
      `${info.name} stores blocks of ${info.blockSize} elements; ${nElements} is not a multiple of ${info.blockSize}`,
    );
  }
  return (nElements / info.blockSize) * info.typeSize;
}
