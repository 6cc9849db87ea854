// Q4_0 weights (ggml type 2): each row is cols/32 blocks of 18 bytes
//   { f16 d; u8 qs[16] },  element j: low nibble of qs[j], element j+16: high nibble;
//   w = (q − 8) · d.
//
//   rows4_q4_0(p0, p1, p2, p3, x, cols) → [W0·x, W1·x, W2·x, W3·x]   four rows in flight, one token
//   toks4_q4_0(p, x0, x1, x2, x3, cols) → [W·x0, W·x1, W·x2, W·x3]   one row, four tokens
//
// Nibbles are split with and/shr on i8x16, recentred by −8 there, then converted (simd.ts top0..3).
// rows4 scales each block's Σ (q−8)·x by d once; toks4 dequantizes and reuses for four tokens.
// Example: d = 1, qs[0] = 0xc0 (q0 = 0, q16 = 12), other nibbles 8, x = ones → −8 + 4 = −4.
import { dot4, dot4v, halfAt, sum4, TOP, top0, top1, top2, top3 } from './simd';

const BYTES: usize = 18;

/** Elements 0..15 (low nibbles) of a block's 16 qs bytes, recentred: q − 8 as i8x16. */
@inline function lo(qs: v128): v128 {
  return i8x16.sub(v128.and(qs, i8x16.splat(0x0f)), i8x16.splat(8));
}
/** Elements 16..31 (high nibbles), recentred. */
@inline function hi(qs: v128): v128 {
  return i8x16.sub(i8x16.shr_u(qs, 4), i8x16.splat(8));
}

export function rows4_q4_0(p0: usize, p1: usize, p2: usize, p3: usize, x: usize, cols: i32): v128 {
  let a0 = f32x4.splat(0);
  let a1 = a0, a2 = a0, a3 = a0;
  const nb = cols >> 5;
  for (let b = 0; b < nb; b++) {
    const o = <usize>b * BYTES;
    const xp = x + (<usize>b << 7);
    const q0 = v128.load(p0 + o, 2), q1 = v128.load(p1 + o, 2), q2 = v128.load(p2 + o, 2), q3 = v128.load(p3 + o, 2);
    let x0 = v128.load(xp), x1 = v128.load(xp, 16), x2 = v128.load(xp, 32), x3 = v128.load(xp, 48);
    let q = lo(q0);
    let s0 = dot4v(top0(q), top1(q), top2(q), top3(q), x0, x1, x2, x3);
    q = lo(q1);
    let s1 = dot4v(top0(q), top1(q), top2(q), top3(q), x0, x1, x2, x3);
    q = lo(q2);
    let s2 = dot4v(top0(q), top1(q), top2(q), top3(q), x0, x1, x2, x3);
    q = lo(q3);
    let s3 = dot4v(top0(q), top1(q), top2(q), top3(q), x0, x1, x2, x3);
    x0 = v128.load(xp, 64); x1 = v128.load(xp, 80); x2 = v128.load(xp, 96); x3 = v128.load(xp, 112);
    q = hi(q0);
    s0 = f32x4.add(s0, dot4v(top0(q), top1(q), top2(q), top3(q), x0, x1, x2, x3));
    q = hi(q1);
    s1 = f32x4.add(s1, dot4v(top0(q), top1(q), top2(q), top3(q), x0, x1, x2, x3));
    q = hi(q2);
    s2 = f32x4.add(s2, dot4v(top0(q), top1(q), top2(q), top3(q), x0, x1, x2, x3));
    q = hi(q3);
    s3 = f32x4.add(s3, dot4v(top0(q), top1(q), top2(q), top3(q), x0, x1, x2, x3));
    a0 = f32x4.add(a0, f32x4.mul(s0, f32x4.splat(halfAt(p0 + o) * TOP)));
    a1 = f32x4.add(a1, f32x4.mul(s1, f32x4.splat(halfAt(p1 + o) * TOP)));
    a2 = f32x4.add(a2, f32x4.mul(s2, f32x4.splat(halfAt(p2 + o) * TOP)));
    a3 = f32x4.add(a3, f32x4.mul(s3, f32x4.splat(halfAt(p3 + o) * TOP)));
  }
  return sum4(a0, a1, a2, a3);
}

export function toks4_q4_0(p: usize, x0: usize, x1: usize, x2: usize, x3: usize, cols: i32): v128 {
  let a0 = f32x4.splat(0);
  let a1 = a0, a2 = a0, a3 = a0;
  const nb = cols >> 5;
  for (let b = 0; b < nb; b++) {
    const o = p + <usize>b * BYTES;
    const xo = <usize>b << 7;
    const d = f32x4.splat(halfAt(o) * TOP);
    const qs = v128.load(o, 2);
    let q = lo(qs);
    let w0 = f32x4.mul(top0(q), d), w1 = f32x4.mul(top1(q), d), w2 = f32x4.mul(top2(q), d), w3 = f32x4.mul(top3(q), d);
    a0 = f32x4.add(a0, dot4(w0, w1, w2, w3, x0 + xo));
    a1 = f32x4.add(a1, dot4(w0, w1, w2, w3, x1 + xo));
    a2 = f32x4.add(a2, dot4(w0, w1, w2, w3, x2 + xo));
    a3 = f32x4.add(a3, dot4(w0, w1, w2, w3, x3 + xo));
    q = hi(qs);
    w0 = f32x4.mul(top0(q), d); w1 = f32x4.mul(top1(q), d); w2 = f32x4.mul(top2(q), d); w3 = f32x4.mul(top3(q), d);
    a0 = f32x4.add(a0, dot4(w0, w1, w2, w3, x0 + xo + 64));
    a1 = f32x4.add(a1, dot4(w0, w1, w2, w3, x1 + xo + 64));
    a2 = f32x4.add(a2, dot4(w0, w1, w2, w3, x2 + xo + 64));
    a3 = f32x4.add(a3, dot4(w0, w1, w2, w3, x3 + xo + 64));
  }
  return sum4(a0, a1, a2, a3);
}
