// The private-format kernels (assembly/kernels q8_f32.ts, q4_z.ts, nf4.ts) on weights converted
// from @llm/quant's quantized linears (convert.ts), against an independent reference: @llm/quant's
// own dequantization of the same module and a float64 dot — |y − ref| ≤ 1e-6 · Σ|w·x| in the row
// range, nothing written outside it; decode (n ≤ 2) and prefill (n up to 33), ragged rows.
import { beforeAll, describe, expect, it } from 'vitest';
import { GptqLinear, Int4Linear, Int8Linear, Nf4Linear, NF4_CODE, packGptq, quantizeInt4, quantizeInt8, quantizeNf4, rtnQuantize, type QuantizedLinear } from '@llm/quant';
import { randomArray } from '@llm/kit';
import { createMemory, instantiate } from '../wasm/module.js';
import { SCHEME_FORMATS } from '../kernels/format.js';
import { SENTINEL, refDot, rowsError } from '../testing/matmul-check.js';
import { useWasm } from '../testing/helpers.js';
import { convertQuantized, dequantized } from './convert.js';

beforeAll(useWasm);

const memory = createMemory(256); // 16 MiB
const wasm = instantiate(memory);
const BASE = 65536;

type Make = (w: Float32Array, rows: number, cols: number) => QuantizedLinear | GptqLinear;
const data = (w: Float32Array, rows: number, cols: number) => ({ data: w, shape: [rows, cols] as [number, number] });
const gptqOf = (w: Float32Array, rows: number, cols: number, g: number) => new GptqLinear(packGptq(rtnQuantize(w, rows, cols, g)));

/** Each scheme's module, the private format it must convert to. */
const SCHEMES: Array<[string, Make, number]> = [
  ['int8', (w, r, c) => new Int8Linear(quantizeInt8(data(w, r, c), { threshold: 0 })), SCHEME_FORMATS.q8_f32.id],
  ['int4 sym g32', (w, r, c) => new Int4Linear(quantizeInt4(data(w, r, c), { groupSize: 32 })), SCHEME_FORMATS.q4_z.id],
  ['int4 asym g128', (w, r, c) => new Int4Linear(quantizeInt4(data(w, r, c), { groupSize: 128, symmetric: false })), SCHEME_FORMATS.q4_z.id],
  ['nf4 double quant', (w, r, c) => new Nf4Linear(quantizeNf4(data(w, r, c))), SCHEME_FORMATS.nf4.id],
  ['nf4 plain absmax, block 32', (w, r, c) => new Nf4Linear(quantizeNf4(data(w, r, c), { doubleQuant: false, blockSize: 32 })), SCHEME_FORMATS.nf4.id],
  ['gptq g64', (w, r, c) => gptqOf(w, r, c, 64), SCHEME_FORMATS.q4_z.id],
  ['gptq one group per row', (w, r, c) => gptqOf(w, r, c, -1), SCHEME_FORMATS.q4_z.id],
];

interface Case { rows: number; cols: number; n: number; r0: number; r1: number }

/** matmul on the converted module vs the f64 dot of @llm/quant's dequantized weight. */
function check(make: Make, fmt: number, c: Case, seed: number): void {
  const m = make(randomArray(c.rows * c.cols, seed), c.rows, c.cols);
  const conv = convertQuantized(m);
  expect(conv.fmt).toBe(fmt);
  expect(conv.fallback).toBeNull();
  const deq = dequantized(m); // [rows, cols]
  const x = randomArray(c.n * c.cols, seed + 7);
  const xAt = (BASE + conv.data.length + 15) & ~15;
  const yAt = xAt + x.length * 4 + 64;
  new Uint8Array(memory.buffer).set(conv.data, BASE);
  new Float32Array(memory.buffer, xAt, x.length).set(x);
  const y = new Float32Array(memory.buffer, yAt, c.n * c.rows);
  y.fill(SENTINEL);
  wasm.matmul(fmt, BASE, xAt, yAt, c.rows, c.cols, c.n, c.r0, c.r1);
  const worst = rowsError(c, (t, r) => y[t * c.rows + r]!, (t, r) => refDot(deq.subarray(r * c.cols, (r + 1) * c.cols), x, t * c.cols));
  expect(worst).toBeLessThanOrEqual(1e-6);
  if (!(m instanceof GptqLinear)) m.dispose();
}

