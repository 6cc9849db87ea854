// The quantized-activation path against the slow reference of ggml's C semantics in
// src/testing/ggml-q8.ts, for both kinds: Q8 (assembly/kernels/q8act.ts, q8dot.ts: q8_0 q4_0 q4_1
// q5_0, and the private q8_f32 / q4_z of @llm/quant's int8 / int4 modules) and Q8_K (q8k.ts,
// kdot.ts: q4_K q6_K) — quantization bit-exact, integer-dot matmul_q8 within 1e-6 · Σ|block terms|
// of the float64 vec_dot.
import { beforeAll, describe, expect, it } from 'vitest';
import { Int4Linear, Int8Linear, quantizeInt4, quantizeInt8, quantizeRow } from '@llm/quant';
import { randomArray, rng } from '@llm/kit';
import { createMemory, instantiate } from '../wasm/module.js';
import { formatInfo, rowBytes, SCHEME_FORMATS } from './format.js';
import { convertQuantized, dequantized } from '../schemes/convert.js';
import { Q8_KIND } from '../engine/pack.js';
import { SENTINEL, rowsError } from '../testing/matmul-check.js';
import { useWasm } from '../testing/helpers.js';
import { Q8_BLOCK_BYTES, Q8K_BLOCK_BYTES, q8Bytes, q8kBytes, quantizeQ8KRef, quantizeQ8Ref, vecDotKRef, vecDotRef, weightBlock } from '../testing/ggml-q8.js';

beforeAll(useWasm);

const memory = createMemory(256); // 16 MiB
const wasm = instantiate(memory);
const BASE = 65536;

/** One activation kind: its block, the wasm quantizer, and the reference quantization + vec_dot. */
interface Kind {
  name: 'q8' | 'q8k';
  block: number; // values per block
  bytes: number; // bytes per block
  formats: string[];
  quantize(x: number, q: number, cols: number, t0: number, t1: number): void;
  /** reference bytes of one row, and a dot of a weight row against it */
  ref(x: Float32Array): { bytes: Uint8Array; dot(fmt: string, w: Uint8Array): { dot: number; mag: number } };
  /** the value, for a tie block, that maps to 1 (amax of the block; Q8_K: the max is negative) */
  tieMax: number;
}

const KINDS: Kind[] = [
  {
    name: 'q8', block: 32, bytes: Q8_BLOCK_BYTES, formats: ['q8_0', 'q4_0', 'q4_1', 'q5_0', 'q8_f32', 'q4_z'], tieMax: 127,
    quantize: (...a) => wasm.quantize_q8(...a),
    ref: (x) => {
      const a = quantizeQ8Ref(x);
      return { bytes: q8Bytes(a), dot: (fmt, w) => vecDotRef(fmt, w, a) };
    },
  },
  {
    name: 'q8k', block: 256, bytes: Q8K_BLOCK_BYTES, formats: ['q4_k', 'q6_k'], tieMax: -127,
    quantize: (...a) => wasm.quantize_q8k(...a),
    ref: (x) => {
      const a = quantizeQ8KRef(x);
      return { bytes: q8kBytes(a), dot: (fmt, w) => vecDotKRef(fmt, w, a) };
    },
  },
];

/** Runs the kind's quantizer over tokens [t0, t1) of x [n, cols]; returns the whole output region as bytes. */
function quantizeWasm(k: Kind, x: Float32Array, cols: number, t0: number, t1: number): Uint8Array {
  const n = x.length / cols;
  const qAt = BASE + x.length * 4 + 64;
  const qLen = n * (cols / k.block) * k.bytes;
  new Float32Array(memory.buffer, BASE, x.length).set(x);
  new Uint8Array(memory.buffer, qAt, qLen).fill(0xa5);
  k.quantize(BASE, qAt, cols, t0, t1);
  return new Uint8Array(memory.buffer, qAt, qLen).slice();
}

/** The reference bytes of x [n, cols], token after token. */
function refBytes(k: Kind, x: Float32Array, cols: number): Uint8Array {
  const n = x.length / cols;
  const out = new Uint8Array(n * (cols / k.block) * k.bytes);
  for (let t = 0; t < n; t++) out.set(k.ref(x.subarray(t * cols, (t + 1) * cols)).bytes, t * (cols / k.block) * k.bytes);
  return out;
}

/** Rows of blocks with varied scales, some all-zero blocks and some exact ties (x · 1/d = k + 0.5). */
function activations(k: Kind, n: number, cols: number, seed: number): Float32Array {
  const x = randomArray(n * cols, seed);
  const r = rng(seed + 3);
  for (let b = 0; b < x.length; b += k.block) {
    const kind = Math.floor(r() * 6);
    const s = [1, 1e-3, 1e4, 3e-6, 0, 1][kind]!;
    for (let j = b; j < b + k.block; j++) x[j] = x[j]! * s;
    if (kind === 5) {
      // the block's largest |x| maps to ±127 with scale 1: halves land exactly on .5
      x[b] = k.tieMax;
      for (let j = 1; j < k.block; j++) x[b + j] = (Math.floor(r() * 200) - 100) + 0.5;
    }
  }
  return x;
}

