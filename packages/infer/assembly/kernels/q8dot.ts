// Integer-dot kernels of the 32-element block formats (q8_0, q4_0, q4_1, q5_0, and the private
// q8_f32 / q4_z) against Q8 activations (q8act.ts), generic over block32.ts's format classes —
// ggml's ggml_vec_dot_{q8_0,q4_0,q5_0}_q8_0 and ggml_vec_dot_q4_1_q8_1:
//
//   per block b:  sumi = Σ_j qw[j] · qx[j]        (i32, exact: the format's levels lo/hi)
//                 y += f32(sumi) · (d_w · d_x)  (+ m_w · s_x for q4_1, whose levels are unsigned)
//
//   rows4Q8<F>(p0, p1, p2, p3, xq, cols) → [W0·x, W1·x, W2·x, W3·x]   four rows in flight, one token
//   toks4Q8<F>(p, xq0, xq1, xq2, xq3, cols) → [W·x0, W·x1, W·x2, W·x3] one row, four tokens
//
// xq points at a token's Q8 blocks { f32 d; f32 s; i8 q[32] }. Per block, levels are widened to
// i16x8 once (by toks4Q8, x as it is loaded: v128.load8x8_s) and shared (x by the four rows, or w by the four tokens); each of the four dots
// leaves i32x4 partial sums, one integer transpose-and-add (isum4) gives the four whole sumi in
// one vector, converted once and scaled by the four d_w·d_x lane-wise — one accumulator, lanes
// = the four outputs. Summing the whole block in i32 first keeps ggml's rounding (the f32
// products of lane partial sums could cancel).
// Example: q8_0 block d_w = 1, levels [2, -3, 0…]; x block d_x = 0.5, levels [4, 2, 0…] →
//   sumi = 8 − 6 = 2, y = 2 · (1 · 0.5) = 1.
import { dot32, floats4, halves4, isum4, lanes, wide } from './simd';
import { Q8_BLOCK } from './q8act';

/** 2^24: block32.ts's d(b) carries 2^-24 (simd.ts TOP); the integer dots want the plain scale. */
const UNTOP: f32 = 16777216.0;


/**
 * i32x4 partial sums of the weight block at b (levels lo/hi) · the Q8 block at xb, whose levels are
 * widened to i16x8 as they are loaded (load8x8_s: one instruction, no separate extend).
 */
@inline function dotX<F>(b: usize, xb: usize): v128 {
  return dotWide<F>(b, v128.load8x8_s(xb, 8), v128.load8x8_s(xb, 16), v128.load8x8_s(xb, 24), v128.load8x8_s(xb, 32));
}

/** dotX with x's 32 levels already widened to four i16x8 (x0..x3). */
@inline function dotWide<F>(b: usize, x0: v128, x1: v128, x2: v128, x3: v128): v128 {
  const f = changetype<F>(0);
  const qs = f.qs(b);
  const lo = f.lo(b, qs), hi = f.hi(b, qs);
  return dot32(wide(lo, false), wide(lo, true), wide(hi, false), wide(hi, true), x0, x1, x2, x3);
}

/** The plain scale d_w of the weight block at b. */
@inline function dw<F>(b: usize): f32 {
  return changetype<F>(0).d(b) * UNTOP;
}

/**
 * [d_w] of the blocks at b0..b3 as f32x4, gathered: every format stores d first, fp16 (ggml's) or
 * f32 (the private q8_f32 / q4_z; f.halfD() says which) — the same values as dw, exactly.
 */
@inline function dw4<F>(b0: usize, b1: usize, b2: usize, b3: usize): v128 {
  return changetype<F>(0).halfD() ? halves4(b0, b1, b2, b3) : floats4(b0, b1, b2, b3);
}

@inline export function rows4Q8<F>(p0: usize, p1: usize, p2: usize, p3: usize, xq: usize, cols: i32): v128 {
  const f = changetype<F>(0);
  let acc = f32x4.splat(0);
  const nb = cols >> 5;
  for (let b = 0; b < nb; b++) {
    const o = <usize>b * f.bytes();
    const xb = xq + <usize>b * Q8_BLOCK;
    const xl = v128.load(xb, 8), xh = v128.load(xb, 24); // widened once for the four rows
    const x0 = wide(xl, false), x1 = wide(xl, true), x2 = wide(xh, false), x3 = wide(xh, true);
    const i = isum4(dotWide<F>(p0 + o, x0, x1, x2, x3), dotWide<F>(p1 + o, x0, x1, x2, x3), dotWide<F>(p2 + o, x0, x1, x2, x3), dotWide<F>(p3 + o, x0, x1, x2, x3));
    const d = f32x4.mul(dw4<F>(p0 + o, p1 + o, p2 + o, p3 + o), f32x4.splat(load<f32>(xb)));
    acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(i), d));
    if (f.hasMin()) acc = f32x4.add(acc, f32x4.mul(lanes(f.m(p0 + o), f.m(p1 + o), f.m(p2 + o), f.m(p3 + o)), f32x4.splat(load<f32>(xb, 4))));
  }
  return acc;
}

@inline export function toks4Q8<F>(p: usize, x0: usize, x1: usize, x2: usize, x3: usize, cols: i32): v128 {
  const f = changetype<F>(0);
  let acc = f32x4.splat(0);
  const nb = cols >> 5;
  for (let b = 0; b < nb; b++) {
    const w = p + <usize>b * f.bytes();
    const xo = <usize>b * Q8_BLOCK;
    const a0 = x0 + xo, a1 = x1 + xo, a2 = x2 + xo, a3 = x3 + xo;
    // the weight levels and their widening are the same expressions for the four tokens
    const i = isum4(
      dotX<F>(w, a0), dotX<F>(w, a1), dotX<F>(w, a2), dotX<F>(w, a3));
    const d = f32x4.mul(f32x4.splat(dw<F>(w)), floats4(a0, a1, a2, a3));
    acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(i), d));
    if (f.hasMin()) acc = f32x4.add(acc, f32x4.mul(f32x4.splat(f.m(w)), floats4(a0 + 4, a1 + 4, a2 + 4, a3 + 4)));
  }
  return acc;
}
