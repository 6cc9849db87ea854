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
import { accqm, dotq, halfAt, sum4, TOP, xsum } from './simd';
import { rows4QK, toks4QK } from './kdot';

const BYTES: usize = 144;

// Both forms are read and one selected (no branch, so the dequantization around them stays one
// straight run for the optimizer); for j < 4 the other form's bytes still lie in the super-block.

/** 6-bit scale of sub-block j (get_scale_min_k4); `s` = address of scales[0]. */
@inline function scaleK4(s: usize, j: i32): i32 {
  const u = <usize>j;
  return select<i32>(<i32>load<u8>(s + u) & 63, (<i32>load<u8>(s + u + 4) & 0xf) | ((<i32>load<u8>(s + u - 4) >> 6) << 4), j < 4);
}

/** 6-bit min of sub-block j (get_scale_min_k4). */
@inline function minK4(s: usize, j: i32): i32 {
  const u = <usize>j;
  return select<i32>(<i32>load<u8>(s + u + 4) & 63, (<i32>load<u8>(s + u + 4) >> 4) | ((<i32>load<u8>(s + u) >> 6) << 4), j < 4);
}

/** Lane-wise Σ over 16 low nibbles at byte `q` times x0..x3. */
@inline function dotLo(q: usize, x0: v128, x1: v128, x2: v128, x3: v128): v128 {
  return dotq(v128.and(v128.load(q), i8x16.splat(0x0f)), x0, x1, x2, x3);
}

/** Lane-wise Σ over 16 high nibbles at byte `q` times x0..x3. */
@inline function dotHi(q: usize, x0: v128, x1: v128, x2: v128, x3: v128): v128 {
  return dotq(i8x16.shr_u(v128.load(q), 4), x0, x1, x2, x3);
}

/** acc + s·(d·sc[j]) − sx·(dmin·m[j]) for the super-block at `b`. */
@inline function fold(acc: v128, s: v128, sx: v128, b: usize, j: i32): v128 {
  const d = halfAt(b) * <f32>scaleK4(b + 4, j) * TOP;
  const m = halfAt(b + 2) * <f32>minK4(b + 4, j);
  return f32x4.add(acc, f32x4.sub(f32x4.mul(s, f32x4.splat(d)), f32x4.mul(sx, f32x4.splat(m))));
}

/**
 * acc + one row's sub-block j of the super-block at b: the low (or high) nibbles of the 32 qs
 * bytes at b + qo against the 32 x at xp. The x loads and Σ x are the same expressions for the
 * four rows, so the optimizer computes them once.
 */
@inline function subBlock(acc: v128, b: usize, qo: usize, xp: usize, j: i32, hi: bool): v128 {
  let x0 = v128.load(xp), x1 = v128.load(xp, 16), x2 = v128.load(xp, 32), x3 = v128.load(xp, 48);
  let sx = xsum(x0, x1, x2, x3);
  let s = hi ? dotHi(b + qo, x0, x1, x2, x3) : dotLo(b + qo, x0, x1, x2, x3);
  x0 = v128.load(xp, 64); x1 = v128.load(xp, 80); x2 = v128.load(xp, 96); x3 = v128.load(xp, 112);
  sx = f32x4.add(sx, xsum(x0, x1, x2, x3));
  s = f32x4.add(s, hi ? dotHi(b + qo + 16, x0, x1, x2, x3) : dotLo(b + qo + 16, x0, x1, x2, x3));
  return fold(acc, s, sx, b, j);
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
      const j = c << 1;
      // sub-block 2c: low nibbles, chunk elements 0..31; 2c+1: high nibbles, elements 32..63
      a0 = subBlock(a0, b0, qo, xp, j, false); a1 = subBlock(a1, b1, qo, xp, j, false);
      a2 = subBlock(a2, b2, qo, xp, j, false); a3 = subBlock(a3, b3, qo, xp, j, false);
      a0 = subBlock(a0, b0, qo, xp + 128, j + 1, true); a1 = subBlock(a1, b1, qo, xp + 128, j + 1, true);
      a2 = subBlock(a2, b2, qo, xp + 128, j + 1, true); a3 = subBlock(a3, b3, qo, xp + 128, j + 1, true);
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
      // sub-block 2c (low nibbles of qa, qb), then 2c+1 (high nibbles): w = q·(d·sc) − dmin·m
      let dv = f32x4.splat(d * <f32>scaleK4(b + 4, j) * TOP), mv = f32x4.splat(-dmin * <f32>minK4(b + 4, j));
      let q = v128.and(qa, i8x16.splat(0x0f));
      a0 = accqm(a0, q, dv, mv, x0 + xo); a1 = accqm(a1, q, dv, mv, x1 + xo);
      a2 = accqm(a2, q, dv, mv, x2 + xo); a3 = accqm(a3, q, dv, mv, x3 + xo);
      q = v128.and(qb, i8x16.splat(0x0f));
      a0 = accqm(a0, q, dv, mv, x0 + xo + 64); a1 = accqm(a1, q, dv, mv, x1 + xo + 64);
      a2 = accqm(a2, q, dv, mv, x2 + xo + 64); a3 = accqm(a3, q, dv, mv, x3 + xo + 64);
      dv = f32x4.splat(d * <f32>scaleK4(b + 4, j + 1) * TOP); mv = f32x4.splat(-dmin * <f32>minK4(b + 4, j + 1));
      q = i8x16.shr_u(qa, 4);
      a0 = accqm(a0, q, dv, mv, x0 + xo + 128); a1 = accqm(a1, q, dv, mv, x1 + xo + 128);
      a2 = accqm(a2, q, dv, mv, x2 + xo + 128); a3 = accqm(a3, q, dv, mv, x3 + xo + 128);
      q = i8x16.shr_u(qb, 4);
      a0 = accqm(a0, q, dv, mv, x0 + xo + 192); a1 = accqm(a1, q, dv, mv, x1 + xo + 192);
      a2 = accqm(a2, q, dv, mv, x2 + xo + 192); a3 = accqm(a3, q, dv, mv, x3 + xo + 192);
    }
  }
  return sum4(a0, a1, a2, a3);
}

