// Type table, argument checks, round-trip error bounds over seeded random rows.
import { expectError, randomArray, rng } from '@llm/kit';
import { describe, expect, it } from 'vitest';
import { QuantError } from '../errors.js';
import { halfValue } from './half.js';
import { dequantizeRow, quantizeRow } from './row.js';
import { GGML_TYPE, GGML_TYPES, ggmlTypeInfo, tensorBytes } from './types.js';

describe('type table', () => {
  it('has ggml ids, block sizes and bytes per block', () => {
    const rows = Object.values(GGML_TYPES).map((t) => [t.name, t.id, t.blockSize, t.typeSize]);
    expect(rows).toEqual([
      ['f32', 0, 1, 4],
      ['f16', 1, 1, 2],
      ['q4_0', 2, 32, 18],
      ['q4_1', 3, 32, 20],
      ['q5_0', 6, 32, 22],
      ['q8_0', 8, 32, 34],
      ['q4_K', 12, 256, 144],
      ['q6_K', 14, 256, 210],
    ]);
  });
  it('tensorBytes counts whole blocks', () => {
    expect(tensorBytes(GGML_TYPE.F32, 10)).toBe(40);
    expect(tensorBytes(GGML_TYPE.F16, 10)).toBe(20);
    expect(tensorBytes(GGML_TYPE.Q8_0, 64)).toBe(68);
    expect(tensorBytes(GGML_TYPE.Q4_K, 512)).toBe(288);
    expect(tensorBytes(GGML_TYPE.Q6_K, 4096 * 256)).toBe(4096 * 210);
  });
  it('rejects unknown types and partial blocks with typed errors', () => {
    expectError(() => ggmlTypeInfo(7), 'GGUF_UNSUPPORTED', /ggml type id 7 is not supported/, QuantError);
    expectError(() => tensorBytes(99, 32), 'GGUF_UNSUPPORTED', undefined, QuantError);
    expectError(() => tensorBytes(GGML_TYPE.Q4_0, 33), 'INVALID_ARGUMENT', /not a multiple of 32/, QuantError);
    expectError(() => tensorBytes(GGML_TYPE.Q4_0, -32), 'INVALID_ARGUMENT', /non-negative integer/, QuantError);
    expectError(() => quantizeRow(GGML_TYPE.Q4_K, new Float32Array(32)), 'INVALID_ARGUMENT', /multiple of 256/, QuantError);
  });
  it('dequantizeRow refuses too few bytes (hostile files never read out of bounds)', () => {
    expectError(() => dequantizeRow(GGML_TYPE.Q8_0, new Uint8Array(33), 32), 'INVALID_ARGUMENT', /need 34 bytes, got 33/, QuantError);
    expectError(() => dequantizeRow(GGML_TYPE.Q6_K, new Uint8Array(10), 256), 'INVALID_ARGUMENT', /need 210 bytes/, QuantError);
  });
  it('dequantizeRow reads views at any byte offset (slices of a GGUF file)', () => {
    for (const t of Object.values(GGML_TYPES)) {
      const x = randomArray(256, 40 + t.id);
      const b = quantizeRow(t.id, x);
      const file = new Uint8Array(b.length + 3);
      file.set(b, 3);
      expect(dequantizeRow(t.id, file.subarray(3), 256)).toEqual(dequantizeRow(t.id, b, 256));
    }
  });
  it('every type round-trips its length', () => {
    for (const t of Object.values(GGML_TYPES)) {
      const x = randomArray(512, t.id + 1);
      const b = quantizeRow(t.id, x);
      expect(b.length).toBe(tensorBytes(t.id, 512));
      expect(dequantizeRow(t.id, b, 512).length).toBe(512);
    }
  });
});

