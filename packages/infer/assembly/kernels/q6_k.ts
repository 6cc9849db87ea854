// Q6_K weights (ggml type 14): each row is cols/256 super-blocks of 210 bytes
//   { u8 ql[128]; u8 qh[64]; i8 scales[16]; f16 d }
// For half h (0..1) and l (0..31), with ql' = ql + 64h, qh' = qh + 32h, sc' = scales + 8h:
//   element 128h + l      : (ql'[l] & 15)     | (qh'[l] & 3) << 4          scale sc'[l/16]
//   element 128h + 32 + l : (ql'[32+l] & 15)  | (qh'[l] >> 2 & 3) << 4     scale sc'[l/16 + 2]
//   element 128h + 64 + l : (ql'[l] >> 4)     | (qh'[l] >> 4 & 3) << 4     scale sc'[l/16 + 4]
//   element 128h + 96 + l : (ql'[32+l] >> 4)  | (qh'[l] >> 6) << 4         scale sc'[l/16 + 6]
//   w = (d·scale)·(q − 32).
//
//   rows4_q6_k(p0, p1, p2, p3, x, cols) → [W0·x, W1·x, W2·x, W3·x]   four rows in flight, one token
//   toks4_q6_k(p, x0, x1, x2, x3, cols) → [W·x0, W·x1, W·x2, W·x3]   one row, four tokens
//
// The 6-bit levels of 16 elements are assembled in one i8x16 (and/shift/or), recentred by −32,
// converted (simd.ts top0..3); rows4 scales each 16-element Σ q·x once, toks4 reuses dequantized weights.
// Example: ql bytes 0x11, qh bytes 0xaa, scales 1, d = 1 → every level 33, every w = 1.
import { accq, dotq, halfAt, sum4, TOP } from './simd';
import { rows4QK, toks4QK } from './kdot';

const BYTES: usize = 210;

// Levels − 32 (i8x16) of the 16 elements that start at l = 16g of group k (0..3) of a half;
// `l` = address of ql'[16g], `h` = address of qh'[16g].
@inline function level0(l: usize, h: usize): v128 {
  const v = v128.or(v128.and(v128.load(l), i8x16.splat(0x0f)), v128.and(i8x16.shl(v128.load(h), 4), i8x16.splat(0x30)));
  return i8x16.sub(v, i8x16.splat(32));
}
@inline function level1(l: usize, h: usize): v128 {
  const v = v128.or(v128.and(v128.load(l, 32), i8x16.splat(0x0f)), v128.and(i8x16.shl(v128.load(h), 2), i8x16.splat(0x30)));
  return i8x16.sub(v, i8x16.splat(32));
}
@inline function level2(l: usize, h: usize): v128 {
  const v = v128.or(i8x16.shr_u(v128.load(l), 4), v128.and(v128.load(h), i8x16.splat(0x30)));
  return i8x16.sub(v, i8x16.splat(32));
}
@inline function level3(l: usize, h: usize): v128 {
  const v = v128.or(i8x16.shr_u(v128.load(l, 32), 4), v128.and(i8x16.shr_u(v128.load(h), 2), i8x16.splat(0x30)));
  return i8x16.sub(v, i8x16.splat(32));
}

/** d·scales[k] of the super-block at `b` (scales are int8). */
@inline function scale(b: usize, k: usize): f32 {
  return halfAt(b + 208) * TOP * <f32>load<i8>(b + 192 + k);
}