describe.each(KINDS.map((k) => [k.name, k] as const))('quantize (%s), ggml reference semantics', (_, k) => {
  it.each([1, 3, 5])('bit-exact: n %i', (n) => {
    const cols = k.block * (n === 5 ? 5 : n);
    const x = activations(k, n, cols, 11 + cols + n);
    expect(Buffer.compare(quantizeWasm(k, x, cols, 0, n), refBytes(k, x, cols))).toBe(0);
  });

  it('writes only tokens [t0, t1)', () => {
    const cols = 2 * k.block;
    const x = activations(k, 4, cols, 5);
    const got = quantizeWasm(k, x, cols, 1, 3);
    const row = 2 * k.bytes;
    expect(got.subarray(0, row).every((b) => b === 0xa5)).toBe(true);
    expect(got.subarray(3 * row).every((b) => b === 0xa5)).toBe(true);
    expect(Buffer.compare(got.subarray(row, 3 * row), refBytes(k, x.subarray(cols, 3 * cols), cols))).toBe(0);
  });
});

describe('quantize, hand-checked', () => {
  it('Q8: ties round away from zero; d and s are fp16 values; huge amax overflows d to inf as in ggml', () => {
    const x = new Float32Array(96);
    x.set([127, 2.5, -2.5, 0.5, -0.5, 126.5]); // block 0: d = 1
    x[32] = 1e7; x[33] = -5e6; // block 1: d = 78740 > 65504 → inf
    x[64] = 1e-5; x[65] = 3e-6; // block 2: d ≈ 7.9e-8, a subnormal half
    const got = quantizeWasm(KINDS[0]!, x, 96, 0, 1);
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

  it('Q8_K: max −127 → iscale 1, ties to even, the first largest |x| sets the sign, an all-zero block is 0', () => {
    const x = new Float32Array(512);
    x.set([-127, 2.5, -2.5, 3.5, 0.5, 127]); // block 0: max = −127 (the first of ±127), iscale = −127/max = 1, d = 1
    const got = quantizeWasm(KINDS[1]!, x, 512, 0, 1);
    const dv = new DataView(got.buffer);
    expect(dv.getFloat32(0, true)).toBe(1);
    expect(Array.from(new Int8Array(got.buffer, 4, 6))).toEqual([-127, 2, -2, 4, 0, 127]); // 2.5 → 2, 3.5 → 4
    expect(dv.getInt16(260, true)).toBe(-127 + 2 - 2 + 4 + 0 + 127);
    expect(got.subarray(292, 584).every((b) => b === 0)).toBe(true); // block 1: zeros
  });
});

interface Case { rows: number; blocks: number; n: number; r0: number; r1: number }

/** The private formats with an integer-dot kernel: the @llm/quant module converted to each (src/schemes/convert.ts). */
const SCHEME_MODULES: Record<string, (w: Float32Array, rows: number, cols: number) => Int8Linear | Int4Linear> = {
  q8_f32: (w, r, c) => new Int8Linear(quantizeInt8({ data: w, shape: [r, c] }, { threshold: 0 })),
  q4_z: (w, r, c) => new Int4Linear(quantizeInt4({ data: w, shape: [r, c] }, { groupSize: 64, symmetric: false })),
};

/**
 * Weight rows [rows, cols] of `fmt` from random values: quantizeRow for ggml's formats; for the
 * private ones the converted @llm/quant module, after checking that the reference's levels · d
 * are @llm/quant's dequantized weights (q4_z exactly; q8_f32 within 2 ulps of @llm/quant's value: it
 * rounds (q · absmax) · (1/127) twice, we q · (absmax · (1/127)) — 1 ulp but for binade edges).
 */
function weights(fmt: string, rows: number, cols: number, seed: number): { id: number; rb: number; wq: Uint8Array } {
  const wf = randomArray(rows * cols, seed);
  const make = SCHEME_MODULES[fmt];
  if (!make) {
    const { id } = formatInfo(fmt);
    const rb = rowBytes(fmt, cols);
    const wq = new Uint8Array(rows * rb);
    for (let r = 0; r < rows; r++) wq.set(quantizeRow(id, wf.subarray(r * cols, (r + 1) * cols)), r * rb);
    return { id, rb, wq };
  }
  const m = make(wf, rows, cols);
  const conv = convertQuantized(m);
  const deq = dequantized(m);
  m.dispose();
  const { id, blockBytes } = SCHEME_FORMATS[fmt as keyof typeof SCHEME_FORMATS];
  expect(conv.fmt).toBe(id);
  let worst = 0;
  for (let b = 0; b < rows * (cols / 32); b++) {
    const wb = weightBlock(fmt, conv.data, b * blockBytes);
    for (let j = 0; j < 32; j++) {
      const want = deq[b * 32 + j]!;
      const ulp = want === 0 ? 1 : 2 ** (Math.floor(Math.log2(Math.abs(want))) - 23);
      worst = Math.max(worst, Math.abs(Math.fround(wb.levels[j]! * wb.d) - want) / ulp);
    }
  }
  expect(worst, `${fmt}: levels · d vs @llm/quant's dequantization, in ulps`).toBeLessThanOrEqual(fmt === 'q4_z' ? 0 : 2);
  return { id, rb: conv.rowBytes, wq: conv.data };
}

/** matmul_q8 on weights() and reference-quantized x vs the reference vec_dot; nothing outside [r0, r1) × n written. */
function check(k: Kind, fmt: string, c: Case, seed: number): void {
  const cols = c.blocks * k.block;
  const { id, rb, wq } = weights(fmt, c.rows, cols, seed);
  const x = activations(k, c.n, cols, seed + 7).map((v) => (Math.abs(v) > 1e3 ? v * 1e-3 : v));
  const refs = Array.from({ length: c.n }, (_, t) => k.ref(x.subarray(t * cols, (t + 1) * cols)));
  const rowQ = (cols / k.block) * k.bytes;
  const xq = new Uint8Array(c.n * rowQ);
  refs.forEach((a, t) => xq.set(a.bytes, t * rowQ));

  const wAt = BASE;
  const xAt = (wAt + wq.length + 15) & ~15;
  const yAt = xAt + xq.length + 64;
  const bytes = new Uint8Array(memory.buffer);
  bytes.set(wq, wAt);
  bytes.set(xq, xAt);
  const y = new Float32Array(memory.buffer, yAt - 64, c.n * c.rows + 32);
  y.fill(SENTINEL);
  wasm.matmul_q8(id, wAt, xAt, yAt, c.rows, cols, c.n, c.r0, c.r1);
  const worst = rowsError(c, (t, r) => y[16 + t * c.rows + r]!, (t, r) => refs[t]!.dot(fmt, wq.subarray(r * rb, (r + 1) * rb)));
  expect(worst, `${fmt} ${JSON.stringify(c)}: worst error / Σ|terms|`).toBeLessThanOrEqual(1e-6);
  for (let i = 0; i < 16; i++) {
    expect(y[i]).toBe(SENTINEL);
    expect(y[16 + c.n * c.rows + i]).toBe(SENTINEL);
  }
  expect(bytes.subarray(xAt, xAt + xq.length)).toEqual(xq);
}

const CASES: Case[] = [
  { rows: 5, blocks: 1, n: 1, r0: 0, r1: 5 },
  { rows: 13, blocks: 3, n: 1, r0: 2, r1: 11 },
  { rows: 3, blocks: 1, n: 2, r0: 1, r1: 2 },
  { rows: 7, blocks: 3, n: 3, r0: 0, r1: 7 },
  { rows: 6, blocks: 1, n: 33, r0: 0, r1: 6 },
  { rows: 9, blocks: 3, n: 33, r0: 3, r1: 8 },
];
/** Larger shapes: 25 / 33 blocks of 32 (row blocks and K chunks of the prefill tiling); 5 super-blocks (K chunks of 512). */
const WIDE: Record<Kind['name'], Case[]> = {
  q8: [
    { rows: 1, blocks: 25, n: 1, r0: 0, r1: 1 },
    { rows: 13, blocks: 25, n: 8, r0: 1, r1: 12 },
    { rows: 61, blocks: 25, n: 5, r0: 1, r1: 60 },
    { rows: 7, blocks: 33, n: 6, r0: 1, r1: 7 },
    { rows: 5, blocks: 33, n: 1, r0: 0, r1: 4 },
  ],
  q8k: [
    { rows: 13, blocks: 5, n: 8, r0: 1, r1: 12 },
    { rows: 5, blocks: 5, n: 1, r0: 0, r1: 4 },
  ],
};

describe.each(KINDS.flatMap((k) => k.formats.map((f) => [f, k] as const)))('matmul_q8 %s', (fmt, k) => {
  it.each([...CASES, ...WIDE[k.name]])('rows $rows blocks $blocks n $n rows [$r0, $r1)', (c) => {
    check(k, fmt, c, 2000 + c.rows * 31 + c.blocks * 7 + c.n);
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

  it('row bytes and the kind each format wants', () => {
    expect([wasm.q8RowBytes(64), wasm.q8kRowBytes(512)]).toEqual([80, 584]);
    const ids = [0, 1, 2, 3, 6, 8, 12, 14, 100, 101, 102];
    expect(ids.map((f) => wasm.q8Kind(f))).toEqual([0, 0, 1, 1, 1, 1, 2, 2, 1, 1, 0]); // nf4 (102): f32 activations
    expect(ids.map((f) => Q8_KIND.get(f) ?? 'f32')).toEqual(ids.map((f) => ['f32', 'q8', 'q8k'][wasm.q8Kind(f)])); // the host's copy
  });
});
