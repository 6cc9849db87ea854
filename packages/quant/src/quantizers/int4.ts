/**
 * Group-wise int4 round-to-nearest over the INPUT dimension of a weight [out, in]: each row is cut
 * into groups of `groupSize` consecutive input columns (the last one may be shorter), each group
 * has a float32 scale and a 4-bit zero point, and w ≈ (q − zero) · scale with q in [0, 15].
 *
 *   symmetric:  scale = absmax / 7, q − 8 = clamp(round(w / scale), −8, 7), zero = 8
 *   asymmetric: min = min(w, 0), max = max(w, 0) (GPTQ / AutoGPTQ's range, so 0 is exact),
 *               scale = (max − min) / 15, zero = round(−min / scale), q = clamp(round(w / scale) + zero, 0, 15)
 *
 * Rounding is half-to-even (torch.round), every op float32 (w / scale is a float32 division).
 * A group that is all zeros gets scale 0 and zero 8 (it dequantizes to zeros).
 *
 * Packing (packInt4): the row-major [out, in] codes flattened, two per byte, element 2k in the
 * LOW nibble and 2k+1 in the HIGH nibble (GPTQ's order within its int32 words); an odd count pads
 * a zero nibble. GPTQ and AWQ reuse packInt4 / Int4Weight / Int4Linear for their own codes.
 *
 *   const q = quantizeInt4({ data, shape: [out, in] }, { groupSize: 128, symmetric: false });
 *   q.packed; q.scales; q.zeros; q.dequantize();
 */
import { QuantError } from '../errors.js';
import { checkMatrix, f32, roundHalfEven, type WeightMatrix } from './common.js';

/** Codes 0..15 → bytes, element 2k in the low nibble, 2k+1 in the high nibble. */
export function packInt4(codes: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(Math.ceil(codes.length / 2));
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i]!;
    if (!Number.isInteger(c) || c < 0 || c > 15) throw new QuantError('INVALID_ARGUMENT', `packInt4: code ${c} at index ${i} is not an integer in [0, 15].`);
    out[i >> 1]! |= i % 2 === 0 ? c : c << 4;
  }
  return out;
}

/** The first n codes of packInt4's bytes. */
export function unpackInt4(packed: Uint8Array, n: number): Uint8Array {
  if (packed.length < Math.ceil(n / 2)) throw new QuantError('INVALID_ARGUMENT', `unpackInt4: ${packed.length} bytes hold fewer than ${n} codes.`);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = i % 2 === 0 ? packed[i >> 1]! & 15 : packed[i >> 1]! >> 4;
  return out;
}

/** A group-wise 4-bit weight: what Int4Linear runs (RTN int4 here; GPTQ/AWQ produce the same parts). */
export interface Int4Weight {
  readonly scheme: 'int4';
  /** [out, in] */
  readonly shape: [number, number];
  readonly groupSize: number;
  /** Whether the zero points are all 8 by construction (informational). */
  readonly symmetric: boolean;
  /** packInt4 of the [out, in] codes. */
  readonly packed: Uint8Array;
  /** [out, nGroups] float32, nGroups = ⌈in / groupSize⌉. */
  readonly scales: Float32Array;
  /** [out, nGroups] in [0, 15]. */
  readonly zeros: Uint8Array;
  dequantize(): Float32Array;
  /** Packed codes + scales (4 bytes each) + zeros (one byte each; half a byte when packed). */
  byteSize(): number;
}

export interface Int4Options {
  /** Input columns per group (default 128). */
  groupSize?: number;
  /** Symmetric (scale = absmax/7, zero 8) or asymmetric with a zero point. Default true. */
  symmetric?: boolean;
}

export const INT4_GROUP_SIZES = [32, 64, 128] as const;

