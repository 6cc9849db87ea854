// NF4 weights (private format 102, not a ggml type): @llm/quant's / bitsandbytes' NF4 as cols/32
// blocks of 20 bytes
//   { f32 absmax; u8 qs[16] },  qs = the 16 bitsandbytes bytes of the block's 32 elements as they
//   are (element 2k in the HIGH nibble of qs[k], 2k+1 in the low one);  w = NF4[q] · absmax.
// An NF4 block of 64 (or 128 …) values spans two (or more) 32-blocks, each with its absmax
// repeated; a double-quantized absmax is dequantized to f32 by @llm/quant when packing. NF4[q]
// is looked up exactly: the 16 f32 codes are stored as four byte planes (byte k of every code);
// one swizzle per plane gathers byte k of 16 codes at once, and two rounds of byte shuffles
// interleave the planes back into f32 lanes — so w is bit for bit bitsandbytes' f32(code · absmax).
//
//   rows4_nf4(p0, p1, p2, p3, x, cols) → [W0·x, W1·x, W2·x, W3·x]   four rows in flight, one token
//   toks4_nf4(p, x0, x1, x2, x3, cols) → [W·x0, W·x1, W·x2, W·x3]   one row, four tokens
//
// rows4 sums NF4[q]·x per block and scales once by absmax; toks4 dequantizes 16 weights at a time
// and reuses them for the four tokens. Example: absmax = 2, qs[0] = 0xf0 (q0 = 15 → 1.0,
// q1 = 0 → −1.0), other nibbles 7 (0.0), x = [3, 1, 0, …] → 2 · (3 − 1) = 4.
import { dot4, dot4v, sum4 } from './simd';

// Byte planes of bitsandbytes' NF4 table (@llm/quant NF4_CODE, little-endian f32 bits; the
// kernel tests check every code against it): PLANE_k[i] = byte k of NF4_CODE[i].
const PLANE_0 = i8x16(0, -79, 48, -96, 77, 63, 113, 0, -1, -29, -35, 58, -72, -85, -77, 0);
const PLANE_1 = i8x16(0, 57, 107, 50, -94, 53, 120, 0, -6, -54, 4, 3, -92, 7, 19, 0);
const PLANE_2 = i8x16(-128, 50, 6, -54, -111, 61, -70, 0, -94, 36, 124, -83, -31, 16, 57, -128);
const PLANE_3 = i8x16(-65, -65, -65, -66, -66, -66, -67, 0, 61, 62, 62, 62, 62, 63, 63, 63);

