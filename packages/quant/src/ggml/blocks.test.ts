// Hand-computed blocks: scale, zero point, nibble order, K-quant scale packing.
import { describe, expect, it } from 'vitest';
import { makeQkx2Quants } from './kquant-fit.js';
import { dequantizeRow, quantizeRow } from './row.js';
import { GGML_TYPE } from './types.js';
import { halfBits, nearestInt, roundf } from './half.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const block = (values: Record<number, number>, n = 32): Float32Array => {
  const x = new Float32Array(n);
  for (const [k, v] of Object.entries(values)) x[Number(k)] = v;
  return x;
};

describe('rounding helpers', () => {
  it('nearestInt rounds half to even, roundf half away from zero', () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4999998].map(nearestInt)).toEqual([0, 2, 2, 0, -2, -2, 2]);
    expect([0.5, 1.5, 2.5, -0.5, -1.5, -2.5].map(roundf)).toEqual([1, 2, 3, -1, -2, -3]);
  });
  it('halfBits rounds to nearest even', () => {
    expect(halfBits(1.5)).toBe(0x3e00);
    expect(halfBits(1 + 2 ** -11)).toBe(0x3c00); // tie → even (down)
    expect(halfBits(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie → even (up)
    expect(halfBits(-2)).toBe(0xc000);
  });
});

describe('F32 / F16', () => {
  it('are little-endian IEEE values', () => {
    expect(hex(quantizeRow(GGML_TYPE.F32, Float32Array.of(1, -2)))).toBe('0000803f000000c0');
    expect(hex(quantizeRow(GGML_TYPE.F16, Float32Array.of(1.5, -2, 65504, 1e-8)))).toBe('003e00c0ff7b0000');
    expect(Array.from(dequantizeRow(GGML_TYPE.F16, Uint8Array.of(0x00, 0x3e, 0x00, 0xc0), 2))).toEqual([1.5, -2]);
  });
});

describe('Q8_0 by hand', () => {
  it('d = amax/127, q = roundf(x/d) with ties away from zero', () => {
    // amax 127 → d = 1 (fp16 0x3c00); -63.5 → -64, 0.5 → 1, -2.5 → -3
    const x = block({ 0: 127, 1: -63.5, 2: 0.5, 3: -2.5, 31: 3 });
    const b = quantizeRow(GGML_TYPE.Q8_0, x);
    expect(b.length).toBe(34);
    expect(hex(b)).toBe('003c' + '7fc001fd' + '00'.repeat(27) + '03');
    expect(Array.from(dequantizeRow(GGML_TYPE.Q8_0, b, 32).slice(0, 4))).toEqual([127, -64, 1, -3]);
  });
  it('an all-zero block is d = 0 and zero levels', () => {
    expect(hex(quantizeRow(GGML_TYPE.Q8_0, new Float32Array(32)))).toBe('00'.repeat(34));
  });
});

describe('Q4_0 by hand', () => {
  it('d = max/-8 (signed max), q = min(15, trunc(x/d + 8.5)), j low nibble, j+16 high nibble', () => {
    // max = -8 → d = 1; q[0] = trunc(-8 + 8.5) = 0, q[16] = trunc(4 + 8.5) = 12, zeros → 8
    const b = quantizeRow(GGML_TYPE.Q4_0, block({ 0: -8, 16: 4 }));
    expect(hex(b)).toBe('003c' + 'c0' + '88'.repeat(15));
    const y = dequantizeRow(GGML_TYPE.Q4_0, b, 32);
    expect([y[0], y[16], y[5]]).toEqual([-8, 4, 0]);
  });
  it('halves round up (trunc of +8.5), the value opposite to max clamps at 15', () => {
    // max = 8 → d = -1: x/d = -x. 0.5 → trunc(8) = 8; -0.5 → 9; 1.5 → trunc(7) = 7; -8 → 16 → 15
    const b = quantizeRow(GGML_TYPE.Q4_0, block({ 0: 8, 1: 0.5, 2: -0.5, 3: 1.5, 4: -8 }));
    expect(hex(b.subarray(0, 2))).toBe('00bc'); // fp16 -1
    expect(Array.from(b.subarray(2, 7)).map((q) => q & 15)).toEqual([0, 8, 9, 7, 15]);
    // (0 - 8)·… gives -0 for level 8 with d = -1, as in C; + 0 normalises it for the comparison
    expect(Array.from(dequantizeRow(GGML_TYPE.Q4_0, b, 32).slice(0, 5), (v) => v + 0)).toEqual([8, 0, -1, 1, -7]);
  });
});

describe('Q4_1 by hand', () => {
  it('d = (max-min)/15, m = min, q = min(15, trunc((x-min)/d + 0.5))', () => {
    // x[j] = -3 + 2·(j mod 16): min -3 (fp16 0xc200), max 27, d = 2 (0x4000), q[j] = j mod 16
    const x = new Float32Array(32).map((_, j) => -3 + 2 * (j % 16));
    const b = quantizeRow(GGML_TYPE.Q4_1, x);
    expect(hex(b)).toBe('0040' + '00c2' + Array.from({ length: 16 }, (_, j) => ((j << 4) | j).toString(16).padStart(2, '0')).join(''));
    expect(Array.from(dequantizeRow(GGML_TYPE.Q4_1, b, 32))).toEqual(Array.from(x));
  });
  it('element j in the low nibble, j+16 in the high nibble', () => {
    const x = new Float32Array(32).map((_, j) => (j < 16 ? j : 15));
    const b = quantizeRow(GGML_TYPE.Q4_1, x);
    expect(hex(b.subarray(0, 4))).toBe('003c0000');
    expect(Array.from(b.subarray(4))).toEqual(Array.from({ length: 16 }, (_, j) => 0xf0 | j));
  });
});

