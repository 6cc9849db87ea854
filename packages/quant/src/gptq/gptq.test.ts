import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { gptqQuantize, HessianAccumulator } from './gptq.js';
import { packGptq, unpackCodes, unpackZeros, dequantizePacked } from './pack.js';
import { roundHalfEven, rtnQuantize, dequantize } from './quantizer.js';

interface Case { groupSize: number; actOrder: boolean; codes: number[]; scales: number[]; zeros: number[]; gIdx: number[]; qweight: number[]; qzeros: number[] }
const fx = JSON.parse(readFileSync(new URL('../../fixtures/gptq_fixtures.json', import.meta.url), 'utf8')) as {
  out: number; in: number; rows: number; nsamples: number; W: string; X: string; H: string; cases: Case[];
};
const f64 = (s: string) => new Float64Array(new Uint8Array(Buffer.from(s, 'base64')).buffer);
const W = f64(fx.W);
const X = f64(fx.X);
const H = f64(fx.H);

describe('GPTQ against the PyTorch reference (make_gptq_fixtures.py)', () => {
  it('HessianAccumulator gives AutoGPTQ\'s 2/n·XᵀX', () => {
    const n = fx.in;
    const acc = new HessianAccumulator(n);
    // two batches of 2 sequences each (rows split in half)
    for (const [r0, r1] of [[0, fx.rows / 2], [fx.rows / 2, fx.rows]] as const) {
      const xtx = new Float64Array(n * n);
      for (let r = r0; r < r1; r++) for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) xtx[i * n + j]! += X[r * n + i]! * X[r * n + j]!;
      acc.add(xtx, 2);
    }
    let worst = 0;
    for (let k = 0; k < n * n; k++) worst = Math.max(worst, Math.abs(acc.H[k]! - H[k]!) / (1 + Math.abs(H[k]!)));
    expect(worst).toBeLessThan(1e-12);
  });

  for (const c of fx.cases) {
    it(`codes, scales, zeros, g_idx and packing match (group ${c.groupSize}, act-order ${c.actOrder})`, () => {
      const q = gptqQuantize(W, fx.out, fx.in, H, { groupSize: c.groupSize, actOrder: c.actOrder });
      expect(Array.from(q.gIdx)).toEqual(c.gIdx);
      let diff = 0;
      for (let k = 0; k < c.codes.length; k++) if (q.codes[k] !== c.codes[k]) diff++;
      expect(diff).toBe(0); // float64 on both sides: exact
      for (let k = 0; k < c.scales.length; k++) expect(q.scales[k]).toBeCloseTo(c.scales[k]!, 12);
      expect(Array.from(q.zeros)).toEqual(c.zeros);
      const p = packGptq(q);
      expect(Array.from(p.qweight)).toEqual(c.qweight);
      expect(Array.from(p.qzeros)).toEqual(c.qzeros);
      // unpack round trip
      const codesT = unpackCodes(p);
      for (let o = 0; o < fx.out; o++) for (let i = 0; i < fx.in; i++) expect(codesT[i * fx.out + o]).toBe(q.codes[o * fx.in + i]);
      expect(Array.from(unpackZeros(p))).toEqual(c.zeros.map((z) => z & 15));
    });
  }

  it('beats round-to-nearest on the layer output error ‖XWᵀ − XQᵀ‖²', () => {
    const err = (Q: ArrayLike<number>) => {
      let s = 0;
      for (let r = 0; r < fx.rows; r++) for (let o = 0; o < fx.out; o++) {
        let d = 0;
        for (let i = 0; i < fx.in; i++) d += X[r * fx.in + i]! * (W[o * fx.in + i]! - Q[o * fx.in + i]!);
        s += d * d;
      }
      return s / (fx.rows * fx.out);
    };
    for (const gs of [32, -1]) {
      const g = err(gptqQuantize(W, fx.out, fx.in, H, { groupSize: gs, actOrder: true }).dequant);
      const r = err(dequantize(rtnQuantize(W, fx.out, fx.in, gs)));
      expect(g).toBeLessThan(r);
    }
  });

  it('dequantizePacked equals the unpacked formula with f16 scales', () => {
    const q = gptqQuantize(W, fx.out, fx.in, H, { groupSize: 32, actOrder: true });
    const p = packGptq(q);
    const d = dequantizePacked(p); // [in, out]
    const ref = q.dequant; // [out, in], f64 scales
    let worst = 0;
    for (let o = 0; o < fx.out; o++) for (let i = 0; i < fx.in; i++) worst = Math.max(worst, Math.abs(d[i * fx.out + o]! - ref[o * fx.in + i]!));
    expect(worst).toBeLessThan(2e-3 * 0.05 * 6 * 15); // f16 scale rounding only
  });

  it('roundHalfEven is torch.round', () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, 2.4, -2.6].map(roundHalfEven)).toEqual([0, 2, 2, -0, -2, 2, -3]);
  });
});