/** Codes of elements 0..15 of the block (bitsandbytes' pairs: high nibble first) as i8x16. */
@inline function codesLo(qs: v128): v128 {
  return i8x16.shuffle(i8x16.shr_u(qs, 4), v128.and(qs, i8x16.splat(0x0f)), 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
}

/** Codes of elements 16..31. */
@inline function codesHi(qs: v128): v128 {
  return i8x16.shuffle(i8x16.shr_u(qs, 4), v128.and(qs, i8x16.splat(0x0f)), 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
}

// NF4[c] of 16 codes c (0..15) as f32x4 lanes of elements 0..3, 4..7, 8..11, 12..15: the four
// planes gathered by c, then pairs of planes interleaved into 16-bit halves (w01 low halves, w23
// high halves; *_a elements 0..7, *_b 8..15), then the halves into f32 lanes.
@inline function planes01a(c: v128): v128 { return i8x16.shuffle(i8x16.swizzle(PLANE_0, c), i8x16.swizzle(PLANE_1, c), 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23); }
@inline function planes01b(c: v128): v128 { return i8x16.shuffle(i8x16.swizzle(PLANE_0, c), i8x16.swizzle(PLANE_1, c), 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31); }
@inline function planes23a(c: v128): v128 { return i8x16.shuffle(i8x16.swizzle(PLANE_2, c), i8x16.swizzle(PLANE_3, c), 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23); }
@inline function planes23b(c: v128): v128 { return i8x16.shuffle(i8x16.swizzle(PLANE_2, c), i8x16.swizzle(PLANE_3, c), 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31); }
/** Four f32 from 16-bit halves: join0 of lanes 0..3 of lo (low halves) and hi (high halves), join1 of lanes 4..7. */
@inline function join0(lo: v128, hi: v128): v128 { return i8x16.shuffle(lo, hi, 0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23); }
@inline function join1(lo: v128, hi: v128): v128 { return i8x16.shuffle(lo, hi, 8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31); }

/** Lane-wise Σ NF4[c]·x over 16 elements, x0..x3 in registers. */
@inline function dotc(c: v128, x0: v128, x1: v128, x2: v128, x3: v128): v128 {
  const a01 = planes01a(c), a23 = planes23a(c), b01 = planes01b(c), b23 = planes23b(c);
  return dot4v(join0(a01, a23), join1(a01, a23), join0(b01, b23), join1(b01, b23), x0, x1, x2, x3);
}

/** The 16 weights NF4[c]·absmax, dotted with x at byte address xp (one token's share). */
@inline function accw(acc: v128, c: v128, a: v128, xp: usize): v128 {
  const a01 = planes01a(c), a23 = planes23a(c), b01 = planes01b(c), b23 = planes23b(c);
  return f32x4.add(acc, dot4(f32x4.mul(join0(a01, a23), a), f32x4.mul(join1(a01, a23), a), f32x4.mul(join0(b01, b23), a), f32x4.mul(join1(b01, b23), a), xp));
}

/** acc + absmax · Σ NF4[q]·x over one row's block at b and the 32 x at xp. */
@inline function row(acc: v128, b: usize, xp: usize): v128 {
  const qs = v128.load(b, 4);
  let s = dotc(codesLo(qs), v128.load(xp), v128.load(xp, 16), v128.load(xp, 32), v128.load(xp, 48));
  s = f32x4.add(s, dotc(codesHi(qs), v128.load(xp, 64), v128.load(xp, 80), v128.load(xp, 96), v128.load(xp, 112)));
  return f32x4.add(acc, f32x4.mul(s, f32x4.splat(load<f32>(b))));
}

export function rows4_nf4(p0: usize, p1: usize, p2: usize, p3: usize, x: usize, cols: i32): v128 {
  let a0 = f32x4.splat(0);
  let a1 = a0, a2 = a0, a3 = a0;
  const nb = cols >> 5;
  for (let b = 0; b < nb; b++) {
    const o = <usize>b * 20;
    const xp = x + (<usize>b << 7);
    a0 = row(a0, p0 + o, xp); a1 = row(a1, p1 + o, xp);
    a2 = row(a2, p2 + o, xp); a3 = row(a3, p3 + o, xp);
  }
  return sum4(a0, a1, a2, a3);
}

export function toks4_nf4(p: usize, x0: usize, x1: usize, x2: usize, x3: usize, cols: i32): v128 {
  let a0 = f32x4.splat(0);
  let a1 = a0, a2 = a0, a3 = a0;
  const nb = cols >> 5;
  for (let b = 0; b < nb; b++) {
    const o = p + <usize>b * 20;
    const xo = <usize>b << 7;
    const a = f32x4.splat(load<f32>(o));
    const qs = v128.load(o, 4);
    let c = codesLo(qs);
    a0 = accw(a0, c, a, x0 + xo); a1 = accw(a1, c, a, x1 + xo);
    a2 = accw(a2, c, a, x2 + xo); a3 = accw(a3, c, a, x3 + xo);
    c = codesHi(qs);
    a0 = accw(a0, c, a, x0 + xo + 64); a1 = accw(a1, c, a, x1 + xo + 64);
    a2 = accw(a2, c, a, x2 + xo + 64); a3 = accw(a3, c, a, x3 + xo + 64);
  }
  return sum4(a0, a1, a2, a3);
}
