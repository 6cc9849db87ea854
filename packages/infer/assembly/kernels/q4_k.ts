// Q4_K weights (ggml type 12): each row is cols/256 super-blocks of 144 bytes
//   { f16 d; f16 dmin; u8 scales[12]; u8 qs[128] }
// with 8 sub-blocks of 32 (6-bit scale sc[j] and min m[j] packed in `scales`, get_scale_min_k4);
// chunk c (0..3) of 64 elements is qs[32c .. 32c+32): low nibbles → sub-block 2c, high → 2c+1.
//   w = (d·sc[j])·q − dmin·m[j].
//
//   rows4_q4_k(p0, p1, p2, p3, x, cols) → [W0·x, W1·x, W2·x, W3·x]   four rows in flight, one token
//   toks4_q4_k(p, x0, x1, x2, x3, cols) → [W·x0, W·x1, W·x2, W·x3]   one row, four tokens
//
// rows4 uses Σ w·x = d·sc·Σ q·x − dmin·m·Σ x per sub-block (Σ x shared by the four rows); toks4
// dequantizes 16 weights at a time and reuses them for four tokens.
// Example: scales bytes 01 01 01 01 00 … (sc[0..3] = 1, m = 0), d = 1, all nibbles 2 → w = 2
// on sub-blocks 0..3, 0 on 4..7.
import { dot4, dot4v, halfAt, sum4, TOP, top0, top1, top2, top3 } from './simd';

const BYTES: usize = 144;

/** 6-bit scale of sub-block j (get_scale_min_k4); `s` = address of scales[0]. */
@inline function scaleK4(s: usize, j: i32): i32 {
  const u = <usize>j;
  return j < 4 ? <i32>load<u8>(s + u) & 63 : (<i32>load<u8>(s + u + 4) & 0xf) | ((<i32>load<u8>(s + u - 4) >> 6) << 4);
}

/** 6-bit min of sub-block j (get_scale_min_k4). */
@inline function minK4(s: usize, j: i32): i32 {
  const u = <usize>j;
  return j < 4 ? <i32>load<u8>(s + u + 4) & 63 : (<i32>load<u8>(s + u + 4) >> 4) | ((<i32>load<u8>(s + u) >> 6) << 4);
}

/** Lane-wise Σ over 16 low nibbles at byte `q` times x0..x3. */
@inline function dotLo(q: usize, x0: v128, x1: v128, x2: v128, x3: v128): v128 {
  const v = v128.and(v128.load(q), i8x16.splat(0x0f));
  return dot4v(top0(v), top1(v), top2(v), top3(v), x0, x1, x2, x3);
}

/** Lane-wise Σ over 16 high nibbles at byte `q` times x0..x3. */
@inline function dotHi(q: usize, x0: v128, x1: v128, x2: v128, x3: v128): v128 {
  const v = i8x16.shr_u(v128.load(q), 4);
  return dot4v(top0(v), top1(v), top2(v), top3(v), x0, x1, x2, x3);
}

/** acc + s·(d·sc[j]) − sx·(dmin·m[j]) for the super-block at `b`. */
@inline function fold(acc: v128, s: v128, sx: v128, b: usize, j: i32): v128 {
  const d = halfAt(b) * <f32>scaleK4(b + 4, j) * TOP;
  const m = halfAt(b + 2) * <f32>minK4(b + 4, j);
  return f32x4.add(acc, f32x4.sub(f32x4.mul(s, f32x4.splat(d)), f32x4.mul(sx, f32x4.splat(m))));
}

