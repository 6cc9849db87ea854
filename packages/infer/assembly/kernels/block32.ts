// The two kernels of the 32-element, one-scale block formats (q8_0, q4_0, q4_1, q5_0), generic
// over the format. A format is a @final @unmanaged class of @inline methods, used through
// changetype<F>(0) (never allocated), so each instantiation compiles to straight-line code:
//
//   bytes()          block size in bytes
//   qs(b)            the block's 16 packed quant bytes at block address b (loaded once per block)
//   lo(b, qs)        levels of elements 0..15 as i8x16 (signed; recentred where the format is)
//   hi(b, qs)        levels of elements 16..31
//   d(b)             the block scale × TOP (2^-24, undoing simd.ts top0..3)
//   hasMin(), m(b)   whether w = q·d + m (q4_1), and the block minimum m
//
//   rows4B32<F>(p0, p1, p2, p3, x, cols) → [W0·x, W1·x, W2·x, W3·x]   four rows in flight, one token
//   toks4B32<F>(p, x0, x1, x2, x3, cols) → [W·x0, W·x1, W·x2, W·x3]   one row, four tokens
//
// rows4 sums q·x per block and scales once by d (+ m·Σx, Σx shared by the four rows); toks4
// dequantizes 16 weights at a time and reuses them for the four tokens.
import { dot4, dotq, sum4, top0, top1, top2, top3, xsum } from './simd';

/** acc + s·d(b) (+ sx·m(b) for formats with a minimum). */
@inline function fold<F>(acc: v128, s: v128, sx: v128, b: usize): v128 {
  const f = changetype<F>(0);
  let t = f32x4.mul(s, f32x4.splat(f.d(b)));
  if (f.hasMin()) t = f32x4.add(t, f32x4.mul(sx, f32x4.splat(f.m(b))));
  return f32x4.add(acc, t);
}

/** Weights top_k(q)·d (+ m) of lanes 4k..4k+3. */
@inline function deq<F>(t: v128, d: v128, m: v128): v128 {
  const w = f32x4.mul(t, d);
  return changetype<F>(0).hasMin() ? f32x4.add(w, m) : w;
}

@inline export function rows4B32<F>(p0: usize, p1: usize, p2: usize, p3: usize, x: usize, cols: i32): v128 {
  const f = changetype<F>(0);
  let a0 = f32x4.splat(0);
  let a1 = a0, a2 = a0, a3 = a0, sx = a0;
  const nb = cols >> 5;
  for (let b = 0; b < nb; b++) {
    const o = <usize>b * f.bytes();
    const b0 = p0 + o, b1 = p1 + o, b2 = p2 + o, b3 = p3 + o;
    const xp = x + (<usize>b << 7);
    const q0 = f.qs(b0), q1 = f.qs(b1), q2 = f.qs(b2), q3 = f.qs(b3);
    let x0 = v128.load(xp), x1 = v128.load(xp, 16), x2 = v128.load(xp, 32), x3 = v128.load(xp, 48);
    if (f.hasMin()) sx = xsum(x0, x1, x2, x3);
    let s0 = dotq(f.lo(b0, q0), x0, x1, x2, x3);
    let s1 = dotq(f.lo(b1, q1), x0, x1, x2, x3);
    let s2 = dotq(f.lo(b2, q2), x0, x1, x2, x3);
    let s3 = dotq(f.lo(b3, q3), x0, x1, x2, x3);
    x0 = v128.load(xp, 64); x1 = v128.load(xp, 80); x2 = v128.load(xp, 96); x3 = v128.load(xp, 112);
    if (f.hasMin()) sx = f32x4.add(sx, xsum(x0, x1, x2, x3));
    s0 = f32x4.add(s0, dotq(f.hi(b0, q0), x0, x1, x2, x3));
    s1 = f32x4.add(s1, dotq(f.hi(b1, q1), x0, x1, x2, x3));
    s2 = f32x4.add(s2, dotq(f.hi(b2, q2), x0, x1, x2, x3));
    s3 = f32x4.add(s3, dotq(f.hi(b3, q3), x0, x1, x2, x3));
    a0 = fold<F>(a0, s0, sx, b0);
    a1 = fold<F>(a1, s1, sx, b1);
    a2 = fold<F>(a2, s2, sx, b2);
    a3 = fold<F>(a3, s3, sx, b3);
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
    let w0 = deq<F>(top0(q), d, m), w1 = deq<F>(top1(q), d, m), w2 = deq<F>(top2(q), d, m), w3 = deq<F>(top3(q), d, m);
    a0 = f32x4.add(a0, dot4(w0, w1, w2, w3, x0 + xo));
    a1 = f32x4.add(a1, dot4(w0, w1, w2, w3, x1 + xo));
    a2 = f32x4.add(a2, dot4(w0, w1, w2, w3, x2 + xo));
    a3 = f32x4.add(a3, dot4(w0, w1, w2, w3, x3 + xo));
    q = f.hi(o, qs);
    w0 = deq<F>(top0(q), d, m); w1 = deq<F>(top1(q), d, m); w2 = deq<F>(top2(q), d, m); w3 = deq<F>(top3(q), d, m);
    a0 = f32x4.add(a0, dot4(w0, w1, w2, w3, x0 + xo + 64));
    a1 = f32x4.add(a1, dot4(w0, w1, w2, w3, x1 + xo + 64));
    a2 = f32x4.add(a2, dot4(w0, w1, w2, w3, x2 + xo + 64));
    a3 = f32x4.add(a3, dot4(w0, w1, w2, w3, x3 + xo + 64));
  }
  return sum4(a0, a1, a2, a3);
}
