// The quantizers against the committed PyTorch reference (fixtures/make_quant_fixtures.py) and
// hand-computed tiny cases.
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { readSafetensors, rawToFloat32, type RawTensor } from '@llm/tensor-gpu';
import { expectErrorAsync } from '@llm/kit';
import { QuantError } from '../errors.js';
import { dynamicMap, quantizeNf4, NF4_CODE, packNibblesHighFirst } from './nf4.js';
import { quantizeInt4, packInt4, unpackInt4 } from './int4.js';
import { quantizeInt8 } from './int8.js';

let fx: Map<string, RawTensor>;
beforeAll(async () => {
  fx = (await readSafetensors(fileURLToPath(new URL('../../fixtures/quant.safetensors', import.meta.url)))).tensors;
});
const get = (n: string): RawTensor => {
  const t = fx.get(n);
  if (!t) throw new Error(`fixture lacks ${n}`);
  return t;
};
const f = (n: string) => rawToFloat32(get(n));
const bytes = (n: string) => Uint8Array.from(get(n).data);
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};
const W = (c: string) => {
  const t = get(`${c}.w`);
  return { data: rawToFloat32(t), shape: [t.shape[0]!, t.shape[1]!] as [number, number] };
};
const CASES = ['a', 'b', 'c'];

describe('NF4 vs the PyTorch reference (bitsandbytes formulas)', () => {
  it('computes bitsandbytes’ dynamic 8-bit map bit for bit', () => {
    expect(Array.from(dynamicMap())).toEqual(Array.from(f('dynamic_map')));
  });
  for (const c of CASES) {
    it(`case ${c}: packed bytes, absmax and dequantized values (single and double quant)`, () => {
      const q = quantizeNf4(W(c), { doubleQuant: false });
      expect(Array.from(q.packed)).toEqual(Array.from(bytes(`${c}.nf4.packed`)));
      expect(Array.from(q.absmax!)).toEqual(Array.from(f(`${c}.nf4.absmax`)));
      expect(maxDiff(q.dequantize(), f(`${c}.nf4.deq`))).toBeLessThanOrEqual(1e-6);
      const d = quantizeNf4(W(c));
      expect(Array.from(d.packed)).toEqual(Array.from(bytes(`${c}.nf4dq.packed`)));
      expect(Array.from(d.nested!.codes)).toEqual(Array.from(bytes(`${c}.nf4dq.absmax_q`)));
      expect(Array.from(d.nested!.absmax)).toEqual(Array.from(f(`${c}.nf4dq.absmax2`)));
      expect(d.nested!.offset).toBe(f(`${c}.nf4dq.offset_f64mean`)[0]); // our formula: float64 mean rounded to float32
      expect(d.nested!.offset).toBe(f(`${c}.nf4dq.offset`)[0]); // torch's float32 absmax.mean() agrees on these inputs
      expect(maxDiff(d.dequantize(), f(`${c}.nf4dq.deq`))).toBeLessThanOrEqual(1e-6);
      expect(Array.from(d.dequantize())).toEqual(Array.from(f(`${c}.nf4dq.deq`))); // in fact bit-exact
    });
  }
  it('hand-computed: codes, high nibble first', () => {
    // block absmax 2: 2 → 1.0 (code 15), −2 → −1 (0), 0 → 0 (7), 0.1 → 0.05 nearest 0.0796 (8)
    const q = quantizeNf4({ data: Float32Array.from([2, -2, 0, 0.1]), shape: [1, 4] }, { doubleQuant: false, blockSize: 64 });
    expect(Array.from(q.packed)).toEqual([0xf0, 0x78]);
    expect(Array.from(q.absmax!)).toEqual([2]);
    expect(Array.from(q.dequantize())).toEqual([2, -2, 0, Math.fround(NF4_CODE[8]! * 2)]);
    expect(Array.from(packNibblesHighFirst(Uint8Array.from([1, 2, 3])))).toEqual([0x12, 0x30]);
  });
});