// The 12 scale bytes as ggml's vec_dot unpacks them (u32 words w0..w2 of scales[0..12)):
//   scales 0..3 = bytes of w0 & 0x3f3f3f3f, scales 4..7 = (w2 & 0x0f0f0f0f) | ((w0 >> 6) & 0x03030303) << 4
//   mins   0..3 = bytes of w1 & 0x3f3f3f3f, mins   4..7 = (w2 >> 4 & 0x0f0f0f0f) | ((w1 >> 6) & 0x03030303) << 4
// (get_scale_min_k4, four sub-blocks per word).

/** The four 6-bit scales (hi = false: sub-blocks 0..3, true: 4..7) of the super-block at b, as a u32 of bytes. */
@inline function scaleWord(b: usize, hi: bool): u32 {
  const w0 = load<u32>(b, 4), w2 = load<u32>(b, 12);
  return hi ? (w2 & 0x0f0f0f0f) | (((w0 >> 6) & 0x03030303) << 4) : w0 & 0x3f3f3f3f;
}

/** The mins, likewise, as i32x4 (hi = false: sub-blocks 0..3, true: 4..7). */
@inline function minLanes(b: usize, hi: bool): v128 {
  const w1 = load<u32>(b, 8), w2 = load<u32>(b, 12);
  const m = hi ? ((w2 >> 4) & 0x0f0f0f0f) | (((w1 >> 6) & 0x03030303) << 4) : w1 & 0x3f3f3f3f;
  return i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(i32x4.splat(m)));
}

/**
 * Q4_K as a K format of kdot.ts (integer dots against Q8_K): group g = 4c + r of 16 elements is
 * the low (r = 0, 1) or high (r = 2, 3) nibbles of qs[32c + 16(r & 1) …], sub-block g / 2.
 */
@final @unmanaged class Q4K {
  @inline bytes(): usize { return BYTES; }
  @inline gi(c: i32, r: i32): i32 { return (c << 2) + r; }
  @inline levels(b: usize, c: i32, r: i32): v128 {
    const q = v128.load(b + 16 + (<usize>c << 5) + (<usize>(r & 1) << 4));
    return r < 2 ? v128.and(q, i8x16.splat(0x0f)) : i8x16.shr_u(q, 4);
  }
  @inline sc(b: usize, g: i32): i32 {
    const j = g >> 1;
    return <i32>((scaleWord(b, j >= 4) >> (<u32>(j & 3) << 3)) & 0xff);
  }
  @inline hasMin(): bool { return true; }
  /** Σ_j m[j] · (bsums[2j] + bsums[2j+1]) as i32x4 lane partials. */
  @inline minDot(b: usize, xb: usize): v128 {
    const p0 = i32x4.extadd_pairwise_i16x8_s(v128.load(xb, 260)), p1 = i32x4.extadd_pairwise_i16x8_s(v128.load(xb, 276));
    return i32x4.add(i32x4.mul(minLanes(b, false), p0), i32x4.mul(minLanes(b, true), p1));
  }
  @inline d(b: usize): f32 { return halfAt(b); }
  @inline dmin(b: usize): f32 { return halfAt(b + 2); }
}

/** The same products against Q8_K activations (q8k.ts): integer dots, scales per super-block. */
export function rows4q_q4_k(p0: usize, p1: usize, p2: usize, p3: usize, xq: usize, cols: i32): v128 {
  return rows4QK<Q4K>(p0, p1, p2, p3, xq, cols);
}

export function toks4q_q4_k(p: usize, x0: usize, x1: usize, x2: usize, x3: usize, cols: i32): v128 {
  return toks4QK<Q4K>(p, x0, x1, x2, x3, cols);
}
