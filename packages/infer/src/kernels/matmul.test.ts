// The SIMD weight kernels (assembly/kernels) against an independent reference: @llm/quant's
// ggml-verified quantizeRow / dequantizeRow and a float64 dot product here.
import { describe, expect, it } from 'vitest';
import { dequantizeRow, quantizeRow } from '@llm/quant';
import { randomArray, rng } from '@llm/kit';
import { createMemory, instantiate } from '../wasm/module.js';
import { KERNEL_FORMATS, type KernelFormat, formatInfo, rowBytes } from './format.js';
import { SENTINEL, refDot, rowsError } from '../testing/matmul-check.js';

const memory = createMemory(256); // 16 MiB
const wasm = instantiate(memory);
const BASE = 65536; // the engine's scratch lies below; the kernels' operands start here
const GUARD = 64; // bytes checked on each side of y

/** Row-major f32 weights [rows, cols] whose 32-element groups have scales 0.05..2 and offsets (exercises 6-bit scales, mins). */
function weights(rows: number, cols: number, seed: number, scale = 1): Float32Array {
  const w = randomArray(rows * cols, seed);
  const r = rng(seed + 1);
  for (let g = 0; g < w.length; g += 32) {
    const s = (0.05 + 2 * r()) * scale;
    const off = (r() - 0.5) * 0.5 * scale;
    for (let i = g; i < Math.min(g + 32, w.length); i++) w[i] = w[i]! * s + off;
  }
  return w;
}

interface Case {
  rows: number;
  cols: number;
  n: number;
  r0: number;
  r1: number;
}

/**
 * Runs matmul(fmt) on quantized weights and checks every y[t, r] against the reference:
 * |y − ref| ≤ 1e-6 · Σ|w·x| inside [r0, r1), sentinel untouched outside it and around y,
 * weights, x and the reserved bytes below 64 KiB unchanged.
 */
function check(fmt: KernelFormat, c: Case, seed: number, scale = 1): void {
  const { id } = formatInfo(fmt);
  const rb = rowBytes(fmt, c.cols);
  const wf = weights(c.rows, c.cols, seed, scale);
  const wq = new Uint8Array(c.rows * rb);
  for (let r = 0; r < c.rows; r++) wq.set(quantizeRow(id, wf.subarray(r * c.cols, (r + 1) * c.cols)), r * rb);
  const x = randomArray(c.n * c.cols, seed + 7);

  // Layout: W at BASE (odd-aligned rows are fine), then x, then y with guards, all byte offsets.
  const wAt = BASE;
  const xAt = (wAt + wq.length + 15) & ~15;
  const yAt = xAt + x.length * 4 + GUARD;
  const yLen = c.n * c.rows;
  const bytes = new Uint8Array(memory.buffer);
  bytes.set(wq, wAt);
  new Float32Array(memory.buffer, xAt, x.length).set(x);
  const yView = new Float32Array(memory.buffer, yAt - GUARD, yLen + (2 * GUARD) / 4);
  yView.fill(SENTINEL);
  const scratch = bytes.slice(0, BASE); // the engine's reserved bytes: must stay as they were
  for (let i = 0; i < BASE; i += 4096) scratch[i] = (i >> 12) & 0xff;
  bytes.set(scratch.subarray(0, BASE), 0);

  wasm.matmul(id, wAt, xAt, yAt, c.rows, c.cols, c.n, c.r0, c.r1);
  expect(Buffer.compare(bytes.subarray(0, BASE), scratch), 'bytes below 64 KiB changed').toBe(0);

  const deq: Float32Array[] = [];
  for (let r = 0; r < c.rows; r++) deq.push(dequantizeRow(id, wq.subarray(r * rb, (r + 1) * rb), c.cols));
  const worst = rowsError(c, (t, r) => yView[GUARD / 4 + t * c.rows + r]!, (t, r) => refDot(deq[r]!, x, t * c.cols));
  expect(worst, `${fmt} ${JSON.stringify(c)}: worst error / Σ|w·x|`).toBeLessThanOrEqual(1e-6);
  for (let i = 0; i < GUARD / 4; i++) {
    expect(yView[i]).toBe(SENTINEL);
    expect(yView[GUARD / 4 + yLen + i]).toBe(SENTINEL);
  }
  expect(bytes.subarray(wAt, wAt + wq.length)).toEqual(wq);
  expect(new Float32Array(memory.buffer, xAt, x.length)).toEqual(x);
}

