import { describe, expect, it } from 'vitest';
import { createMemory, instantiate } from './module.js';

describe('engine wasm module', () => {
  it('instantiates on a shared memory and runs the f32 matmul (hand-computed)', () => {
    const memory = createMemory(1);
    const wasm = instantiate(memory);
    const f = new Float32Array(memory.buffer);
    // W [2, 3] at 0, x [1, 3] at 64, y [1, 2] at 128 (byte offsets).
    f.set([1, 2, 3, 4, 5, 6], 0);
    f.set([1, 0, -1], 16);
    wasm.matmul(0, 0, 64, 128, 2, 3, 1, 0, 2);
    expect(Array.from(f.subarray(32, 34))).toEqual([-2, -2]);
  });
});