describe.each(SCHEMES)('matmul on %s', (_name, make, fmt) => {
  it.each([
    { rows: 8, cols: 32, n: 1, r0: 0, r1: 8 },
    { rows: 16, cols: 96, n: 1, r0: 2, r1: 11 },
    { rows: 8, cols: 800, n: 2, r0: 1, r1: 7 },
    { rows: 8, cols: 96, n: 3, r0: 0, r1: 7 },
    { rows: 16, cols: 800, n: 8, r0: 1, r1: 12 },
    { rows: 8, cols: 32, n: 33, r0: 0, r1: 6 },
    { rows: 64, cols: 800, n: 5, r0: 1, r1: 61 },
    { rows: 8, cols: 1056, n: 6, r0: 1, r1: 8 },
    { rows: 8, cols: 1056, n: 1, r0: 0, r1: 5 },
  ])('rows $rows cols $cols n $n rows [$r0, $r1)', (c) => {
    check(make, fmt, c, 3000 + c.rows * 31 + c.cols + c.n);
  });
});

describe('q4_z and nf4 weights are bit for bit @llm/quant\'s dequantization', () => {
  // x = one-hot columns: y[t, r] = w[r, e_t] with no rounding in the sums, through the decode
  // (n = 1) and the prefill (n = 4) kernels alike. (q8_f32 rounds (q · absmax) · (1/127) as
  // q · (absmax · (1/127)): within an ulp, not bit for bit; checked by the 1e-6 cases above.)
  it.each(SCHEMES.filter(([, , fmt]) => fmt !== SCHEME_FORMATS.q8_f32.id))('%s', (_name, make, fmt) => {
    const rows = 8;
    const cols = 256;
    const m = make(randomArray(rows * cols, 77), rows, cols);
    const deq = dequantized(m);
    new Uint8Array(memory.buffer).set(convertQuantized(m).data, BASE);
    const xAt = BASE + 65536;
    const yAt = xAt + 4 * 4 * cols;
    for (const n of [1, 4]) {
      for (let e0 = 0; e0 < cols; e0 += 4) {
        const x = new Float32Array(memory.buffer, xAt, n * cols);
        x.fill(0);
        for (let t = 0; t < n; t++) x[t * cols + e0 + t] = 1;
        wasm.matmul(fmt, BASE, xAt, yAt, rows, cols, n, 0, rows);
        const y = new Float32Array(memory.buffer, yAt, n * rows);
        for (let t = 0; t < n; t++) for (let r = 0; r < rows; r++) expect(y[t * rows + r]).toBe(deq[r * cols + e0 + t]! + 0);
      }
    }
    if (!(m instanceof GptqLinear)) m.dispose();
  });
});

describe('private formats, hand-computed', () => {
  it('nf4: every code is NF4_CODE exactly (absmax 1, one-hot x), decode and prefill', () => {
    // one row of 32 codes 0..15, 0..15 (bitsandbytes pairs: element 2k high nibble)
    const block = new Uint8Array(20);
    new DataView(block.buffer).setFloat32(0, 1, true);
    for (let k = 0; k < 16; k++) block[4 + k] = (((2 * k) % 16) << 4) | ((2 * k + 1) % 16);
    new Uint8Array(memory.buffer).set(block, BASE);
    for (let e = 0; e < 32; e++) {
      const x = new Float32Array(memory.buffer, BASE + 64, 32 * 3);
      x.fill(0);
      for (let t = 0; t < 3; t++) x[t * 32 + e] = 1;
      for (const n of [1, 3]) {
        wasm.matmul(SCHEME_FORMATS.nf4.id, BASE, BASE + 64, BASE + 512, 1, 32, n, 0, 1);
        expect(Array.from(new Float32Array(memory.buffer, BASE + 512, n))).toEqual(new Array(n).fill(NF4_CODE[e % 16]));
      }
    }
  });

  it('q4_z: d = 1, z = 3, qs[0] = 0x51, other nibbles 3, x = ones → (1 − 3) + (5 − 3) = 0; x[0] = 2 → −2', () => {
    const block = new Uint8Array(24).fill(0x33);
    new DataView(block.buffer).setFloat32(0, 1, true);
    block[4] = 3;
    block[8] = 0x51;
    new Uint8Array(memory.buffer).set(block, BASE);
    const x = new Float32Array(memory.buffer, BASE + 64, 32);
    x.fill(1);
    wasm.matmul(SCHEME_FORMATS.q4_z.id, BASE, BASE + 64, BASE + 512, 1, 32, 1, 0, 1);
    expect(new Float32Array(memory.buffer, BASE + 512, 1)[0]).toBe(0);
    x[0] = 2;
    wasm.matmul(SCHEME_FORMATS.q4_z.id, BASE, BASE + 64, BASE + 512, 1, 32, 1, 0, 1);
    expect(new Float32Array(memory.buffer, BASE + 512, 1)[0]).toBe(-2);
  });
});