/** Column counts per block size: one block, a count that is not a multiple of 4 or 16 blocks, a model width. */
function colsFor(fmt: KernelFormat): [number, number, number, number] {
  const bs = formatInfo(fmt).blockSize;
  // the 4th is over the prefill K chunk (1024 columns): chunks of 512 and a short last one
  if (bs === 1) return [37, 100, 770, 1030]; // not multiples of the 16-column step, nor (37, 1030) of 4
  if (bs === 32) return [32, 96, 800, 1056]; // 1, 3, 25, 33 blocks
  return [256, 768, 1280, 1280]; // 1, 3, 5 super-blocks
}

describe.each(KERNEL_FORMATS.map((f) => [f] as const))('matmul %s', (fmt) => {
  const [c1, c2, c3, c4] = colsFor(fmt);
  it.each([
    { rows: 5, cols: c1, n: 1, r0: 0, r1: 5 },
    { rows: 13, cols: c2, n: 1, r0: 2, r1: 11 },
    { rows: 1, cols: c3, n: 1, r0: 0, r1: 1 },
    { rows: 7, cols: c2, n: 3, r0: 0, r1: 7 },
    { rows: 13, cols: c3, n: 8, r0: 1, r1: 12 },
    { rows: 6, cols: c1, n: 33, r0: 0, r1: 6 },
    { rows: 9, cols: c2, n: 33, r0: 3, r1: 8 },
    { rows: 3, cols: c1, n: 2, r0: 1, r1: 2 },
    { rows: 61, cols: c3, n: 5, r0: 1, r1: 60 }, // several row blocks of the prefill tiling
    { rows: 7, cols: c4, n: 6, r0: 1, r1: 7 }, // several K chunks
    { rows: 5, cols: c4, n: 1, r0: 0, r1: 4 },
  ])('rows $rows cols $cols n $n rows [$r0, $r1)', (c) => {
    check(fmt, c, 1000 + c.rows * 31 + c.cols + c.n);
  });

  it('writes nothing for an empty row range or n = 0', () => {
    const cols = c1;
    const rows = 4;
    const yAt = BASE + 1024 * 1024;
    const y = new Float32Array(memory.buffer, yAt, rows * 2);
    y.fill(SENTINEL);
    wasm.matmul(formatInfo(fmt).id, BASE, BASE + 512 * 1024, yAt, rows, cols, 2, 3, 3);
    wasm.matmul(formatInfo(fmt).id, BASE, BASE + 512 * 1024, yAt, rows, cols, 0, 0, rows);
    expect(Array.from(y)).toEqual(new Array(rows * 2).fill(SENTINEL));
  });
});

describe.each([['f32'], ['f16']] as const)('matmul %s tile edges', (fmt) => {
  // every token count of the decode and prefill tilings, ragged rows and row ranges
  it.each(Array.from({ length: 33 }, (_, i) => i + 1))('n %i', (n) => {
    check(fmt, { rows: 7, cols: 35, n, r0: 1, r1: 6 }, 500 + n);
    check(fmt, { rows: 10, cols: 20, n, r0: 0, r1: 10 }, 600 + n);
  });
  // column tails of the 16- and 4-column steps
  it.each(Array.from({ length: 20 }, (_, i) => i + 1))('cols %i', (cols) => {
    check(fmt, { rows: 5, cols, n: 1, r0: 0, r1: 5 }, 700 + cols);
    check(fmt, { rows: 9, cols, n: 6, r0: 2, r1: 9 }, 800 + cols);
  });
});

describe('matmul f32 decode of 2 MiB matrices (gemv: rows4 over four quarters, a ragged quad)', () => {
  it.each([
    { rows: 700, cols: 771, n: 1, r0: 0, r1: 700 }, // 771 = 48·16 + 3: scalar tail
    { rows: 690, cols: 775, n: 2, r0: 3, r1: 687 }, // 775 = 48·16 + 4 + 3: a 4-column step too
  ])('rows $rows cols $cols n $n rows [$r0, $r1)', (c) => {
    check('f32', c, 900 + c.cols);
  });
});

