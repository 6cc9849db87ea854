// Q5_0 weights (ggml type 6): each row is cols/32 blocks of 22 bytes
//   { f16 d; u32 qh; u8 qs[16] },  q[j] = (nibble j) | (bit j of qh) << 4, element j: low nibble
//   of qs[j], element j+16: high nibble of qs[j] (bit j+16 of qh);  w = (q − 16) · d.
//
//   rows4_q5_0(p0, p1, p2, p3, x, cols) → [W0·x, W1·x, W2·x, W3·x]   four rows in flight, one token
//   toks4_q5_0(p, x0, x1, x2, x3, cols) → [W·x0, W·x1, W·x2, W·x3]   one row, four tokens
//
// The 16 high bits of a half block become 0/16 bytes by a byte shuffle of qh, an and with the
// per-lane bit (1, 2, 4 … 128 twice) and a compare. Example: d = 1, qh = 0xfffffffe, qs = 0,
// x = ones → (0 − 16) + 31 · (16 − 16) = −16.
import { dot4, dot4v, halfAt, sum4, TOP, top0, top1, top2, top3 } from './simd';

const BYTES: usize = 22;

/** 16 bytes of 0 or 16: bit (k·8 + i) of `qh` at lane i (k = byte 0/1 for lanes 0..7/8..15). */
@inline function highBits(qhv: v128, lo: bool): v128 {
  const spread = lo
    ? i8x16.shuffle(qhv, qhv, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1)
    : i8x16.shuffle(qhv, qhv, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
  const bit = i8x16(1, 2, 4, 8, 16, 32, 64, -128, 1, 2, 4, 8, 16, 32, 64, -128);
  return v128.and(i8x16.eq(v128.and(spread, bit), bit), i8x16.splat(16));
}

/** Levels − 16 of elements 0..15 of the block at `b`. */
@inline function levelLo(b: usize): v128 {
  const qh = v128.load32_zero(b + 2);
  return i8x16.sub(v128.or(v128.and(v128.load(b, 6), i8x16.splat(0x0f)), highBits(qh, true)), i8x16.splat(16));
}

/** Levels − 16 of elements 16..31. */
@inline function levelHi(b: usize): v128 {
  const qh = v128.load32_zero(b + 2);
  return i8x16.sub(v128.or(i8x16.shr_u(v128.load(b, 6), 4), highBits(qh, false)), i8x16.splat(16));
}

export function rows4_q5_0(p0: usize, p1: usize, p2: usize, p3: usize, x: usize, cols: i32): v128 {
  let a0 = f32x4.splat(0);
  let a1 = a0, a2 = a0, a3 = a0;
  const nb = cols >> 5;
  for (let b = 0; b < nb; b++) {
    const o = <usize>b * BYTES;
    const xp = x + (<usize>b << 7);
    let x0 = v128.load(xp), x1 = v128.load(xp, 16), x2 = v128.load(xp, 32), x3 = v128.load(xp, 48);
    let q = levelLo(p0 + o);
    let s0 = dot4v(top0(q), top1(q), top2(q), top3(q), x0, x1, x2, x3);
    q = levelLo(p1 + o);
    let s1 = dot4v(top0(q), top1(q), top2(q), top3(q), x0, x1, x2, x3);
    q = levelLo(p2 + o);
    let s2 = dot4v(top0(q), top1(q), top2(q), top3(q), x0, x1, x2, x3);
    q = levelLo(p3 + o);
    let s3 = dot4v(top0(q), top1(q), top2(q), top3(q), x0, x1, x2, x3);
    x0 = v128.load(xp, 64); x1 = v128.load(xp, 80); x2 = v128.load(xp, 96); x3 = v128.load(xp, 112);
    q = levelHi(p0 + o);
    s0 = f32x4.add(s0, dot4v(top0(q), top1(q), top2(q), top3(q), x0, x1, x2, x3));
    q = levelHi(p1 + o);
    s1 = f32x4.add(s1, dot4v(top0(q), top1(q), top2(q), top3(q), x0, x1, x2, x3));
    q = levelHi(p2 + o);
    s2 = f32x4.add(s2, dot4v(top0(q), top1(q), top2(q), top3(q), x0, x1, x2, x3));
    q = levelHi(p3 + o);
    s3 = f32x4.add(s3, dot4v(top0(q), top1(q), top2(q), top3(q), x0, x1, x2, x3));
    a0 = f32x4.add(a0, f32x4.mul(s0, f32x4.splat(halfAt(p0 + o) * TOP)));
    a1 = f32x4.add(a1, f32x4.mul(s1, f32x4.splat(halfAt(p1 + o) * TOP)));
    a2 = f32x4.add(a2, f32x4.mul(s2, f32x4.splat(halfAt(p2 + o) * TOP)));
    a3 = f32x4.add(a3, f32x4.mul(s3, f32x4.splat(halfAt(p3 + o) * TOP)));
  }
  return sum4(a0, a1, a2, a3);
}

export function toks4_q5_0(p: usize, x0: usize, x1: usize, x2: usize, x3: usize, cols: i32): v128 {
  let a0 = f32x4.splat(0);
  let a1 = a0, a2 = a0, a3 = a0;
  const nb = cols >> 5;
  for (let b = 0; b < nb; b++) {
    const o = p + <usize>b * BYTES;
    const xo = <usize>b << 7;
    const d = f32x4.splat(halfAt(o) * TOP);
    let q = levelLo(o);
    let w0 = f32x4.mul(top0(q), d), w1 = f32x4.mul(top1(q), d), w2 = f32x4.mul(top2(q), d), w3 = f32x4.mul(top3(q), d);
    a0 = f32x4.add(a0, dot4(w0, w1, w2, w3, x0 + xo));
    a1 = f32x4.add(a1, dot4(w0, w1, w2, w3, x1 + xo));
    a2 = f32x4.add(a2, dot4(w0, w1, w2, w3, x2 + xo));
    a3 = f32x4.add(a3, dot4(w0, w1, w2, w3, x3 + xo));
    q = levelHi(o);
    w0 = f32x4.mul(top0(q), d); w1 = f32x4.mul(top1(q), d); w2 = f32x4.mul(top2(q), d); w3 = f32x4.mul(top3(q), d);
    a0 = f32x4.add(a0, dot4(w0, w1, w2, w3, x0 + xo + 64));
    a1 = f32x4.add(a1, dot4(w0, w1, w2, w3, x1 + xo + 64));
    a2 = f32x4.add(a2, dot4(w0, w1, w2, w3, x2 + xo + 64));
    a3 = f32x4.add(a3, dot4(w0, w1, w2, w3, x3 + xo + 64));
  }
  return sum4(a0, a1, a2, a3);
}