export function rows4_q6_k(p0: usize, p1: usize, p2: usize, p3: usize, x: usize, cols: i32): v128 {
  let a0 = f32x4.splat(0);
  let a1 = a0, a2 = a0, a3 = a0;
  const nb = cols >> 8;
  for (let sb = 0; sb < nb; sb++) {
    const o = <usize>sb * BYTES;
    const b0 = p0 + o, b1 = p1 + o, b2 = p2 + o, b3 = p3 + o;
    for (let hg = 0; hg < 4; hg++) {
      const h = <usize>(hg >> 1), g = <usize>(hg & 1);
      const lo = (h << 6) + (g << 4);           // ql'[16g]
      const ho: usize = 128 + (h << 5) + (g << 4); // qh'[16g]
      const so = (h << 3) + g;                  // sc'[g]
      const xp = x + (<usize>sb << 10) + (((h << 7) + (g << 4)) << 2);
      // group 0: elements 128h + 16g + (0..15)
      let x0 = v128.load(xp), x1 = v128.load(xp, 16), x2 = v128.load(xp, 32), x3 = v128.load(xp, 48);
      a0 = f32x4.add(a0, f32x4.mul(dotq(level0(b0 + lo, b0 + ho), x0, x1, x2, x3), f32x4.splat(scale(b0, so))));
      a1 = f32x4.add(a1, f32x4.mul(dotq(level0(b1 + lo, b1 + ho), x0, x1, x2, x3), f32x4.splat(scale(b1, so))));
      a2 = f32x4.add(a2, f32x4.mul(dotq(level0(b2 + lo, b2 + ho), x0, x1, x2, x3), f32x4.splat(scale(b2, so))));
      a3 = f32x4.add(a3, f32x4.mul(dotq(level0(b3 + lo, b3 + ho), x0, x1, x2, x3), f32x4.splat(scale(b3, so))));
      // group 1: + 32
      x0 = v128.load(xp, 128); x1 = v128.load(xp, 144); x2 = v128.load(xp, 160); x3 = v128.load(xp, 176);
      a0 = f32x4.add(a0, f32x4.mul(dotq(level1(b0 + lo, b0 + ho), x0, x1, x2, x3), f32x4.splat(scale(b0, so + 2))));
      a1 = f32x4.add(a1, f32x4.mul(dotq(level1(b1 + lo, b1 + ho), x0, x1, x2, x3), f32x4.splat(scale(b1, so + 2))));
      a2 = f32x4.add(a2, f32x4.mul(dotq(level1(b2 + lo, b2 + ho), x0, x1, x2, x3), f32x4.splat(scale(b2, so + 2))));
      a3 = f32x4.add(a3, f32x4.mul(dotq(level1(b3 + lo, b3 + ho), x0, x1, x2, x3), f32x4.splat(scale(b3, so + 2))));
      // group 2: + 64
      x0 = v128.load(xp, 256); x1 = v128.load(xp, 272); x2 = v128.load(xp, 288); x3 = v128.load(xp, 304);
      a0 = f32x4.add(a0, f32x4.mul(dotq(level2(b0 + lo, b0 + ho), x0, x1, x2, x3), f32x4.splat(scale(b0, so + 4))));
      a1 = f32x4.add(a1, f32x4.mul(dotq(level2(b1 + lo, b1 + ho), x0, x1, x2, x3), f32x4.splat(scale(b1, so + 4))));
      a2 = f32x4.add(a2, f32x4.mul(dotq(level2(b2 + lo, b2 + ho), x0, x1, x2, x3), f32x4.splat(scale(b2, so + 4))));
      a3 = f32x4.add(a3, f32x4.mul(dotq(level2(b3 + lo, b3 + ho), x0, x1, x2, x3), f32x4.splat(scale(b3, so + 4))));
      // group 3: + 96
      x0 = v128.load(xp, 384); x1 = v128.load(xp, 400); x2 = v128.load(xp, 416); x3 = v128.load(xp, 432);
      a0 = f32x4.add(a0, f32x4.mul(dotq(level3(b0 + lo, b0 + ho), x0, x1, x2, x3), f32x4.splat(scale(b0, so + 6))));
      a1 = f32x4.add(a1, f32x4.mul(dotq(level3(b1 + lo, b1 + ho), x0, x1, x2, x3), f32x4.splat(scale(b1, so + 6))));
      a2 = f32x4.add(a2, f32x4.mul(dotq(level3(b2 + lo, b2 + ho), x0, x1, x2, x3), f32x4.splat(scale(b2, so + 6))));
      a3 = f32x4.add(a3, f32x4.mul(dotq(level3(b3 + lo, b3 + ho), x0, x1, x2, x3), f32x4.splat(scale(b3, so + 6))));
    }
  }
  return sum4(a0, a1, a2, a3);
}

