/**
 * GGUF v3 container facts (ggml's docs/gguf.md; llama.cpp gguf-py/gguf/constants.py):
 *
 *   "GGUF" | u32 version=3 | u64 n_tensors | u64 n_kv | KV pairs | tensor infos | pad to alignment | data
 *   KV: string key, u32 value type, value. string = u64 length + UTF-8 bytes.
 *   array = u32 item type + u64 count + items. Tensor info: string name, u32 n_dims, u64 ne[n_dims]
 *   (ne[0] is the innermost/fastest dimension: the reverse of a row-major shape), u32 ggml type,
 *   u64 offset (relative to the data section, a multiple of the alignment).
 */
export const GGUF_MAGIC = 0x46554747; // "GGUF" read as little-endian u32
export const GGUF_VERSION = 3;
export const GGUF_DEFAULT_ALIGNMENT = 32;

/** Metadata value types 0..12. */
export const GgufValueType = {
  UINT8: 0,
  INT8: 1,
  UINT16: 2,
  INT16: 3,
  UINT32: 4,
  INT32: 5,
  FLOAT32: 6,
  BOOL: 7,
  STRING: 8,
  ARRAY: 9,
  UINT64: 10,
  INT64: 11,
  FLOAT64: 12,
} as const;
export type GgufValueType = (typeof GgufValueType)[keyof typeof GgufValueType];

/** Fixed byte size of a scalar value type (strings and arrays: undefined). */
export const SCALAR_SIZE: Readonly<Record<number, number>> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };

/** A scalar or string metadata value, with its GGUF type (so files round-trip byte for byte). */
export type GgufScalar =
  | { type: 0 | 1 | 2 | 3 | 4 | 5 | 6 | 12; value: number }
  | { type: 10 | 11; value: bigint }
  | { type: 7; value: boolean }
  | { type: 8; value: string };
/** An array value: every item of one type (nested arrays allowed). */
export type GgufArray = { type: 9; itemType: GgufValueType; value: Array<number | bigint | boolean | string | GgufArray> };
export type GgufValue = GgufScalar | GgufArray;

/** Shorthands for writing metadata. */
export const gv = {
  u8: (value: number): GgufValue => ({ type: 0, value }),
  u32: (value: number): GgufValue => ({ type: 4, value }),
  i32: (value: number): GgufValue => ({ type: 5, value }),
  f32: (value: number): GgufValue => ({ type: 6, value }),
  u64: (value: bigint | number): GgufValue => ({ type: 10, value: BigInt(value) }),
  bool: (value: boolean): GgufValue => ({ type: 7, value }),
  str: (value: string): GgufValue => ({ type: 8, value }),
  strs: (value: string[]): GgufValue => ({ type: 9, itemType: 8, value }),
  i32s: (value: number[]): GgufValue => ({ type: 9, itemType: 5, value }),
  f32s: (value: number[]): GgufValue => ({ type: 9, itemType: 6, value }),
};

/**
 * ggml tensor types GGUF files use: [elements per block, bytes per block]. Sizes only (for
 * bounds checks); the block formats themselves live in src/ggml/.
 */
export const GGML_TYPE_SIZES: Readonly<Record<number, readonly [number, number]>> = {
  0: [1, 4], // F32
  1: [1, 2], // F16
  2: [32, 18], // Q4_0
  3: [32, 20], // Q4_1
  6: [32, 22], // Q5_0
  7: [32, 24], // Q5_1
  8: [32, 34], // Q8_0
  9: [32, 36], // Q8_1
  10: [256, 84], // Q2_K
  11: [256, 110], // Q3_K
  12: [256, 144], // Q4_K
  13: [256, 176], // Q5_K
  14: [256, 210], // Q6_K
  15: [256, 292], // Q8_K
  24: [1, 1], // I8
  25: [1, 2], // I16
  26: [1, 4], // I32
  27: [1, 8], // I64
  28: [1, 8], // F64
  30: [1, 2], // BF16
};
export const GGML_TYPE_NAMES: Readonly<Record<number, string>> = {
  0: 'F32', 1: 'F16', 2: 'Q4_0', 3: 'Q4_1', 6: 'Q5_0', 7: 'Q5_1', 8: 'Q8_0', 9: 'Q8_1', 10: 'Q2_K', 11: 'Q3_K',
  12: 'Q4_K', 13: 'Q5_K', 14: 'Q6_K', 15: 'Q8_K', 24: 'I8', 25: 'I16', 26: 'I32', 27: 'I64', 28: 'F64', 30: 'BF16',
};

/** Documented limits the reader enforces before allocating anything. */
export interface GgufLimits {
  /** Largest file read (bytes). */
  maxFileBytes: number;
  maxTensors: number;
  maxKv: number;
  /** Longest string (key, value, tensor name) in bytes. */
  maxStringBytes: number;
  /** Most items in one metadata array. */
  maxArrayLength: number;
  /** Deepest array nesting. */
  maxArrayDepth: number;
  /** Most dimensions of a tensor (ggml's GGML_MAX_DIMS). */
  maxDims: number;
}
export const GGUF_LIMITS: Readonly<GgufLimits> = Object.freeze({
  maxFileBytes: 2 ** 32 - 1,
  maxTensors: 1 << 16,
  maxKv: 1 << 16,
  maxStringBytes: 1 << 24,
  maxArrayLength: 1 << 24,
  maxArrayDepth: 2,
  maxDims: 4,
});

export interface GgufTensorInfo {
  name: string;
  /** ggml order: ne[0] innermost. */
  ne: number[];
  /** Row-major shape (ne reversed). */
  shape: number[];
  type: number;
  /** Offset in the data section. */
  offset: number;
  /** Bytes of the tensor's data. */
  byteLength: number;
}

/** Bytes of n elements of a ggml type (n must be a multiple of the block size). */
export function ggmlTypeBytes(type: number, n: number): number {
  const s = GGML_TYPE_SIZES[type];
  if (!s) throw new Error(`unknown ggml type ${type}`);
  return (n / s[0]) * s[1];
}

export const alignUp = (n: number, a: number): number => Math.ceil(n / a) * a;