describe('Q5_0 by hand', () => {
  it('d = max/-16, bit 4 of each level in qh', () => {
    const b = quantizeRow(GGML_TYPE.Q5_0, block({ 0: -16, 16: 15 }));
    // d = 1; q[0] = 0, q[16] = trunc(31.5) = 31, others 16 → qh bit j = (q >> 4) & 1
    expect(hex(b.subarray(0, 2))).toBe('003c');
    expect(hex(b.subarray(2, 6))).toBe('feffffff');
    expect(b[6]).toBe(0xf0);
    expect(Array.from(dequantizeRow(GGML_TYPE.Q5_0, b, 32).slice(0, 2))).toEqual([-16, 0]);
  });
});

describe('Q4_K layout by hand', () => {
  it('dequantizes a hand-built block: 6-bit scales/mins packing and nibble order', () => {
    const b = new Uint8Array(144);
    b.set([0x00, 0x3c, 0x00, 0x38], 0); // d = 1, dmin = 0.5
    // sub-block scales sc = [1, 2, 3, 4, 17, 33, 49, 63], mins m = [0, 1, 2, 3, 20, 36, 52, 60]
    const sc = [1, 2, 3, 4, 17, 33, 49, 63];
    const m = [0, 1, 2, 3, 20, 36, 52, 60];
    const s = new Uint8Array(12);
    for (let j = 0; j < 4; j++) {
      s[j] = sc[j]! | ((sc[j + 4]! >> 4) << 6);
      s[j + 4] = m[j]! | ((m[j + 4]! >> 4) << 6);
      s[j + 8] = (sc[j + 4]! & 15) | ((m[j + 4]! & 15) << 4);
    }
    b.set(s, 4);
    // chunk c (sub-blocks 2c, 2c+1): byte l = level of element 64c+l (low) | 64c+32+l (high)
    for (let c = 0; c < 4; c++) for (let l = 0; l < 32; l++) b[16 + 32 * c + l] = (l % 16) | ((15 - (l % 16)) << 4);
    const y = dequantizeRow(GGML_TYPE.Q4_K, b, 256);
    for (let e = 0; e < 256; e++) {
      const j = e >> 5;
      const l = e & 31;
      const q = j % 2 === 0 ? l % 16 : 15 - (l % 16);
      expect(y[e]).toBe(sc[j]! * q - 0.5 * m[j]!);
    }
  });
});

describe('Q6_K layout by hand', () => {
  it('dequantizes a hand-built block: ql/qh split and int8 scales', () => {
    const b = new Uint8Array(210);
    b.set([0x00, 0x3c], 208); // d = 1
    for (let k = 0; k < 16; k++) b[192 + k] = (k % 2 === 0 ? k + 1 : -(k + 1)) & 0xff;
    // level L[e] = e mod 64 (stored as L, value L - 32)
    const L = Array.from({ length: 256 }, (_, e) => e % 64);
    for (let h = 0; h < 2; h++) {
      for (let l = 0; l < 32; l++) {
        const e = 128 * h + l;
        b[64 * h + l] = (L[e]! & 15) | ((L[e + 64]! & 15) << 4);
        b[64 * h + 32 + l] = (L[e + 32]! & 15) | ((L[e + 96]! & 15) << 4);
        b[128 + 32 * h + l] = (L[e]! >> 4) | ((L[e + 32]! >> 4) << 2) | ((L[e + 64]! >> 4) << 4) | ((L[e + 96]! >> 4) << 6);
      }
    }
    const y = dequantizeRow(GGML_TYPE.Q6_K, b, 256);
    for (let e = 0; e < 256; e++) {
      const k = e >> 4;
      const scale = k % 2 === 0 ? k + 1 : -(k + 1);
      expect(y[e]).toBe(scale * (L[e]! - 32));
    }
  });
  it('quantizes a constant-level block to one level per element', () => {
    // every value 1 → make_qx_quants picks scale; all 256 elements land on the same level
    const b = quantizeRow(GGML_TYPE.Q6_K, new Float32Array(256).fill(1));
    const y = dequantizeRow(GGML_TYPE.Q6_K, b, 256);
    expect(Math.max(...Array.from(y, (v) => Math.abs(v - 1)))).toBeLessThan(1e-3);
  });
});

describe('makeQkx2Quants', () => {
  it('fits 0..3 exactly to levels 0, 5, 10, 15 with min 0', () => {
    const L = new Uint8Array(4);
    const r = makeQkx2Quants(4, 15, Float32Array.of(0, 1, 2, 3), Float32Array.of(1, 1, 1, 1), L, new Uint8Array(4), -1, Math.fround(0.1), 20);
    expect(Array.from(L)).toEqual([0, 5, 10, 15]);
    expect(r.scale).toBeCloseTo(0.2, 6);
    expect(r.theMin + 0).toBe(0); // -min of min = 0: -0, as in C
  });
});