export function rows4_q4_k(p0: usize, p1: usize, p2: usize, p3: usize, x: usize, cols: i32): v128 {
  let a0 = f32x4.splat(0);
  let a1 = a0, a2 = a0, a3 = a0;
  const nb = cols >> 8;
  for (let sb = 0; sb < nb; sb++) {
    const o = <usize>sb * BYTES;
    const b0 = p0 + o, b1 = p1 + o, b2 = p2 + o, b3 = p3 + o;
    for (let c = 0; c < 4; c++) {
      const qo: usize = 16 + (<usize>c << 5);
      const xp = x + (<usize>sb << 10) + (<usize>c << 8);
      // sub-block 2c: low nibbles, chunk elements 0..31
      let x0 = v128.load(xp), x1 = v128.load(xp, 16), x2 = v128.load(xp, 32), x3 = v128.load(xp, 48);
      let sx = f32x4.add(f32x4.add(x0, x1), f32x4.add(x2, x3));
      let s0 = dotLo(b0 + qo, x0, x1, x2, x3), s1 = dotLo(b1 + qo, x0, x1, x2, x3);
      let s2 = dotLo(b2 + qo, x0, x1, x2, x3), s3 = dotLo(b3 + qo, x0, x1, x2, x3);
      x0 = v128.load(xp, 64); x1 = v128.load(xp, 80); x2 = v128.load(xp, 96); x3 = v128.load(xp, 112);
      sx = f32x4.add(sx, f32x4.add(f32x4.add(x0, x1), f32x4.add(x2, x3)));
      s0 = f32x4.add(s0, dotLo(b0 + qo + 16, x0, x1, x2, x3));
      s1 = f32x4.add(s1, dotLo(b1 + qo + 16, x0, x1, x2, x3));
      s2 = f32x4.add(s2, dotLo(b2 + qo + 16, x0, x1, x2, x3));
      s3 = f32x4.add(s3, dotLo(b3 + qo + 16, x0, x1, x2, x3));
      const j = c << 1;
      a0 = fold(a0, s0, sx, b0, j); a1 = fold(a1, s1, sx, b1, j);
      a2 = fold(a2, s2, sx, b2, j); a3 = fold(a3, s3, sx, b3, j);
      // sub-block 2c+1: high nibbles, chunk elements 32..63
      x0 = v128.load(xp, 128); x1 = v128.load(xp, 144); x2 = v128.load(xp, 160); x3 = v128.load(xp, 176);
      sx = f32x4.add(f32x4.add(x0, x1), f32x4.add(x2, x3));
      s0 = dotHi(b0 + qo, x0, x1, x2, x3); s1 = dotHi(b1 + qo, x0, x1, x2, x3);
      s2 = dotHi(b2 + qo, x0, x1, x2, x3); s3 = dotHi(b3 + qo, x0, x1, x2, x3);
      x0 = v128.load(xp, 192); x1 = v128.load(xp, 208); x2 = v128.load(xp, 224); x3 = v128.load(xp, 240);
      sx = f32x4.add(sx, f32x4.add(f32x4.add(x0, x1), f32x4.add(x2, x3)));
      s0 = f32x4.add(s0, dotHi(b0 + qo + 16, x0, x1, x2, x3));
      s1 = f32x4.add(s1, dotHi(b1 + qo + 16, x0, x1, x2, x3));
      s2 = f32x4.add(s2, dotHi(b2 + qo + 16, x0, x1, x2, x3));
      s3 = f32x4.add(s3, dotHi(b3 + qo + 16, x0, x1, x2, x3));
      a0 = fold(a0, s0, sx, b0, j + 1); a1 = fold(a1, s1, sx, b1, j + 1);
      a2 = fold(a2, s2, sx, b2, j + 1); a3 = fold(a3, s3, sx, b3, j + 1);
    }
  }
  return sum4(a0, a1, a2, a3);
}

