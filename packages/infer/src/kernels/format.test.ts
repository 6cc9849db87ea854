import { describe, expect, it } from 'vitest';
import { expectError } from '@llm/kit';
import { InferError } from '../errors.js';
import { createMemory, instantiate } from '../wasm/module.js';
import { KERNEL_FORMATS, formatInfo, formatOfId, rowBytes } from './format.js';

describe('formatInfo / rowBytes', () => {
  it('gives ggml block geometry (hand-checked against ggml-common.h)', () => {
    expect(formatInfo('q8_0')).toEqual({ name: 'q8_0', id: 8, blockSize: 32, blockBytes: 34 });
    expect(formatInfo('q4_k')).toEqual({ name: 'q4_k', id: 12, blockSize: 256, blockBytes: 144 });
    expect(rowBytes('f32', 3)).toBe(12);
    expect(rowBytes('f16', 3)).toBe(6);
    expect(rowBytes('q4_0', 64)).toBe(36);
    expect(rowBytes('q4_1', 64)).toBe(40);
    expect(rowBytes('q5_0', 64)).toBe(44);
    expect(rowBytes('q4_k', 512)).toBe(288);
    expect(rowBytes('q6_k', 512)).toBe(420);
    expect(formatOfId(14)).toBe('q6_k');
  });

  it('agrees with the wasm module on every format', () => {
    const wasm = instantiate(createMemory(1)) as unknown as { weightRowBytes(fmt: number, cols: number): number };
    for (const f of KERNEL_FORMATS) {
      for (const cols of [256, 768, 3072]) expect(wasm.weightRowBytes(formatInfo(f).id, cols), f).toBe(rowBytes(f, cols));
    }
    expect(wasm.weightRowBytes(10, 256)).toBe(-1); // q2_K: no kernel
  });

  it('matmul traps on a format id without a kernel (the host validates with formatInfo first)', () => {
    const wasm = instantiate(createMemory(2));
    expect(() => wasm.matmul(10, 65536, 65536, 65536 + 4096, 1, 256, 1, 0, 1)).toThrow(WebAssembly.RuntimeError);
  });

  it('rejects unknown formats and ragged rows with typed errors', () => {
    expectError(() => formatInfo('q3_k'), 'UNSUPPORTED_FORMAT', /not supported/, InferError);
    expectError(() => formatOfId(10), 'UNSUPPORTED_FORMAT', /no kernel/, InferError);
    expectError(() => rowBytes('q8_0', 48), 'INVALID_ARGUMENT', /whole blocks of 32/, InferError);
  });
});