export function toks4_q6_k(p: usize, x0: usize, x1: usize, x2: usize, x3: usize, cols: i32): v128 {
  let a0 = f32x4.splat(0);
  let a1 = a0, a2 = a0, a3 = a0;
  const nb = cols >> 8;
  for (let sb = 0; sb < nb; sb++) {
    const b = p + <usize>sb * BYTES;
    const d = halfAt(b + 208) * TOP;
    for (let hg = 0; hg < 4; hg++) {
      const h = <usize>(hg >> 1), g = <usize>(hg & 1);
      const l = b + (h << 6) + (g << 4);
      const hb = b + 128 + (h << 5) + (g << 4);
      const sc = b + 192 + (h << 3) + g;
      const xo = (<usize>sb << 10) + (((h << 7) + (g << 4)) << 2);
      // groups 0..3: elements +0, +32, +64, +96 (x bytes +0, +128, +256, +384), scales sc'[g + 2k]
      let s = f32x4.splat(d * <f32>load<i8>(sc));
      let q = level0(l, hb);
      a0 = accq(a0, q, s, x0 + xo); a1 = accq(a1, q, s, x1 + xo); a2 = accq(a2, q, s, x2 + xo); a3 = accq(a3, q, s, x3 + xo);
      s = f32x4.splat(d * <f32>load<i8>(sc, 2));
      q = level1(l, hb);
      a0 = accq(a0, q, s, x0 + xo + 128); a1 = accq(a1, q, s, x1 + xo + 128); a2 = accq(a2, q, s, x2 + xo + 128); a3 = accq(a3, q, s, x3 + xo + 128);
      s = f32x4.splat(d * <f32>load<i8>(sc, 4));
      q = level2(l, hb);
      a0 = accq(a0, q, s, x0 + xo + 256); a1 = accq(a1, q, s, x1 + xo + 256); a2 = accq(a2, q, s, x2 + xo + 256); a3 = accq(a3, q, s, x3 + xo + 256);
      s = f32x4.splat(d * <f32>load<i8>(sc, 6));
      q = level3(l, hb);
      a0 = accq(a0, q, s, x0 + xo + 384); a1 = accq(a1, q, s, x1 + xo + 384); a2 = accq(a2, q, s, x2 + xo + 384); a3 = accq(a3, q, s, x3 + xo + 384);
    }
  }
  return sum4(a0, a1, a2, a3);
}

/**
 * Q6_K as a K format of kdot.ts (integer dots against Q8_K): chunk c = (half h = c / 2, g' = c & 1),
 * its r-th group = elements 128h + 32r + 16g' … (level_r), group index g = 8h + 2r + g' = its
 * scale's index.
 */
@final @unmanaged class Q6K {
  @inline bytes(): usize { return BYTES; }
  @inline gi(c: i32, r: i32): i32 { return ((c >> 1) << 3) + (r << 1) + (c & 1); }
  @inline levels(b: usize, c: i32, r: i32): v128 {
    const h = <usize>(c >> 1), g = <usize>(c & 1);
    const l = b + (h << 6) + (g << 4), hb = b + 128 + (h << 5) + (g << 4);
    if (r == 0) return level0(l, hb);
    if (r == 1) return level1(l, hb);
    if (r == 2) return level2(l, hb);
    return level3(l, hb);
  }
  @inline sc(b: usize, g: i32): i32 { return <i32>load<i8>(b + 192 + <usize>g); }
  @inline hasMin(): bool { return false; }
  @inline minDot(b: usize, xb: usize): v128 { return i32x4.splat(0); }
  @inline d(b: usize): f32 { return halfAt(b + 208); }
  @inline dmin(b: usize): f32 { return 0; }
}

/** The same products against Q8_K activations (q8k.ts): integer dots, scales per super-block. */
export function rows4q_q6_k(p0: usize, p1: usize, p2: usize, p3: usize, xq: usize, cols: i32): v128 {
  return rows4QK<Q6K>(p0, p1, p2, p3, xq, cols);
}

export function toks4q_q6_k(p: usize, x0: usize, x1: usize, x2: usize, x3: usize, cols: i32): v128 {
  return toks4QK<Q6K>(p, x0, x1, x2, x3, cols);
}