export function toks4_q4_k(p: usize, x0: usize, x1: usize, x2: usize, x3: usize, cols: i32): v128 {
  let a0 = f32x4.splat(0);
  let a1 = a0, a2 = a0, a3 = a0;
  const nb = cols >> 8;
  for (let sb = 0; sb < nb; sb++) {
    const b = p + <usize>sb * BYTES;
    const d = halfAt(b), dmin = halfAt(b + 2);
    for (let c = 0; c < 4; c++) {
      const j = c << 1;
      const qa = v128.load(b + 16 + (<usize>c << 5)), qb = v128.load(b + 32 + (<usize>c << 5));
      const xo = (<usize>sb << 10) + (<usize>c << 8);
      // sub-block 2c (low nibbles)
      let dv = f32x4.splat(d * <f32>scaleK4(b + 4, j) * TOP), mv = f32x4.splat(dmin * <f32>minK4(b + 4, j));
      let q = v128.and(qa, i8x16.splat(0x0f));
      let w0 = f32x4.sub(f32x4.mul(top0(q), dv), mv), w1 = f32x4.sub(f32x4.mul(top1(q), dv), mv);
      let w2 = f32x4.sub(f32x4.mul(top2(q), dv), mv), w3 = f32x4.sub(f32x4.mul(top3(q), dv), mv);
      a0 = f32x4.add(a0, dot4(w0, w1, w2, w3, x0 + xo)); a1 = f32x4.add(a1, dot4(w0, w1, w2, w3, x1 + xo));
      a2 = f32x4.add(a2, dot4(w0, w1, w2, w3, x2 + xo)); a3 = f32x4.add(a3, dot4(w0, w1, w2, w3, x3 + xo));
      q = v128.and(qb, i8x16.splat(0x0f));
      w0 = f32x4.sub(f32x4.mul(top0(q), dv), mv); w1 = f32x4.sub(f32x4.mul(top1(q), dv), mv);
      w2 = f32x4.sub(f32x4.mul(top2(q), dv), mv); w3 = f32x4.sub(f32x4.mul(top3(q), dv), mv);
      a0 = f32x4.add(a0, dot4(w0, w1, w2, w3, x0 + xo + 64)); a1 = f32x4.add(a1, dot4(w0, w1, w2, w3, x1 + xo + 64));
      a2 = f32x4.add(a2, dot4(w0, w1, w2, w3, x2 + xo + 64)); a3 = f32x4.add(a3, dot4(w0, w1, w2, w3, x3 + xo + 64));
      // sub-block 2c+1 (high nibbles)
      dv = f32x4.splat(d * <f32>scaleK4(b + 4, j + 1) * TOP); mv = f32x4.splat(dmin * <f32>minK4(b + 4, j + 1));
      q = i8x16.shr_u(qa, 4);
      w0 = f32x4.sub(f32x4.mul(top0(q), dv), mv); w1 = f32x4.sub(f32x4.mul(top1(q), dv), mv);
      w2 = f32x4.sub(f32x4.mul(top2(q), dv), mv); w3 = f32x4.sub(f32x4.mul(top3(q), dv), mv);
      a0 = f32x4.add(a0, dot4(w0, w1, w2, w3, x0 + xo + 128)); a1 = f32x4.add(a1, dot4(w0, w1, w2, w3, x1 + xo + 128));
      a2 = f32x4.add(a2, dot4(w0, w1, w2, w3, x2 + xo + 128)); a3 = f32x4.add(a3, dot4(w0, w1, w2, w3, x3 + xo + 128));
      q = i8x16.shr_u(qb, 4);
      w0 = f32x4.sub(f32x4.mul(top0(q), dv), mv); w1 = f32x4.sub(f32x4.mul(top1(q), dv), mv);
      w2 = f32x4.sub(f32x4.mul(top2(q), dv), mv); w3 = f32x4.sub(f32x4.mul(top3(q), dv), mv);
      a0 = f32x4.add(a0, dot4(w0, w1, w2, w3, x0 + xo + 192)); a1 = f32x4.add(a1, dot4(w0, w1, w2, w3, x1 + xo + 192));
      a2 = f32x4.add(a2, dot4(w0, w1, w2, w3, x2 + xo + 192)); a3 = f32x4.add(a3, dot4(w0, w1, w2, w3, x3 + xo + 192));
    }
  }
  return sum4(a0, a1, a2, a3);
}
