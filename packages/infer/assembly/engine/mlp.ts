// Linear layers with bias, activations, the dense MLP of both families and the MoE FFN.
//
//   gpt2:  down(act(up(x)))                 act = gelu_tanh or gelu (erf)
//   llama: down(silu(gate(x)) ⊙ up(x))
//   MoE (HF Mixtral routing, as @llm/transformer): p = softmax(router·x) [N, E]; each token's top-k
//        experts (ties → lower index), weights p renormalised over those k; y = Σ w_k · expert_k(x).
//
// Quantized activations (model word M_QACT): a linear whose weights have an integer-dot kernel
// runs matmul_q8 on its input quantized once by the caller as the format wants it (q8Kind): Q8
// at `xq` (q8_0 / q4_0 / q4_1 / q5_0) or Q8_K at `xk` (q4_K / q6_K); 0 = not quantized.
//
//   e.g. gelu_tanh(0) = 0, silu(0) · up = 0; a token with p = [0.5, 0.3, 0.2], k = 2 →
//        experts 0, 1 with weights 0.625, 0.375.

import { expd, gelu4, xsig4 } from './math';
import { ACT_Q8, ACT_Q8K, matmul, matmul_q8, q8Kind, quantize_q8, quantize_q8k } from '../kernels/index';
import { P_DOWN, P_GATE, P_UP, iword, word } from './layout';
import { barrier, part } from './sync';

/**
 * The quantized inputs the linear at word `at` of `rec` wants when they are on (`qact`), as bits:
 * 1 Q8, 2 Q8_K, 0 none (f32 / f16 weights). Example: q4_0 → 1, q6_K → 2.
 */
// @ts-ignore: decorator
@inline export function wants(qact: bool, rec: usize, at: i32): i32 {
  return qact ? (1 << q8Kind(iword(rec, at))) >> 1 : 0;
}

/** Tokens [t0, t1) of x [n, cols] quantized as `want` asks: Q8 → xq (bit 1), Q8_K → xk (bit 2). */
export function quantizeIn(want: i32, x: usize, xq: usize, xk: usize, cols: i32, t0: i32, t1: i32): void {
  if (want & 1) quantize_q8(x, xq, cols, t0, t1);
  if (want & 2) quantize_q8k(x, xk, cols, t0, t1);
}

/** `p` where `want` has `bit`, else 0 (the pointer a consumer may read). */
// @ts-ignore: decorator
@inline export function qptr(want: i32, bit: i32, p: usize): usize {
  return want & bit ? p : 0;
}

/**
 * y [n, rows] = x [n, cols] · Wᵀ (+ b) for rows [r0, r1) — the linear at word `at` (fmt, w, b) of
 * record `rec`; a format with an integer-dot kernel multiplies x's quantized copy (xq: Q8, xk:
 * Q8_K) when it is there (≠ 0).
 */
export function linear(rec: usize, at: i32, x: usize, xq: usize, xk: usize, y: usize, rows: i32, cols: i32, n: i32, r0: i32, r1: i32): void {
  const fmt = iword(rec, at);
  const w = word(rec, at + 1);
  const b = word(rec, at + 2);
  const kind = q8Kind(fmt);
  if (kind == ACT_Q8 && xq != 0) matmul_q8(fmt, w, xq, y, rows, cols, n, r0, r1);
  else if (kind == ACT_Q8K && xk != 0) matmul_q8(fmt, w, xk, y, rows, cols, n, r0, r1);
  else matmul(fmt, w, x, y, rows, cols, n, r0, r1);
  if (b) {
    for (let t = 0; t < n; t++) {
      const yr = y + (<usize>t * <usize>rows << 2);
      for (let r = r0; r < r1; r++) {
        const o = <usize>r << 2;
        store<f32>(yr + o, load<f32>(yr + o) + load<f32>(b + o));
      }
    }
  }
}

