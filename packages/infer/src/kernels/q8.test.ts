// The Q8-activation path (assembly/kernels/q8act.ts, q8dot.ts) against the slow reference of
// ggml's C semantics in src/testing/ggml-q8.ts: quantization bit-exact, integer-dot matmul_q8
// within 1e-6 · Σ|block terms| of the float64 vec_dot.
import { describe, expect, it } from 'vitest';
import { quantizeRow } from '@llm/quant';
import { randomArray, rng } from '@llm/kit';
import { createMemory, instantiate } from '../wasm/module.js';
import { formatInfo, rowBytes } from './format.js';
import { Q8_BLOCK_BYTES, q8Bytes, quantizeQ8Ref, vecDotRef } from '../testing/ggml-q8.js';

const memory = createMemory(256); // 16 MiB
const wasm = instantiate(memory);
const BASE = 65536;
const SENTINEL = -12345.5;
const Q8_FORMATS = ['q8_0', 'q4_0', 'q4_1', 'q5_0'] as const;

/** Runs quantize_q8 over tokens [t0, t1) of x [n, cols]; returns the whole output region as bytes. */
function quantizeWasm(x: Float32Array, cols: number, t0: number, t1: number): Uint8Array {
  const n = x.length / cols;
  const qAt = BASE + x.length * 4 + 64;
  const qLen = n * (cols / 32) * Q8_BLOCK_BYTES;
  new Float32Array(memory.buffer, BASE, x.length).set(x);
  new Uint8Array(memory.buffer, qAt, qLen).fill(0xa5);
  wasm.quantize_q8(BASE, qAt, cols, t0, t1);
  return new Uint8Array(memory.buffer, qAt, qLen).slice();
}

/** Rows of 32-blocks with varied scales, some all-zero blocks and a few exact ties (x·id = k + 0.5). */
function activations(n: number, cols: number, seed: number): Float32Array {
  const x = randomArray(n * cols, seed);
  const r = rng(seed + 3);
  for (let b = 0; b < x.length; b += 32) {
    const kind = Math.floor(r() * 6);
    const s = [1, 1e-3, 1e4, 3e-6, 0, 1][kind]!;
    for (let j = b; j < b + 32; j++) x[j] = x[j]! * s;
    if (kind === 5) {
      // amax 127 → d = 1, id = 1: halves land exactly on .5 (roundf: away from zero)
      x[b] = 127;
      for (let j = 1; j < 32; j++) x[b + j] = (Math.floor(r() * 200) - 100) + 0.5;
    }
  }
  return x;
}

describe('quantize_q8 (ggml quantize_row_q8_0 / q8_1 reference semantics)', () => {
  it.each([
    { n: 1, cols: 32 },
    { n: 3, cols: 96 },
    { n: 5, cols: 800 },
  ])('bit-exact levels, d and s: n $n cols $cols', ({ n, cols }) => {
    const x = activations(n, cols, 11 + cols + n);
    const got = quantizeWasm(x, cols, 0, n);
    const want = new Uint8Array(got.length);
    for (let t = 0; t < n; t++) want.set(q8Bytes(quantizeQ8Ref(x.subarray(t * cols, (t + 1) * cols))), t * (cols / 32) * Q8_BLOCK_BYTES);
    expect(Buffer.compare(got, want)).toBe(0);
  });

  it('ties round away from zero; d and s are fp16 values; huge amax overflows d to inf as in ggml', () => {
    const x = new Float32Array(96);
    x.set([127, 2.5, -2.5, 0.5, -0.5, 126.5]); // block 0: d = 1
    x[32] = 1e7; x[33] = -5e6; // block 1: d = 78740 > 65504 → inf
    x[64] = 1e-5; x[65] = 3e-6; // block 2: d ≈ 7.9e-8, a subnormal half
    const got = quantizeWasm(x, 96, 0, 1);
    const dv = new DataView(got.buffer);
    const ref = quantizeQ8Ref(x);
    expect(Array.from(new Int8Array(got.buffer, 8, 6))).toEqual([127, 3, -3, 1, -1, 127]);
    expect(Array.from(ref.q.subarray(0, 6))).toEqual([127, 3, -3, 1, -1, 127]);
    expect(dv.getFloat32(0, true)).toBe(1);
    expect(dv.getFloat32(4, true)).toBe(254); // 127 + 3 − 3 + 1 − 1 + 127
    expect(dv.getFloat32(40, true)).toBe(Infinity);
    expect(Array.from(new Int8Array(got.buffer, 48, 2))).toEqual([127, -64]); // −63.5 → −64
    expect(dv.getFloat32(80, true)).toBe(ref.d[2]);
    expect(ref.d[2]! / 2 ** -24).toBe(Math.round(ref.d[2]! / 2 ** -24)); // a multiple of 2^-24
    expect(ref.d[2]).toBeGreaterThan(0);
  });

  it('writes only tokens [t0, t1)', () => {
    const x = activations(4, 64, 5);
    const got = quantizeWasm(x, 64, 1, 3);
    const row = 2 * Q8_BLOCK_BYTES;
    expect(got.subarray(0, row).every((b) => b === 0xa5)).toBe(true);
    expect(got.subarray(3 * row).every((b) => b === 0xa5)).toBe(true);
    expect(Buffer.compare(got.subarray(row, 3 * row), Buffer.concat([q8Bytes(quantizeQ8Ref(x.subarray(64, 128))), q8Bytes(quantizeQ8Ref(x.subarray(128, 192)))]))).toBe(0);
  });
});