export function quantizeInt4(w: WeightMatrix, opts: Int4Options = {}): Int4Weight {
  const [out, inF] = checkMatrix(w, 'quantizeInt4');
  const g = opts.groupSize ?? 128;
  if (!Number.isInteger(g) || g < 2 || g % 2 !== 0) throw new QuantError('INVALID_ARGUMENT', `quantizeInt4: groupSize must be an even integer ≥ 2 (32, 64 or 128 usually), got ${g}.`);
  const sym = opts.symmetric ?? true;
  const nG = Math.ceil(inF / g);
  const codes = new Uint8Array(out * inF);
  const scales = new Float32Array(out * nG);
  const zeros = new Uint8Array(out * nG);
  for (let o = 0; o < out; o++) {
    for (let k = 0; k < nG; k++) {
      const lo = o * inF + k * g;
      const hi = o * inF + Math.min(inF, (k + 1) * g);
      let mn = 0;
      let mx = 0;
      for (let i = lo; i < hi; i++) {
        mn = Math.min(mn, w.data[i]!);
        mx = Math.max(mx, w.data[i]!);
      }
      let scale: number;
      let zero: number;
      if (sym) {
        scale = f32(Math.max(-mn, mx) / 7);
        zero = 8;
      } else {
        scale = f32(f32(mx - mn) / 15);
        zero = scale === 0 ? 8 : Math.min(15, Math.max(0, roundHalfEven(f32(-mn / scale))));
      }
      scales[o * nG + k] = scale;
      zeros[o * nG + k] = zero;
      for (let i = lo; i < hi; i++) {
        if (scale === 0) {
          codes[i] = zero;
          continue;
        }
        const r = roundHalfEven(f32(w.data[i]! / scale));
        codes[i] = sym ? Math.min(7, Math.max(-8, r)) + 8 : Math.min(15, Math.max(0, r + zero));
      }
    }
  }
  return makeInt4([out, inF], g, sym, packInt4(codes), scales, zeros);
}

/** (q − zero) · scale for [out, in] codes (float32). */
export function dequantizeInt4(codes: Uint8Array, scales: Float32Array, zeros: Uint8Array, shape: readonly [number, number], groupSize: number): Float32Array {
  const [out, inF] = shape;
  const nG = Math.ceil(inF / groupSize);
  const r = new Float32Array(out * inF);
  for (let o = 0; o < out; o++) {
    for (let i = 0; i < inF; i++) {
      const gi = o * nG + Math.floor(i / groupSize);
      r[o * inF + i] = f32((codes[o * inF + i]! - zeros[gi]!) * scales[gi]!);
    }
  }
  return r;
}

/** An Int4Weight from its parts (checked): what GPTQ / AWQ / checkpoint loading build. */
export function makeInt4(shape: [number, number], groupSize: number, symmetric: boolean, packed: Uint8Array, scales: Float32Array, zeros: Uint8Array): Int4Weight {
  const [out, inF] = shape;
  const nG = Math.ceil(inF / groupSize);
  if (packed.length !== Math.ceil((out * inF) / 2)) throw new QuantError('INVALID_ARGUMENT', `int4: ${packed.length} packed bytes for ${out}×${inF} values (expected ${Math.ceil((out * inF) / 2)}).`);
  if (scales.length !== out * nG || zeros.length !== out * nG) throw new QuantError('INVALID_ARGUMENT', `int4: ${scales.length} scales and ${zeros.length} zeros for ${out}×${nG} groups.`);
  for (let i = 0; i < zeros.length; i++) if (zeros[i]! > 15) throw new QuantError('INVALID_ARGUMENT', `int4: zero point ${zeros[i]} at ${i} is not in [0, 15].`);
  for (let i = 0; i < scales.length; i++) if (!Number.isFinite(scales[i]!)) throw new QuantError('INVALID_ARGUMENT', `int4: scale ${scales[i]} at ${i} is not finite.`);
  return {
    scheme: 'int4',
    shape,
    groupSize,
    symmetric,
    packed,
    scales,
    zeros,
    dequantize: () => dequantizeInt4(unpackInt4(packed, out * inF), scales, zeros, shape, groupSize),
    byteSize: () => packed.length + scales.length * 4 + Math.ceil(zeros.length / 2),
  };
}