/** Abramowitz–Stegun-free erf: Numerical Recipes' erfc Chebyshev fit (relative error < 1.2e-7). */
function erf(x: f64): f64 {
  const z = Math.abs(x);
  const t = 1.0 / (1.0 + 0.5 * z);
  const r = t * expd(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? 1.0 - r : r - 1.0;
}

/** In place over columns [c0, c1) of h [n, I]: act 0 gelu_tanh (f32x4, math.ts gelu4), 1 gelu (erf, f64). */
export function gelu(h: usize, n: i32, I: i32, c0: i32, c1: i32, act: i32): void {
  for (let t = 0; t < n; t++) {
    const row = h + (<usize>t * <usize>I << 2);
    if (act == 0) {
      let c = c0;
      for (; c + 4 <= c1; c += 4) {
        const p = row + (<usize>c << 2);
        v128.store(p, gelu4(v128.load(p)));
      }
      // the tail through the same lane-wise code, so a column's value does not depend on the split
      for (; c < c1; c++) {
        const p = row + (<usize>c << 2);
        store<f32>(p, f32x4.extract_lane(gelu4(f32x4.splat(load<f32>(p))), 0));
      }
      continue;
    }
    for (let c = c0; c < c1; c++) {
      const p = row + (<usize>c << 2);
      const x = <f64>load<f32>(p);
      store<f32>(p, <f32>(0.5 * x * (1.0 + erf(x * 0.7071067811865476))));
    }
  }
}

/** g ← silu(g) ⊙ u over columns [c0, c1) of [n, I] (f32x4, math.ts xsig4; the tail lane-wise too). */
export function swiglu(g: usize, u: usize, n: i32, I: i32, c0: i32, c1: i32): void {
  for (let t = 0; t < n; t++) {
    const o0 = <usize>t * <usize>I << 2;
    let c = c0;
    for (; c + 4 <= c1; c += 4) {
      const o = o0 + (<usize>c << 2);
      const x = v128.load(g + o);
      v128.store(g + o, f32x4.mul(xsig4(x, x), v128.load(u + o)));
    }
    for (; c < c1; c++) {
      const o = o0 + (<usize>c << 2);
      const x = f32x4.splat(load<f32>(g + o));
      store<f32>(g + o, f32x4.extract_lane(xsig4(x, x), 0) * load<f32>(u + o));
    }
  }
}

/** The quantized inputs an MLP's input feeds (up, and gate where there is one), as wants() bits. */
export function mlpWants(qact: bool, rec: usize): i32 {
  return wants(qact, rec, P_UP) | wants(qact, rec, P_GATE);
}

/**
 * One MLP (record `rec`): x [n, C] → y [n, C], h1/h2 scratch [n, I]. xq / xk: x quantized (Q8 /
 * Q8_K, 0 = not); hq / hk: scratch [n, I] for the down projection's quantized input when `qact`.
 * Thread tid of nth computes hidden columns part(I) and output columns part(C) (one barrier
 * between, two when down quantizes its input by tokens); the caller reads y's columns
 * [part(C, tid), part(C, tid + 1)) without another barrier.
 */
export function mlp(rec: usize, x: usize, xq: usize, xk: usize, y: usize, h1: usize, h2: usize, hq: usize, hk: usize, qact: bool, C: i32, I: i32, n: i32, act: i32, tid: i32, nth: i32, bar: usize): void {
  const i0 = part(I, tid, nth);
  const i1 = part(I, tid + 1, nth);
  linear(rec, P_UP, x, xq, xk, h1, I, C, n, i0, i1);
  let h = h1;
  if (act == 2) {
    linear(rec, P_GATE, x, xq, xk, h2, I, C, n, i0, i1);
    swiglu(h2, h1, n, I, i0, i1);
    h = h2;
  } else {
    gelu(h1, n, I, i0, i1, act);
  }
  barrier(bar, nth);
  const want = wants(qact, rec, P_DOWN);
  if (want) {
    quantizeIn(want, h, hq, hk, I, part(n, tid, nth), part(n, tid + 1, nth));
    barrier(bar, nth);
  }
  linear(rec, P_DOWN, h, qptr(want, 1, hq), qptr(want, 2, hk), y, C, I, n, part(C, tid, nth), part(C, tid + 1, nth));
}