interface Case { rows: number; cols: number; n: number; r0: number; r1: number }

/** matmul_q8 on quantizeRow'd weights and reference-quantized x vs vecDotRef; nothing outside [r0, r1) × n written. */
function check(fmt: (typeof Q8_FORMATS)[number], c: Case, seed: number): void {
  const { id } = formatInfo(fmt);
  const rb = rowBytes(fmt, c.cols);
  const wf = randomArray(c.rows * c.cols, seed);
  const wq = new Uint8Array(c.rows * rb);
  for (let r = 0; r < c.rows; r++) wq.set(quantizeRow(id, wf.subarray(r * c.cols, (r + 1) * c.cols)), r * rb);
  const x = activations(c.n, c.cols, seed + 7).map((v) => (Math.abs(v) > 1e3 ? v * 1e-3 : v));
  const xr = Array.from({ length: c.n }, (_, t) => quantizeQ8Ref(x.subarray(t * c.cols, (t + 1) * c.cols)));
  const xq = new Uint8Array(c.n * (c.cols / 32) * Q8_BLOCK_BYTES);
  xr.forEach((a, t) => xq.set(q8Bytes(a), t * (c.cols / 32) * Q8_BLOCK_BYTES));

  const wAt = BASE;
  const xAt = (wAt + wq.length + 15) & ~15;
  const yAt = xAt + xq.length + 64;
  const bytes = new Uint8Array(memory.buffer);
  bytes.set(wq, wAt);
  bytes.set(xq, xAt);
  const y = new Float32Array(memory.buffer, yAt - 64, c.n * c.rows + 32);
  y.fill(SENTINEL);
  wasm.matmul_q8(id, wAt, xAt, yAt, c.rows, c.cols, c.n, c.r0, c.r1);
  let worst = 0;
  for (let t = 0; t < c.n; t++) {
    for (let r = 0; r < c.rows; r++) {
      const got = y[16 + t * c.rows + r]!;
      if (r < c.r0 || r >= c.r1) {
        expect(got, `y[${t}, ${r}] outside [${c.r0}, ${c.r1}) was written`).toBe(SENTINEL);
        continue;
      }
      const { dot, mag } = vecDotRef(fmt, wq.subarray(r * rb, (r + 1) * rb), xr[t]!);
      worst = Math.max(worst, Math.abs(got - dot) / (mag + 1e-30));
    }
  }
  expect(worst, `${fmt} ${JSON.stringify(c)}: worst error / Σ|terms|`).toBeLessThanOrEqual(1e-6);
  for (let i = 0; i < 16; i++) {
    expect(y[i]).toBe(SENTINEL);
    expect(y[16 + c.n * c.rows + i]).toBe(SENTINEL);
  }
  expect(bytes.subarray(xAt, xAt + xq.length)).toEqual(xq);
}

describe.each(Q8_FORMATS.map((f) => [f] as const))('matmul_q8 %s', (fmt) => {
  it.each([
    { rows: 5, cols: 32, n: 1, r0: 0, r1: 5 },
    { rows: 13, cols: 96, n: 1, r0: 2, r1: 11 },
    { rows: 1, cols: 800, n: 1, r0: 0, r1: 1 },
    { rows: 3, cols: 32, n: 2, r0: 1, r1: 2 },
    { rows: 7, cols: 96, n: 3, r0: 0, r1: 7 },
    { rows: 13, cols: 800, n: 8, r0: 1, r1: 12 },
    { rows: 6, cols: 32, n: 33, r0: 0, r1: 6 },
    { rows: 9, cols: 96, n: 33, r0: 3, r1: 8 },
    { rows: 61, cols: 800, n: 5, r0: 1, r1: 60 }, // several row blocks of the prefill tiling
    { rows: 7, cols: 1056, n: 6, r0: 1, r1: 7 }, // several K chunks
    { rows: 5, cols: 1056, n: 1, r0: 0, r1: 4 },
  ])('rows $rows cols $cols n $n rows [$r0, $r1)', (c) => {
    check(fmt, c, 2000 + c.rows * 31 + c.cols + c.n);
  });
});

describe('matmul_q8, hand-computed', () => {
  it('q8_0 block d = 1, levels [2, −3, 0…] · x [4, 2, 0…] → (2·127 − 3·64) · fp16(4/127)', () => {
    const block = new Uint8Array(34);
    block[1] = 0x3c; // d = 1.0
    block[2] = 2;
    block[3] = 0xfd;
    new Uint8Array(memory.buffer).set(block, BASE);
    const x = new Float32Array(32);
    x[0] = 4;
    x[1] = 2;
    new Float32Array(memory.buffer, BASE + 64, 32).set(x);
    wasm.quantize_q8(BASE + 64, BASE + 256, 32, 0, 1);
    wasm.matmul_q8(8, BASE, BASE + 256, BASE + 512, 1, 32, 1, 0, 1);
    const d = new Float32Array(memory.buffer, BASE + 256, 1)[0]!;
    expect(Math.abs(d - 4 / 127)).toBeLessThan(2 ** -16); // the fp16 step near 0.031 is 2^-15
    expect(new Float32Array(memory.buffer, BASE + 512, 1)[0]).toBe(Math.fround(62 * d));
  });

  it('q8RowBytes and hasQ8Kernel', () => {
    expect(wasm.q8RowBytes(64)).toBe(80);
    expect([0, 1, 2, 3, 6, 8, 12, 14].map((f) => wasm.hasQ8Kernel(f))).toEqual([0, 0, 1, 1, 1, 1, 0, 0]);
  });
});
