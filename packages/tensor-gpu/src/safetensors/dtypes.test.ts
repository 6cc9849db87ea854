import { describe, expect, it } from 'vitest';
import {
  bfloat16BitsToFloat32,
  byteLengthOf,
  float16BitsToFloat32,
  float32ToBfloat16Bits,
  float32ToFloat16Bits,
  shapeProblem,
} from './dtypes.js';
import { rng } from '@llm/kit';

/** A float32 with the given bit pattern (to build NaN payloads, -NaN, subnormals...). */
function f32(bits: number): number {
  return new Float32Array(new Uint32Array([bits]).buffer)[0] as number;
}
function bitsOf(x: number): number {
  return new Uint32Array(new Float32Array([x]).buffer)[0] as number;
}
const toF16 = (x: number): number => float32ToFloat16Bits([x])[0] as number;
const toBF16 = (x: number): number => float32ToBfloat16Bits([x])[0] as number;
const fromF16 = (h: number): number => float16BitsToFloat32([h])[0] as number;


describe('float32 -> float16 bits', () => {
  it.each([
    [1, 0x3c00],
    [-2, 0xc000],
    [0.5, 0x3800],
    [65504, 0x7bff], // largest finite half
    [0.1, 0x2e66],
    [1 / 3, 0x3555],
    [2 ** -14, 0x0400], // smallest normal
    [2 ** -24, 0x0001], // smallest subnormal
    [1023 * 2 ** -24, 0x03ff], // largest subnormal
    [1e-8, 0x0000], // below half the smallest subnormal
    [-1e-8, 0x8000],
    [0, 0x0000],
    [-0, 0x8000],
    [Infinity, 0x7c00],
    [-Infinity, 0xfc00],
    [1e5, 0x7c00], // overflow
    [-1e5, 0xfc00],
  ])('%d -> %i', (x, bits) => {
    expect(toF16(x)).toBe(bits);
  });

  it('rounds to nearest, ties to even', () => {
    expect(toF16(1 + 2 ** -11)).toBe(0x3c00); // tie, 0x3c00 is even
    expect(toF16(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie between 0x3c01 and 0x3c02
    expect(toF16(1 + 2 ** -11 + 2 ** -20)).toBe(0x3c01); // just above the tie
    expect(toF16(2049)).toBe(0x6800); // ulp is 2 at 2048: tie to 2048
    expect(toF16(2051)).toBe(0x6802); // tie to 2052
    expect(toF16(65519)).toBe(0x7bff); // below the midpoint to infinity
    expect(toF16(65520)).toBe(0x7c00); // tie rounds to even = Infinity
    expect(toF16(2 ** -25)).toBe(0x0000); // subnormal tie to even (0)
    expect(toF16(3 * 2 ** -26)).toBe(0x0001); // above the tie
    expect(toF16(3 * 2 ** -25)).toBe(0x0002); // tie between 1 and 2 ulps
    expect(toF16(2 ** -14 - 2 ** -25)).toBe(0x0400); // largest subnormal + tie carries into normal
  });

  it('keeps NaN a NaN with its sign', () => {
    expect(toF16(NaN)).toBe(0x7e00);
    expect(toF16(f32(0xffc00000))).toBe(0xfe00);
    // A signalling NaN is only kept as is inside a Float32Array (reading it into a JS number quiets it).
    const sNaN = new Float32Array(new Uint32Array([0x7f800001]).buffer);
    expect(float32ToFloat16Bits(sNaN)[0]).toBe(0x7c01); // payload lost in the shift: still a NaN
  });

  it('matches a brute-force nearest-even oracle on random floats', () => {
    const finite = float16BitsToFloat32(Uint16Array.from({ length: 0x7c00 }, (_, i) => i)); // ascending
    const oracle = (x: number): number => {
      const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
      const a = Math.abs(x);
      if (a >= 65520) return sign | 0x7c00;
      let lo = 0;
      let hi = 0x7bff;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if ((finite[mid] as number) <= a) lo = mid;
        else hi = mid - 1;
      }
      if (lo === 0x7bff || a === finite[lo]) return sign | lo;
      const dLo = a - (finite[lo] as number);
      const dHi = (finite[lo + 1] as number) - a;
      return sign | (dLo < dHi || (dLo === dHi && lo % 2 === 0) ? lo : lo + 1);
    };
    const next = rng(1234);
    const xs = Float32Array.from({ length: 20000 }, (_, i) =>
      i % 2 ? f32(Math.floor(next() * 2 ** 32)) : (next() - 0.5) * 2 ** (Math.floor(next() * 44) - 28),
    );
    const got = float32ToFloat16Bits(xs);
    for (let i = 0; i < xs.length; i++) {
      const x = xs[i] as number;
      if (Number.isNaN(x)) continue;
      if ((got[i] as number) !== oracle(x)) expect([x, got[i]]).toEqual([x, oracle(x)]);
    }
  });
});

describe('float16 bits -> float32', () => {
  it('decodes normals, subnormals, zeros, infinities and NaN', () => {
    expect(Array.from(float16BitsToFloat32([0x3c00, 0xc000, 0x7bff, 0x0400, 0x0001, 0x03ff, 0x3555]))).toEqual([
      1,
      -2,
      65504,
      2 ** -14,
      2 ** -24,
      1023 * 2 ** -24,
      0.333251953125,
    ]);
    expect(fromF16(0x7c00)).toBe(Infinity);
    expect(fromF16(0xfc00)).toBe(-Infinity);
    expect(Object.is(fromF16(0x8000), -0)).toBe(true);
    expect(fromF16(0x7e00)).toBeNaN();
    expect(bitsOf(fromF16(0xfe01))).toBe(0xffc02000); // sign and payload kept
  });

  it('round-trips every bit pattern exactly (NaN payloads included)', () => {
    const all = Uint16Array.from({ length: 65536 }, (_, i) => i);
    expect(float32ToFloat16Bits(float16BitsToFloat32(all))).toEqual(all);
  });
});

describe('bfloat16', () => {
  it.each([
    [1, 0x3f80],
    [-2, 0xc000],
    [3.140625, 0x4049],
    [Math.PI, 0x4049],
    [0, 0x0000],
    [-0, 0x8000],
    [Infinity, 0x7f80],
    [-Infinity, 0xff80],
    [NaN, 0x7fc0],
  ])('%d -> %i', (x, bits) => {
    expect(toBF16(x)).toBe(bits);
  });

  it('rounds to nearest, ties to even, and overflows to infinity', () => {
    expect(toBF16(f32(0x3f808000))).toBe(0x3f80); // tie, even stays
    expect(toBF16(f32(0x3f818000))).toBe(0x3f82); // tie, odd rounds up
    expect(toBF16(f32(0x3f808001))).toBe(0x3f81); // above the tie
    expect(toBF16(f32(0x7f7fffff))).toBe(0x7f80); // max float32 rounds to Infinity
    expect(toBF16(f32(0x7f7f7fff))).toBe(0x7f7f);
    expect(toBF16(f32(0x00018000))).toBe(0x0002); // subnormal tie to even
    const sNaN = new Float32Array(new Uint32Array([0x7f800001]).buffer);
    expect(float32ToBfloat16Bits(sNaN)[0]).toBe(0x7fc0); // signalling NaN becomes a quiet NaN
    expect(toBF16(f32(0xffc00000))).toBe(0xffc0);
  });

  it('decodes exactly', () => {
    expect(Array.from(bfloat16BitsToFloat32([0x3f80, 0xc000, 0x4049, 0x7f80]))).toEqual([1, -2, 3.140625, Infinity]);
    expect(bitsOf(bfloat16BitsToFloat32([0x0001])[0] as number)).toBe(0x00010000);
    expect(bfloat16BitsToFloat32([0x7fc0])[0]).toBeNaN();
  });
});

describe('shape helpers', () => {
  it('computes byte lengths, including scalars, empty and overflowing shapes', () => {
    expect(byteLengthOf([2, 3], 'F16')).toBe(12);
    expect(byteLengthOf([], 'F64')).toBe(8);
    expect(byteLengthOf([2 ** 52, 2 ** 52, 0], 'F32')).toBe(0);
    expect(byteLengthOf([2 ** 52, 2 ** 52], 'U8')).toBeGreaterThan(Number.MAX_SAFE_INTEGER);
  });

  it('describes bad shapes', () => {
    expect(shapeProblem([1, 2])).toBeUndefined();
    expect(shapeProblem([1, -2])).toMatch(/dim 1 is -2/);
    expect(shapeProblem([1.5])).toMatch(/dim 0 is 1.5/);
    expect(shapeProblem(['2'])).toMatch(/dim 0 is "2"/);
    expect(shapeProblem([2 ** 53])).toMatch(/safe integer/);
    expect(shapeProblem('2')).toMatch(/must be an array/);
  });
});
