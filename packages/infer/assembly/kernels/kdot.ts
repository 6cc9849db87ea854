// Integer-dot kernels of the K-quants (q4_K, q6_K) against Q8_K activations (q8k.ts), generic
// over a K format class — ggml's ggml_vec_dot_q4_K_q8_K / ggml_vec_dot_q6_K_q8_K:
//
//   per super-block (256 values = 16 groups g of 16):
//     sumi = Σ_g sc[g] · Σ_16 qw·qx   (i32, exact)      mins = Σ_g mn[g] · bsums[g]   (q4_K only)
//     y += f32(sumi) · (d_w · d_x)  −  f32(mins) · (dmin_w · d_x)
//
// A K format is a @final @unmanaged class of @inline methods (used through changetype<F>(0)):
//   bytes()              super-block size in bytes
//   gi(c, r)             group index of the r-th (0..3, a constant) group of chunk c (0..3)
//   levels(b, c, r)      that group's 16 levels as i8x16 (signed; q4_K: 0..15, q6_K: −32..31)
//   sc(b, g)             its integer scale
//   hasMin(), minDot(b, xb)  (q4_K) Σ_g mn[g] · bsums[g] against the Q8_K block at xb, as i32x4 lane partials
//   d(b), dmin(b)        the super-block's scales (f32)
//
//   rows4QK<F>(p0, p1, p2, p3, xq, cols) → [W0·x, …, W3·x]   four rows in flight, one token
//   toks4QK<F>(p, xq0, xq1, xq2, xq3, cols) → [W·x0, …, W·x3] one row, four tokens
// Example (q6_K): every level 1, every sc 2, d_w = 0.5; x levels all 3, d_x = 0.1, one super-block
//   → sumi = 16 groups · 2 · (16 · 3) = 1536, y = 1536 · 0.05 = 76.8.
import { isum4, lanes, wide } from './simd';
import { Q8K_BLOCK } from './q8k';

/** acc + sc · Σ (16 levels lv) · (16 x levels at xp), as i32x4 lane partials. */
@inline function group(acc: v128, lv: v128, xp: usize, sc: i32): v128 {
  const xv = v128.load(xp);
  const p = i32x4.add(i32x4.dot_i16x8_s(wide(lv, false), wide(xv, false)), i32x4.dot_i16x8_s(wide(lv, true), wide(xv, true)));
  return i32x4.add(acc, i32x4.mul(p, i32x4.splat(sc)));
}

/** One row's super-block at b against the Q8_K block at xb: Σ_g sc·Σ qw·qx as i32x4 lane partials. */
@inline function superDot<F>(b: usize, xb: usize): v128 {
  const f = changetype<F>(0);
  let acc = i32x4.splat(0);
  for (let c = 0; c < 4; c++) {
    acc = group(acc, f.levels(b, c, 0), xb + 4 + (<usize>f.gi(c, 0) << 4), f.sc(b, f.gi(c, 0)));
    acc = group(acc, f.levels(b, c, 1), xb + 4 + (<usize>f.gi(c, 1) << 4), f.sc(b, f.gi(c, 1)));
    acc = group(acc, f.levels(b, c, 2), xb + 4 + (<usize>f.gi(c, 2) << 4), f.sc(b, f.gi(c, 2)));
    acc = group(acc, f.levels(b, c, 3), xb + 4 + (<usize>f.gi(c, 3) << 4), f.sc(b, f.gi(c, 3)));
  }
  return acc;
}

@inline export function rows4QK<F>(p0: usize, p1: usize, p2: usize, p3: usize, xq: usize, cols: i32): v128 {
  const f = changetype<F>(0);
  let acc = f32x4.splat(0);
  const nb = cols >> 8;
  for (let sb = 0; sb < nb; sb++) {
    const o = <usize>sb * f.bytes();
    const b0 = p0 + o, b1 = p1 + o, b2 = p2 + o, b3 = p3 + o;
    const xb = xq + <usize>sb * Q8K_BLOCK;
    const dx = f32x4.splat(load<f32>(xb));
    const i = isum4(superDot<F>(b0, xb), superDot<F>(b1, xb), superDot<F>(b2, xb), superDot<F>(b3, xb));
    acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(i), f32x4.mul(lanes(f.d(b0), f.d(b1), f.d(b2), f.d(b3)), dx)));
    if (f.hasMin()) {
      const m = f32x4.convert_i32x4_s(isum4(f.minDot(b0, xb), f.minDot(b1, xb), f.minDot(b2, xb), f.minDot(b3, xb)));
      acc = f32x4.sub(acc, f32x4.mul(m, f32x4.mul(lanes(f.dmin(b0), f.dmin(b1), f.dmin(b2), f.dmin(b3)), dx)));
    }
  }
  return acc;
}

@inline export function toks4QK<F>(p: usize, x0: usize, x1: usize, x2: usize, x3: usize, cols: i32): v128 {
  const f = changetype<F>(0);
  let acc = f32x4.splat(0);
  const nb = cols >> 8;
  for (let sb = 0; sb < nb; sb++) {
    const w = p + <usize>sb * f.bytes();
    const xo = <usize>sb * Q8K_BLOCK;
    const a0 = x0 + xo, a1 = x1 + xo, a2 = x2 + xo, a3 = x3 + xo;
    const dx = lanes(load<f32>(a0), load<f32>(a1), load<f32>(a2), load<f32>(a3));
    const i = isum4(superDot<F>(w, a0), superDot<F>(w, a1), superDot<F>(w, a2), superDot<F>(w, a3));
    acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(i), f32x4.mul(f32x4.splat(f.d(w)), dx)));
    if (f.hasMin()) {
      const m = f32x4.convert_i32x4_s(isum4(f.minDot(w, a0), f.minDot(w, a1), f.minDot(w, a2), f.minDot(w, a3)));
      acc = f32x4.sub(acc, f32x4.mul(m, f32x4.mul(f32x4.splat(f.dmin(w)), dx)));
    }
  }
  return acc;
}