describe.each([['f32'], ['f16']] as const)('matmul %s row splits', (fmt) => {
  // threads split [0, rows) into ranges: a row's result must not depend on the range it is in
  it.each([1, 2, 5, 8])('n %i: ranges [0, 13) + [13, 37) give the bits of [0, 37)', (n) => {
    const rows = 37;
    const cols = 100;
    const { id } = formatInfo(fmt);
    const rb = rowBytes(fmt, cols);
    const wf = weights(rows, cols, 42);
    const bytes = new Uint8Array(memory.buffer);
    for (let r = 0; r < rows; r++) bytes.set(quantizeRow(id, wf.subarray(r * cols, (r + 1) * cols)), BASE + r * rb);
    const xAt = (BASE + rows * rb + 15) & ~15;
    new Float32Array(memory.buffer, xAt, n * cols).set(randomArray(n * cols, 43));
    const yAt = xAt + n * cols * 4;
    const y = new Float32Array(memory.buffer, yAt, n * rows);
    wasm.matmul(id, BASE, xAt, yAt, rows, cols, n, 0, rows);
    const whole = y.slice();
    y.fill(0);
    wasm.matmul(id, BASE, xAt, yAt, rows, cols, n, 0, 13);
    wasm.matmul(id, BASE, xAt, yAt, rows, cols, n, 13, rows);
    expect(Buffer.compare(Buffer.from(y.buffer, yAt, y.byteLength), Buffer.from(whole.buffer))).toBe(0);
  });
});

describe('matmul f16 edge values', () => {
  it('subnormal and tiny halves dequantize exactly (weights ~1e-5)', () => {
    check('f16', { rows: 6, cols: 40, n: 1, r0: 0, r1: 6 }, 5, 1e-5);
    check('f16', { rows: 6, cols: 40, n: 4, r0: 0, r1: 6 }, 6, 1e-5);
  });

  it('hand-computed: halves 1, 2, -0.5, 65504 and a subnormal', () => {
    // W [1, 5] f16 = [1, 2, -0.5, 65504, 2^-24]; x = [3, 4, 2, 1/65504, 2^24] → 3 + 8 − 1 + 1 + 1 = 12.
    const w = Uint16Array.of(0x3c00, 0x4000, 0xb800, 0x7bff, 0x0001);
    new Uint8Array(memory.buffer).set(new Uint8Array(w.buffer), BASE);
    new Float32Array(memory.buffer, BASE + 64, 5).set([3, 4, 2, 1 / 65504, 2 ** 24]);
    const y = new Float32Array(memory.buffer, BASE + 128, 1);
    wasm.matmul(1, BASE, BASE + 64, BASE + 128, 1, 5, 1, 0, 1);
    expect(y[0]).toBeCloseTo(12, 5);
  });
});

describe('quantized formats, hand-computed blocks', () => {
  it('q8_0: d = 1, qs = [2, -3, 0…] · x = [3, 1, …] → 3', () => {
    const block = new Uint8Array(34);
    block[1] = 0x3c; // d = 1.0
    block[2] = 2;
    block[3] = 0xfd; // -3
    new Uint8Array(memory.buffer).set(block, BASE);
    const x = new Float32Array(memory.buffer, BASE + 64, 32);
    x.fill(0);
    x[0] = 3;
    x[1] = 1;
    wasm.matmul(8, BASE, BASE + 64, BASE + 256, 1, 32, 1, 0, 1);
    expect(new Float32Array(memory.buffer, BASE + 256, 1)[0]).toBe(3);
  });

  it('q4_0: d = 1, qs[0] = 0xc0, other nibbles 8, x = ones → (0 − 8) + (12 − 8) = −4', () => {
    const block = new Uint8Array(18).fill(0x88);
    block[0] = 0;
    block[1] = 0x3c;
    block[2] = 0xc0;
    new Uint8Array(memory.buffer).set(block, BASE);
    new Float32Array(memory.buffer, BASE + 64, 32).fill(1);
    for (const n of [1, 2]) {
      if (n === 2) new Float32Array(memory.buffer, BASE + 64 + 128, 32).fill(2);
      wasm.matmul(2, BASE, BASE + 64, BASE + 512, 1, 32, n, 0, 1);
      const y = Array.from(new Float32Array(memory.buffer, BASE + 512, n));
      expect(y).toEqual(n === 1 ? [-4] : [-4, -8]);
    }
  });
});