/** Per-block worst-case error bounds, from each format's scale. */
describe('round-trip error bounds over seeded random rows', () => {
  const rows = Array.from({ length: 24 }, (_, k) => {
    const r = rng(1000 + k);
    const scale = 10 ** (r() * 4 - 3); // 1e-3 .. 10
    const x = randomArray(512, 2000 + k, -scale, scale);
    if (k % 3 === 0) x[Math.floor(r() * 512)] = scale * 40; // an outlier
    if (k % 4 === 1) for (let i = 0; i < 512; i++) x[i] = Math.abs(x[i]!) + scale; // all positive
    return x;
  });

  const blockMax = (x: Float32Array, n: number, f: (b: Float32Array) => number): number[] =>
    Array.from({ length: x.length / n }, (_, i) => f(x.subarray(i * n, i * n + n)));
  const amax = (b: Float32Array): number => Math.max(...Array.from(b, Math.abs));
  /** Largest error of rounding v to fp16: half an ulp, relative for normals, 2^-25 for subnormals. */
  const h = (v: number): number => Math.max(Math.abs(v) * 2 ** -11, 2 ** -25);

  it('F16: within half an fp16 ulp', () => {
    for (const x of rows) {
      const y = dequantizeRow(GGML_TYPE.F16, quantizeRow(GGML_TYPE.F16, x), x.length);
      x.forEach((v, i) => expect(Math.abs(y[i]! - v)).toBeLessThanOrEqual(Math.abs(v) * 2 ** -11 + 2 ** -25));
    }
  });
  it('Q8_0: |err| ≤ 0.5·d + 127·(fp16 rounding of d)', () => {
    for (const x of rows) {
      const y = dequantizeRow(GGML_TYPE.Q8_0, quantizeRow(GGML_TYPE.Q8_0, x), x.length);
      const d = blockMax(x, 32, (b) => amax(b) / 127);
      x.forEach((v, i) => expect(Math.abs(y[i]! - v)).toBeLessThanOrEqual(0.5 * d[i >> 5]! + 127 * h(d[i >> 5]!) + 1e-12));
    }
  });
  it('Q4_0: |err| ≤ d (the clamp at 15) with d = amax/8', () => {
    for (const x of rows) {
      const y = dequantizeRow(GGML_TYPE.Q4_0, quantizeRow(GGML_TYPE.Q4_0, x), x.length);
      const d = blockMax(x, 32, (b) => amax(b) / 8);
      x.forEach((v, i) => expect(Math.abs(y[i]! - v)).toBeLessThanOrEqual(d[i >> 5]! + 16 * h(d[i >> 5]!) + 1e-12));
    }
  });
  it('Q4_1: |err| ≤ 0.5·d + fp16 rounding of d and m', () => {
    for (const x of rows) {
      const b = quantizeRow(GGML_TYPE.Q4_1, x);
      const y = dequantizeRow(GGML_TYPE.Q4_1, b, x.length);
      x.forEach((v, i) => {
        const o = (i >> 5) * 20;
        const d = halfValue(b[o]! | (b[o + 1]! << 8));
        const m = halfValue(b[o + 2]! | (b[o + 3]! << 8));
        expect(Math.abs(y[i]! - v)).toBeLessThanOrEqual(0.5 * d + 16 * h(d) + h(m) + 1e-12);
      });
    }
  });
  it('Q4_K / Q6_K: RMS error relative to RMS of the row', () => {
    const rel = (t: number): number => {
      let worst = 0;
      for (const x of rows) {
        const y = dequantizeRow(t, quantizeRow(t, x), x.length);
        let e = 0;
        let s = 0;
        x.forEach((v, i) => {
          e += (y[i]! - v) ** 2;
          s += v * v;
        });
        worst = Math.max(worst, Math.sqrt(e / s));
      }
      return worst;
    };
    const q4k = rel(GGML_TYPE.Q4_K);
    const q6k = rel(GGML_TYPE.Q6_K);
    expect(q4k).toBeLessThan(0.15); // measured 0.123 worst over these rows
    expect(q6k).toBeLessThan(0.05); // measured 0.042
    expect(q6k).toBeLessThan(q4k);
  });
});
