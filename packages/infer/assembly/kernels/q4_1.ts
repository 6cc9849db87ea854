// Q4_1 weights (ggml type 3): each row is cols/32 blocks of 20 bytes
//   { f16 d; f16 m; u8 qs[16] },  element j: low nibble of qs[j], element j+16: high nibble;
//   w = q · d + m.
//
//   rows4_q4_1(p0, p1, p2, p3, x, cols) → [W0·x, W1·x, W2·x, W3·x]   four rows in flight, one token
//   toks4_q4_1(p, x0, x1, x2, x3, cols) → [W·x0, W·x1, W·x2, W·x3]   one row, four tokens
//
// rows4 uses Σ w·x = d·Σ q·x + m·Σ x per block (Σ x shared by the four rows); toks4 dequantizes
// 16 weights at a time (q·d + m) and reuses them for four tokens.
// Example: d = 1, m = −1, all nibbles 1, x = ones → 32 · (1 − 1) = 0.
import { dot4, dot4v, halfAt, sum4, TOP, top0, top1, top2, top3 } from './simd';

const BYTES: usize = 20;

@inline function lo(qs: v128): v128 {
  return v128.and(qs, i8x16.splat(0x0f));
}
@inline function hi(qs: v128): v128 {
  return i8x16.shr_u(qs, 4);
}

export function rows4_q4_1(p0: usize, p1: usize, p2: usize, p3: usize, x: usize, cols: i32): v128 {
  let a0 = f32x4.splat(0);
  let a1 = a0, a2 = a0, a3 = a0;
  const nb = cols >> 5;
  for (let b = 0; b < nb; b++) {
    const o = <usize>b * BYTES;
    const xp = x + (<usize>b << 7);
    const q0 = v128.load(p0 + o, 4), q1 = v128.load(p1 + o, 4), q2 = v128.load(p2 + o, 4), q3 = v128.load(p3 + o, 4);
    let x0 = v128.load(xp), x1 = v128.load(xp, 16), x2 = v128.load(xp, 32), x3 = v128.load(xp, 48);
    let sx = f32x4.add(f32x4.add(x0, x1), f32x4.add(x2, x3));
    let q = lo(q0);
    let s0 = dot4v(top0(q), top1(q), top2(q), top3(q), x0, x1, x2, x3);
    q = lo(q1);
    let s1 = dot4v(top0(q), top1(q), top2(q), top3(q), x0, x1, x2, x3);
    q = lo(q2);
    let s2 = dot4v(top0(q), top1(q), top2(q), top3(q), x0, x1, x2, x3);
    q = lo(q3);
    let s3 = dot4v(top0(q), top1(q), top2(q), top3(q), x0, x1, x2, x3);
    x0 = v128.load(xp, 64); x1 = v128.load(xp, 80); x2 = v128.load(xp, 96); x3 = v128.load(xp, 112);
    sx = f32x4.add(sx, f32x4.add(f32x4.add(x0, x1), f32x4.add(x2, x3)));
    q = hi(q0);
    s0 = f32x4.add(s0, dot4v(top0(q), top1(q), top2(q), top3(q), x0, x1, x2, x3));
    q = hi(q1);
    s1 = f32x4.add(s1, dot4v(top0(q), top1(q), top2(q), top3(q), x0, x1, x2, x3));
    q = hi(q2);
    s2 = f32x4.add(s2, dot4v(top0(q), top1(q), top2(q), top3(q), x0, x1, x2, x3));
    q = hi(q3);
    s3 = f32x4.add(s3, dot4v(top0(q), top1(q), top2(q), top3(q), x0, x1, x2, x3));
    a0 = f32x4.add(a0, f32x4.add(f32x4.mul(s0, f32x4.splat(halfAt(p0 + o) * TOP)), f32x4.mul(sx, f32x4.splat(halfAt(p0 + o + 2)))));
    a1 = f32x4.add(a1, f32x4.add(f32x4.mul(s1, f32x4.splat(halfAt(p1 + o) * TOP)), f32x4.mul(sx, f32x4.splat(halfAt(p1 + o + 2)))));
    a2 = f32x4.add(a2, f32x4.add(f32x4.mul(s2, f32x4.splat(halfAt(p2 + o) * TOP)), f32x4.mul(sx, f32x4.splat(halfAt(p2 + o + 2)))));
    a3 = f32x4.add(a3, f32x4.add(f32x4.mul(s3, f32x4.splat(halfAt(p3 + o) * TOP)), f32x4.mul(sx, f32x4.splat(halfAt(p3 + o + 2)))));
  }
  return sum4(a0, a1, a2, a3);
}

export function toks4_q4_1(p: usize, x0: usize, x1: usize, x2: usize, x3: usize, cols: i32): v128 {
  let a0 = f32x4.splat(0);
  let a1 = a0, a2 = a0, a3 = a0;
  const nb = cols >> 5;
  for (let b = 0; b < nb; b++) {
    const o = p + <usize>b * BYTES;
    const xo = <usize>b << 7;
    const d = f32x4.splat(halfAt(o) * TOP);
    const m = f32x4.splat(halfAt(o + 2));
    const qs = v128.load(o, 4);
    let q = lo(qs);
    let w0 = f32x4.add(f32x4.mul(top0(q), d), m), w1 = f32x4.add(f32x4.mul(top1(q), d), m);
    let w2 = f32x4.add(f32x4.mul(top2(q), d), m), w3 = f32x4.add(f32x4.mul(top3(q), d), m);
    a0 = f32x4.add(a0, dot4(w0, w1, w2, w3, x0 + xo));
    a1 = f32x4.add(a1, dot4(w0, w1, w2, w3, x1 + xo));
    a2 = f32x4.add(a2, dot4(w0, w1, w2, w3, x2 + xo));
    a3 = f32x4.add(a3, dot4(w0, w1, w2, w3, x3 + xo));
    q = hi(qs);
    w0 = f32x4.add(f32x4.mul(top0(q), d), m); w1 = f32x4.add(f32x4.mul(top1(q), d), m);
    w2 = f32x4.add(f32x4.mul(top2(q), d), m); w3 = f32x4.add(f32x4.mul(top3(q), d), m);
    a0 = f32x4.add(a0, dot4(w0, w1, w2, w3, x0 + xo + 64));
    a1 = f32x4.add(a1, dot4(w0, w1, w2, w3, x1 + xo + 64));
    a2 = f32x4.add(a2, dot4(w0, w1, w2, w3, x2 + xo + 64));
    a3 = f32x4.add(a3, dot4(w0, w1, w2, w3, x3 + xo + 64));
  }
  return sum4(a0, a1, a2, a3);
}