describe('int4 group-wise vs the PyTorch reference', () => {
  for (const c of CASES) {
    for (const g of [32, 64, 128]) {
      for (const sym of [true, false]) {
        it(`case ${c}, group ${g}, ${sym ? 'symmetric' : 'asymmetric'}`, () => {
          const key = `${c}.int4${sym ? 's' : 'a'}${g}`;
          const q = quantizeInt4(W(c), { groupSize: g, symmetric: sym });
          expect(Array.from(q.packed)).toEqual(Array.from(bytes(`${key}.packed`)));
          expect(Array.from(q.scales, (v) => v + 0)).toEqual(Array.from(f(`${key}.scales`), (v) => v + 0)); // torch gives -0 for an all-zero group
          expect(Array.from(q.zeros)).toEqual(Array.from(bytes(`${key}.zeros`)));
          expect(maxDiff(q.dequantize(), f(`${key}.deq`))).toBeLessThanOrEqual(1e-6);
        });
      }
    }
  }
  it('hand-computed: symmetric and asymmetric groups, low nibble first', () => {
    // sym: absmax 7 → scale 1; 7 → 7+8=15, −7 → 1, 0.5 → round-half-even 0 → 8, 1.5 → 2 → 10
    const s = quantizeInt4({ data: Float32Array.from([7, -7, 0.5, 1.5]), shape: [1, 4] }, { groupSize: 4 });
    expect(Array.from(s.scales)).toEqual([1]);
    expect(Array.from(unpackInt4(s.packed, 4))).toEqual([15, 1, 8, 10]);
    expect(Array.from(s.packed)).toEqual([15 | (1 << 4), 8 | (10 << 4)]);
    expect(Array.from(s.dequantize())).toEqual([7, -7, 0, 2]);
    // asym: min −1, max 2 → scale 0.2, zero round(5) = 5; 2 → 10 + 5 = 15, −1 → −5 + 5 = 0
    const a = quantizeInt4({ data: Float32Array.from([2, -1, 0, 1]), shape: [1, 4] }, { groupSize: 4, symmetric: false });
    expect(Array.from(a.scales)).toEqual([Math.fround(0.2)]);
    expect(Array.from(a.zeros)).toEqual([5]);
    expect(Array.from(unpackInt4(a.packed, 4))).toEqual([15, 0, 5, 10]);
    expect(Array.from(packInt4([1, 2, 3]))).toEqual([0x21, 0x03]);
  });
  it('rejects bad codes and group sizes with QuantError', async () => {
    await expectErrorAsync(() => packInt4([16]), 'INVALID_ARGUMENT', /not an integer in \[0, 15\]/, QuantError);
    await expectErrorAsync(() => quantizeInt4({ data: new Float32Array(4), shape: [1, 4] }, { groupSize: 3 }), 'INVALID_ARGUMENT', /groupSize/, QuantError);
    await expectErrorAsync(() => quantizeInt4({ data: Float32Array.from([NaN, 0]), shape: [1, 2] }), 'INVALID_ARGUMENT', /not finite/, QuantError);
  });
});

describe('int8 absmax with outlier columns vs the PyTorch reference', () => {
  for (const c of CASES) {
    for (const t of [6, 0]) {
      it(`case ${c}, threshold ${t}`, () => {
        const key = `${c}.int8t${t}`;
        const q = quantizeInt8(W(c), { threshold: t });
        expect(Array.from(q.q)).toEqual(Array.from(new Int8Array(get(`${key}.q`).data.slice().buffer)));
        expect(Array.from(q.absmax)).toEqual(Array.from(f(`${key}.absmax`)));
        expect(Array.from(q.outlierCols)).toEqual(Array.from(new Int32Array(get(`${key}.cols`).data.slice().buffer)));
        expect(Array.from(q.outliers)).toEqual(Array.from(f(`${key}.outliers`)));
        expect(maxDiff(q.dequantize(), f(`${key}.deq`))).toBeLessThanOrEqual(1e-6);
      });
    }
  }
  it('case b has its two outlier columns kept in float', () => {
    expect(Array.from(quantizeInt8(W('b')).outlierCols)).toEqual([17, 200]);
  });
  it('hand-computed: round half to even, calibration columns', () => {
    // absmax 127 → multiplier 1: 0.5 → 0, 1.5 → 2, 2.5 → 2
    const q = quantizeInt8({ data: Float32Array.from([127, 0.5, 1.5, 2.5]), shape: [1, 4] }, { threshold: 0 });
    expect(Array.from(q.q)).toEqual([127, 0, 2, 2]);
    const c = quantizeInt8({ data: Float32Array.from([1, 2, 3, 4]), shape: [1, 4] }, { activationAbsMax: Float32Array.from([0, 6, 5.9, 0]) });
    expect(Array.from(c.outlierCols)).toEqual([1]);
    expect(c.dequantize()[1]).toBe(2);
    expect(Array.from(c.absmax)).toEqual([4]);
  });
});
