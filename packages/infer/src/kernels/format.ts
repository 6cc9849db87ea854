/**
 * The weight formats the engine's matmul kernels run (assembly/kernels), by name, with the ggml
 * facts the engine needs to lay rows out: type id (the kernel's `fmt`), block size and bytes per
 * block — taken from @llm/quant's ggml type table, not restated here.
 *
 *   formatInfo('q8_0');          // → { name: 'q8_0', id: 8, blockSize: 32, blockBytes: 34 }
 *   rowBytes('q4_k', 512);       // → 288 (2 super-blocks × 144 bytes)
 *   formatOfId(12);              // → 'q4_k'
 */
import { GGML_TYPE, ggmlTypeInfo } from '@llm/quant';
import { InferError } from '../errors.js';

/** Weight formats of the kernels (lower-case ggml type names). */
export const KERNEL_FORMATS = ['f32', 'f16', 'q8_0', 'q4_0', 'q4_1', 'q5_0', 'q4_k', 'q6_k'] as const;
export type KernelFormat = (typeof KERNEL_FORMATS)[number];

export interface FormatInfo {
  readonly name: KernelFormat;
  /** ggml type id = the kernel's `fmt` argument. */
  readonly id: number;
  /** Elements per block (1 for f32/f16, 32, or 256 for the K-quants). */
  readonly blockSize: number;
  /** Bytes per block. */
  readonly blockBytes: number;
}

const IDS: Record<KernelFormat, number> = {
  f32: GGML_TYPE.F32,
  f16: GGML_TYPE.F16,
  q8_0: GGML_TYPE.Q8_0,
  q4_0: GGML_TYPE.Q4_0,
  q4_1: GGML_TYPE.Q4_1,
  q5_0: GGML_TYPE.Q5_0,
  q4_k: GGML_TYPE.Q4_K,
  q6_k: GGML_TYPE.Q6_K,
};

/** True when `name` is a format the kernels run. */
export function isKernelFormat(name: string): name is KernelFormat {
  return (KERNEL_FORMATS as readonly string[]).includes(name);
}

/** Block geometry and ggml id of `fmt`; UNSUPPORTED_FORMAT for any other name. */
export function formatInfo(fmt: string): FormatInfo {
  if (!isKernelFormat(fmt)) {
    throw new InferError('UNSUPPORTED_FORMAT', `weights "${fmt}" are not supported; use one of ${KERNEL_FORMATS.join(', ')}.`);
  }
  const t = ggmlTypeInfo(IDS[fmt]);
  return { name: fmt, id: t.id, blockSize: t.blockSize, blockBytes: t.typeSize };
}

/** The format whose ggml type id is `id`; UNSUPPORTED_FORMAT when the kernels do not run it. */
export function formatOfId(id: number): KernelFormat {
  const name = KERNEL_FORMATS.find((f) => IDS[f] === id);
  if (name === undefined) {
    throw new InferError('UNSUPPORTED_FORMAT', `ggml type id ${id} has no kernel; supported ids: ${KERNEL_FORMATS.map((f) => `${f}=${IDS[f]}`).join(', ')}.`);
  }
  return name;
}

/**
 * Bytes of one weight row of `cols` elements in `fmt` (the row stride the kernels assume).
 * INVALID_ARGUMENT when `cols` is not a positive whole number of blocks.
 */
export function rowBytes(fmt: string, cols: number): number {
  const info = formatInfo(fmt);
  if (!Number.isSafeInteger(cols) || cols <= 0 || cols % info.blockSize !== 0) {
    throw new InferError('INVALID_ARGUMENT', `${fmt} rows are whole blocks of ${info.blockSize} elements; ${cols} columns is not (pad the row or pick another format).`);
  }
  return (cols / info.blockSize) * info.blockBytes;
}

/**
 * The engine's private weight formats (assembly/kernels q8_f32.ts, q4_z.ts, nf4.ts): how
 * @llm/quant's non-ggml schemes run (src/schemes). Ids ≥ 100 never collide with ggml type ids;
 * they are not GGUF types and compileForInference's `weights` option does not take them.
 *
 *   SCHEME_FORMATS.nf4   // → { id: 102, blockSize: 32, blockBytes: 20 }: { f32 absmax; u8 qs[16] }
 */
export const SCHEME_FORMATS = {
  /** int8 per channel: { f32 d; i8 qs[32] }, w = q · d. */
  q8_f32: { id: 100, blockSize: 32, blockBytes: 36 },
  /** int4 groups / GPTQ / AWQ: { f32 d; u8 z; u8 pad[3]; u8 qs[16] } (ggml nibble order), w = (q − z) · d. */
  q4_z: { id: 101, blockSize: 32, blockBytes: 24 },
  /** NF4: { f32 absmax; u8 qs[16] } (bitsandbytes' bytes: element 2k in the high nibble), w = NF4[q] · absmax. */
  nf4: { id: 102, blockSize: 32, blockBytes: 20 },
} as const;
export type SchemeFormat = keyof typeof SCHEME_FORMATS;
