/**
 * AutoGPTQ's v1 checkpoint layout (what HF transformers' GPTQConfig checkpoint_format "gptq" and
 * vLLM load), per linear:
 *   qweight int32 [in/8, out]   input row 8r + j at bits 4j of word (r, o)
 *   qzeros  int32 [G, out/8]    (zero − 1) & 15 of column 8c + j at bits 4j of word (g, c)
 *   scales  f16   [G, out]
 *   g_idx   int32 [in]          group of each input row
 * Dequantization (HF / AutoGPTQ): w[i, o] = scales[g_idx[i], o] · (q[i, o] − ((z'[g, o] + 1) & 15)).
 * A zero point of 0 is stored as 15 (−1 & 15): loaders that add 1 without masking (v1 → v2
 * conversion) read 16 there — the v1 format's known limit; min/max GPTQ gives zero 0 only to a
 * group of all non-negative weights.
 */
import { float16BitsToFloat32, float32ToFloat16Bits } from '@llm/tensor-gpu';
import { QuantError } from '../errors.js';
import type { QuantizedWeight } from './quantizer.js';

export interface PackedGptq {
  bits: 4;
  groupSize: number;
  inFeatures: number;
  outFeatures: number;
  /** [in/8, out]. */
  qweight: Int32Array;
  /** [G, out/8]. */
  qzeros: Int32Array;
  /** f16 bits [G, out]. */
  scales: Uint16Array;
  /** [in]. */
  gIdx: Int32Array;
}

export function packGptq(q: QuantizedWeight): PackedGptq {
  if (q.bits !== 4) throw new QuantError('UNSUPPORTED', `packGptq: only 4-bit weights are packed, got ${q.bits}.`);
  const { out, inF } = q;
  if (inF % 8 !== 0 || out % 8 !== 0) throw new QuantError('UNSUPPORTED', `packGptq: in (${inF}) and out (${out}) features must be multiples of 8 for the GPTQ layout.`);
  const G = q.scales.length / out;
  const qweight = new Int32Array((inF / 8) * out);
  for (let i = 0; i < inF; i++) {
    const r = i >> 3;
    const sh = 4 * (i & 7);
    for (let o = 0; o < out; o++) qweight[r * out + o]! |= (q.codes[o * inF + i]! & 15) << sh;
  }
  const qzeros = new Int32Array(G * (out / 8));
  for (let g = 0; g < G; g++) {
    for (let o = 0; o < out; o++) qzeros[g * (out / 8) + (o >> 3)]! |= ((q.zeros[g * out + o]! - 1) & 15) << (4 * (o & 7));
  }
  const scales = float32ToFloat16Bits(q.scales);
  return { bits: 4, groupSize: q.groupSize, inFeatures: inF, outFeatures: out, qweight, qzeros, scales, gIdx: Int32Array.from(q.gIdx) };
}

/** Check a packed weight's sizes and g_idx range (checkpoint input is untrusted). */
export function validatePacked(p: PackedGptq, what: string): void {
  const { inFeatures: inF, outFeatures: out } = p;
  const bad = (m: string): never => {
    throw new QuantError('CHECKPOINT_INVALID', `${what}: ${m}`);
  };
  if (inF % 8 || out % 8 || inF < 8 || out < 8) bad(`in/out features ${inF}/${out} must be positive multiples of 8.`);
  if (p.qweight.length !== (inF / 8) * out) bad(`qweight has ${p.qweight.length} words, expected ${inF / 8}·${out}.`);
  if (p.gIdx.length !== inF) bad(`g_idx has ${p.gIdx.length} entries, expected ${inF}.`);
  if (p.scales.length % out !== 0) bad(`scales (${p.scales.length}) is not [groups, ${out}].`);
  const G = p.scales.length / out;
  if (p.qzeros.length !== G * (out / 8)) bad(`qzeros has ${p.qzeros.length} words, expected ${G}·${out / 8}.`);
  for (let i = 0; i < inF; i++) if (!(p.gIdx[i]! >= 0 && p.gIdx[i]! < G)) bad(`g_idx[${i}] = ${p.gIdx[i]} is outside [0, ${G}).`);
}

/** Integer codes [in, out] (row-major) of a packed weight. */
export function unpackCodes(p: PackedGptq): Uint8Array {
  const { inFeatures: inF, outFeatures: out } = p;
  const c = new Uint8Array(inF * out);
  for (let i = 0; i < inF; i++) {
    const r = i >> 3;
    const sh = 4 * (i & 7);
    for (let o = 0; o < out; o++) c[i * out + o] = (p.qweight[r * out + o]! >>> sh) & 15;
  }
  return c;
}

/** Zero points [G, out] as loaders read them: ((stored + 1) & 15). */
export function unpackZeros(p: PackedGptq): Uint8Array {
  const out = p.outFeatures;
  const G = p.scales.length / out;
  const z = new Uint8Array(G * out);
  for (let g = 0; g < G; g++) for (let o = 0; o < out; o++) z[g * out + o] = (((p.qzeros[g * (out / 8) + (o >> 3)]! >>> (4 * (o & 7))) & 15) + 1) & 15;
  return z;
}

/**
 * Dequantized weight [in, out] (row-major, float32): scales[g_idx[i], o] · (q[i, o] − zero[g, o]),
 * each input row i optionally divided by inputScale[i] (AWQ's unfolded 1/s).
 */
export function dequantizePacked(p: PackedGptq, inputScale?: Float32Array | null): Float32Array {
  const { inFeatures: inF, outFeatures: out } = p;
  const z = unpackZeros(p);
  const s = float16BitsToFloat32(p.scales);
  const w = new Float32Array(inF * out);
  for (let i = 0; i < inF; i++) {
    const r = i >> 3;
    const sh = 4 * (i & 7);
    const g = p.gIdx[i]! * out;
    const inv = inputScale ? 1 / inputScale[i]! : 1;
    for (let o = 0; o < out; o++) {
      const code = (p.qweight[r * out + o]! >>> sh) & 15;
      w[i * out + o] = s[g + o]! * (code - z[g + o]!) * inv;
    }
  }
  return w;
}
