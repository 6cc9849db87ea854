// Q8_0 weights (ggml type 8): each row is cols/32 blocks of 34 bytes
//   { f16 d; i8 qs[32] },  w[j] = qs[j] · d.
//
//   rows4_q8_0(p0, p1, p2, p3, x, cols) → [W0·x, W1·x, W2·x, W3·x]   four rows in flight, one token
//   toks4_q8_0(p, x0, x1, x2, x3, cols) → [W·x0, W·x1, W·x2, W·x3]   one row, four tokens
//
// Bytes become floats by simd.ts top0..3 (swizzle into the top byte of an i32 lane, convert:
// q·2^24, the 2^-24 folded into d). rows4 sums q·x per block and scales once by d; toks4
// dequantizes 16 weights at a time and reuses them for the four tokens.
// Example: one block d = 1 (00 3c), qs = [2, 0, …], x = [3, …] → 6.
import { dot4, dot4v, halfAt, sum4, TOP, top0, top1, top2, top3 } from './simd';

const BYTES: usize = 34;

export function rows4_q8_0(p0: usize, p1: usize, p2: usize, p3: usize, x: usize, cols: i32): v128 {
  let a0 = f32x4.splat(0);
  let a1 = a0, a2 = a0, a3 = a0;
  const nb = cols >> 5;
  for (let b = 0; b < nb; b++) {
    const o = <usize>b * BYTES;
    const xp = x + (<usize>b << 7);
    let x0 = v128.load(xp), x1 = v128.load(xp, 16), x2 = v128.load(xp, 32), x3 = v128.load(xp, 48);
    a0 = f32x4.add(a0, f32x4.mul(half(p0 + o, 2, x0, x1, x2, x3), f32x4.splat(halfAt(p0 + o) * TOP)));
    a1 = f32x4.add(a1, f32x4.mul(half(p1 + o, 2, x0, x1, x2, x3), f32x4.splat(halfAt(p1 + o) * TOP)));
    a2 = f32x4.add(a2, f32x4.mul(half(p2 + o, 2, x0, x1, x2, x3), f32x4.splat(halfAt(p2 + o) * TOP)));
    a3 = f32x4.add(a3, f32x4.mul(half(p3 + o, 2, x0, x1, x2, x3), f32x4.splat(halfAt(p3 + o) * TOP)));
    x0 = v128.load(xp, 64); x1 = v128.load(xp, 80); x2 = v128.load(xp, 96); x3 = v128.load(xp, 112);
    a0 = f32x4.add(a0, f32x4.mul(half(p0 + o, 18, x0, x1, x2, x3), f32x4.splat(halfAt(p0 + o) * TOP)));
    a1 = f32x4.add(a1, f32x4.mul(half(p1 + o, 18, x0, x1, x2, x3), f32x4.splat(halfAt(p1 + o) * TOP)));
    a2 = f32x4.add(a2, f32x4.mul(half(p2 + o, 18, x0, x1, x2, x3), f32x4.splat(halfAt(p2 + o) * TOP)));
    a3 = f32x4.add(a3, f32x4.mul(half(p3 + o, 18, x0, x1, x2, x3), f32x4.splat(halfAt(p3 + o) * TOP)));
  }
  return sum4(a0, a1, a2, a3);
}

/** Lane-wise Σ (qs·2^24)·x over the 16 int8 at byte b + off (off = 2 or 18). */
@inline function half(b: usize, off: usize, x0: v128, x1: v128, x2: v128, x3: v128): v128 {
  const q = v128.load(b + off);
  return dot4v(top0(q), top1(q), top2(q), top3(q), x0, x1, x2, x3);
}

export function toks4_q8_0(p: usize, x0: usize, x1: usize, x2: usize, x3: usize, cols: i32): v128 {
  let a0 = f32x4.splat(0);
  let a1 = a0, a2 = a0, a3 = a0;
  const nb = cols >> 5;
  for (let b = 0; b < nb; b++) {
    const o = p + <usize>b * BYTES;
    const xo = <usize>b << 7;
    const d = f32x4.splat(halfAt(o) * TOP);
    let q = v128.load(o, 2);
    let w0 = f32x4.mul(top0(q), d), w1 = f32x4.mul(top1(q), d), w2 = f32x4.mul(top2(q), d), w3 = f32x4.mul(top3(q), d);
    a0 = f32x4.add(a0, dot4(w0, w1, w2, w3, x0 + xo));
    a1 = f32x4.add(a1, dot4(w0, w1, w2, w3, x1 + xo));
    a2 = f32x4.add(a2, dot4(w0, w1, w2, w3, x2 + xo));
    a3 = f32x4.add(a3, dot4(w0, w1, w2, w3, x3 + xo));
    q = v128.load(o, 18);
    w0 = f32x4.mul(top0(q), d); w1 = f32x4.mul(top1(q), d); w2 = f32x4.mul(top2(q), d); w3 = f32x4.mul(top3(q), d);
    a0 = f32x4.add(a0, dot4(w0, w1, w2, w3, x0 + xo + 64));
    a1 = f32x4.add(a1, dot4(w0, w1, w2, w3, x1 + xo + 64));
    a2 = f32x4.add(a2, dot4(w0, w1, w2, w3, x2 + xo + 64));
    a3 = f32x4.add(a3, dot4(w0, w1, w2, w3, x3 + xo + 64));
  }
  return sum4(a0, a1, a2, a3);
}
