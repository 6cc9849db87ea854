// Byte-for-byte agreement with fixtures/ggml/*.json, which fixtures/make_ggml_fixtures.py writes
// from an independent loop-form Python transcription of ggml's reference quantizers.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { dequantizeRow, quantizeRow } from './row.js';
import { GGML_TYPE } from './types.js';

interface Fixture {
  type: string;
  cases: { name: string; n: number; input: string; bytes: string; dequant: string }[];
}

const hexBytes = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'));
const hexFloats = (h: string): Float32Array => {
  const b = hexBytes(h);
  return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
};
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

const TYPES = {
  f16: GGML_TYPE.F16,
  q8_0: GGML_TYPE.Q8_0,
  q4_0: GGML_TYPE.Q4_0,
  q4_1: GGML_TYPE.Q4_1,
  q5_0: GGML_TYPE.Q5_0,
  q4_K: GGML_TYPE.Q4_K,
  q6_K: GGML_TYPE.Q6_K,
} as const;

for (const [name, type] of Object.entries(TYPES)) {
  const fx = JSON.parse(
    readFileSync(new URL(`../../fixtures/ggml/${name}.json`, import.meta.url), 'utf8'),
  ) as Fixture;
  describe(`${name} matches the Python reference`, () => {
    it('has cases', () => expect(fx.cases.length).toBeGreaterThan(10));
    for (const c of fx.cases) {
      it(`${c.name}: quantize bytes and dequantized floats are identical`, () => {
        const x = hexFloats(c.input);
        expect(x.length).toBe(c.n);
        const bytes = quantizeRow(type, x);
        expect(toHex(bytes)).toBe(c.bytes);
        const y = dequantizeRow(type, hexBytes(c.bytes), c.n);
        expect(toHex(new Uint8Array(y.buffer))).toBe(c.dequant);
      });
    }
  });
}
