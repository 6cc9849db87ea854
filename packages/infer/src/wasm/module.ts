/**
 * The engine's compiled wasm module and its instantiation on a shared memory. Every thread
 * (the main one and each worker) instantiates the same module on the same memory.
 *
 *   const memory = createMemory(256);                 // 256 pages = 16 MiB, shared
 *   const wasm = instantiate(memory);
 *   wasm.matmul(0, w, x, y, rows, cols, 1, 0, rows);  // f32 matrix-vector product
 */
import { ENGINE_WASM_BASE64 } from './engine.wasm.generated.js';

/** Exports of assembly/index.ts (pointers are byte offsets into the shared memory). */
export interface EngineExports {
  matmul(fmt: number, w: number, x: number, y: number, rows: number, cols: number, n: number, r0: number, r1: number): void;
  /**
   * matmul with x quantized as `fmt` wants it (q8Kind): Q8 (quantize_q8) for q8_0 / q4_0 / q4_1 /
   * q5_0, Q8_K (quantize_q8k) for q4_K / q6_K — ggml's integer dots. Traps on f32 / f16.
   */
  matmul_q8(fmt: number, w: number, xq: number, y: number, rows: number, cols: number, n: number, r0: number, r1: number): void;
  /** Tokens [t0, t1) of x f32 [n, cols] → Q8 at q (blocks of 32 { f32 d; f32 s; i8 q[32] }; ggml quantize_row_q8_1 semantics). */
  quantize_q8(x: number, q: number, cols: number, t0: number, t1: number): void;
  /** Tokens [t0, t1) of x → Q8_K at q (blocks of 256 { f32 d; i8 q[256]; i16 bsums[16] }; ggml quantize_row_q8_K). */
  quantize_q8k(x: number, q: number, cols: number, t0: number, t1: number): void;
  /** Bytes of one token's Q8 activations: cols / 32 · 40. */
  q8RowBytes(cols: number): number;
  /** Bytes of one token's Q8_K activations: cols / 256 · 292. */
  q8kRowBytes(cols: number): number;
  /** The activations fmt's integer-dot kernel wants: 1 Q8 (q8_0, q4_0, q4_1, q5_0), 2 Q8_K (q4_K, q6_K), 0 none. */
  q8Kind(fmt: number): number;
  /** The whole model for one batch record (src/engine/layout.ts): embeddings → layers → head. */
  forward(model: number, batch: number): void;
  /** The same as thread tid of nth (all threads call it together), barrier record at `bar`. */
  forward_thread(model: number, batch: number, tid: number, nth: number, bar: number): void;
}

/** wasm32 ceiling: 65,536 pages of 64 KiB. */
export const MAX_PAGES = 65536;
export const PAGE_BYTES = 65536;

let compiled: WebAssembly.Module | null = null;

/** The compiled module (compiled once per process; a Module can be posted to workers). */
export function engineModule(): WebAssembly.Module {
  compiled ??= new WebAssembly.Module(Buffer.from(ENGINE_WASM_BASE64, 'base64'));
  return compiled;
}

/** A shared memory of `pages` pages that can grow to 4 GiB. */
export function createMemory(pages: number): WebAssembly.Memory {
  return new WebAssembly.Memory({ initial: pages, maximum: MAX_PAGES, shared: true });
}

/** Instantiates the engine module on `memory`. */
export function instantiate(memory: WebAssembly.Memory, module: WebAssembly.Module = engineModule()): EngineExports {
  const env = { memory, abort: () => {} };
  return new WebAssembly.Instance(module, { env }).exports as unknown as EngineExports;
}
