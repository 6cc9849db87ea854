// The two kernels of the 32-element, one-scale block formats (q8_0, q4_0, q4_1, q5_0), generic
// over the format. A format is a @final @unmanaged class of @inline methods, used through
// changetype<F>(0) (never allocated), so each instantiation compiles to straight-line code:
//
//   bytes()          block size in bytes
//   qs(b)            the block's 16 packed quant bytes at block address b (loaded once per block)
//   lo(b, qs)        levels of elements 0..15 as i8x16 (signed; recentred where the format is)
//   hi(b, qs)        levels of elements 16..31
//   d(b)             the block scale × TOP (2^-24, undoing simd.ts top0..3)
//   halfD()          whether d is stored as fp16 at byte 0 (ggml's formats) or as f32 (private ones; q8dot.ts)
//   hasMin(), m(b)   whether w = q·d + m (q4_1), and the block minimum m
//
//   rows4B32<F>(p0, p1, p2, p3, x, cols) → [W0·x, W1·x, W2·x, W3·x]   four rows in flight, one token
//   toks4B32<F>(p, x0, x1, x2, x3, cols) → [W·x0, W·x1, W·x2, W·x3]   one row, four tokens
//
// rows4 sums q·x per block and scales once by d (+ m·Σx, Σx shared by the four rows); toks4
// dequantizes 16 weights at a time and reuses them for the four tokens.
import { accq, accqm, dotq, sum4, xsum } from './simd';

/** acc + s·d(b) (+ sx·m(b) for formats with a minimum). */
@inline function fold<F>(acc: v128, s: v128, sx: v128, b: usize): v128 {
  const f = changetype<F>(0);
  let t = f32x4.mul(s, f32x4.splat(f.d(b)));
  if (f.hasMin()) t = f32x4.add(t, f32x4.mul(sx, f32x4.splat(f.m(b))));
  return f32x4.add(acc, t);
}

/** simd.ts accq / accqm: one token's share of the 16 weights q·d (+ m). */
@inline function acc<F>(a: v128, q: v128, d: v128, m: v128, x: usize): v128 {
  return changetype<F>(0).hasMin() ? accqm(a, q, d, m, x) : accq(a, q, d, x);
}

/**
 * acc + one row's block at b against the 32 x at xp: Σ q·x scaled once by d (+ m·Σ x). The x
 * loads and Σ x are the same expressions for the four rows, so the optimizer computes them once.
 */
@inline function row<F>(acc: v128, b: usize, xp: usize): v128 {
  const f = changetype<F>(0);
  const qs = f.qs(b);
  let x0 = v128.load(xp), x1 = v128.load(xp, 16), x2 = v128.load(xp, 32), x3 = v128.load(xp, 48);
  let sx = xsum(x0, x1, x2, x3); // dropped by the optimizer where there is no minimum
  let s = dotq(f.lo(b, qs), x0, x1, x2, x3);
  x0 = v128.load(xp, 64); x1 = v128.load(xp, 80); x2 = v128.load(xp, 96); x3 = v128.load(xp, 112);
  sx = f32x4.add(sx, xsum(x0, x1, x2, x3));
  s = f32x4.add(s, dotq(f.hi(b, qs), x0, x1, x2, x3));
  return fold<F>(acc, s, sx, b);
}

@inline export function rows4B32<F>(p0: usize, p1: usize, p2: usize, p3: usize, x: usize, cols: i32): v128 {
  const f = changetype<F>(0);
  let a0 = f32x4.splat(0);
  let a1 = a0, a2 = a0, a3 = a0;
  const nb = cols >> 5;
  for (let b = 0; b < nb; b++) {
    const o = <usize>b * f.bytes();
    const xp = x + (<usize>b << 7);
    a0 = row<F>(a0, p0 + o, xp); a1 = row<F>(a1, p1 + o, xp);
    a2 = row<F>(a2, p2 + o, xp); a3 = row<F>(a3, p3 + o, xp);
  }
  return sum4(a0, a1, a2, a3);
}

@inline export function toks4B32<F>(p: usize, x0: usize, x1: usize, x2: usize, x3: usize, cols: i32): v128 {
  const f = changetype<F>(0);
  let a0 = f32x4.splat(0);
  let a1 = a0, a2 = a0, a3 = a0, m = a0;
  const nb = cols >> 5;
  for (let b = 0; b < nb; b++) {
    const o = p + <usize>b * f.bytes();
    const xo = <usize>b << 7;
    const d = f32x4.splat(f.d(o));
    if (f.hasMin()) m = f32x4.splat(f.m(o));
    const qs = f.qs(o);
    let q = f.lo(o, qs);
    a0 = acc<F>(a0, q, d, m, x0 + xo); a1 = acc<F>(a1, q, d, m, x1 + xo);
    a2 = acc<F>(a2, q, d, m, x2 + xo); a3 = acc<F>(a3, q, d, m, x3 + xo);
    q = f.hi(o, qs);
    a0 = acc<F>(a0, q, d, m, x0 + xo + 64); a1 = acc<F>(a1, q, d, m, x1 + xo + 64);
    a2 = acc<F>(a2, q, d, m, x2 + xo + 64); a3 = acc<F>(a3, q, d, m, x3 + xo + 64);
  }
  return sum4(a0, a1, a2, a3);
}
