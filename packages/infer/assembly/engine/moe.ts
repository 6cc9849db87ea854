// Mixture-of-experts FFN (HF Mixtral routing, exactly as @llm/transformer's moeMlp):
//   p = softmax(router · x) [N, E]; per token its top-k experts (ties → lower index first);
//   w = p over those k, renormalised; y[t] = Σ_j w_j · expert_{e_j}(x[t]), summed in expert order.
//
//   e.g. p = [0.5, 0.3, 0.2], k = 2 → experts 0 and 1, weights 0.625 and 0.375.

import { expf } from './math';
import { matmul, q8kRowBytes, q8RowBytes } from '../kernels/index';
import { mlp } from './mlp';
import { P_WORDS } from './layout';
import { barrier } from './sync';

/**
 * x [n, C] → y [n, C]. router f32 [E, C]; experts: E mlp records. Scratch: probs [n, E],
 * pick i32 [n, k], pw f32 [n, k], xe/ye [n, C], idx i32 [n], gw f32 [n], h1/h2 [n, I].
 * Quantized activations (qact): xq / xk = x as Q8 / Q8_K (0 when no expert's up/gate wants it;
 * routed rows are gathered into xeq / xek with the f32 rows), hq / hk scratch [n, I] (mlp.ts).
 * Threads: thread 0 routes, gathers and scatters; every expert's MLP is split over all; y is
 * complete for every thread on return.
 */
export function moe(router: usize, experts: usize, x: usize, xq: usize, xk: usize, xeq: usize, xek: usize, hq: usize, hk: usize, qact: bool, y: usize, probs: usize, pick: usize, pw: usize, xe: usize, ye: usize, idx: usize, gw: usize, h1: usize, h2: usize, C: i32, I: i32, E: i32, k: i32, n: i32, act: i32, tid: i32, nth: i32, bar: usize): void {
  const rowBytes = <usize>C << 2;
  const mAt = bar + 12; // routed rows of the current expert, shared
  if (tid == 0) route(router, x, y, probs, pick, pw, C, E, k, n);
  for (let e = 0; e < E; e++) {
    if (tid == 0) {
      const m = gather(e, x, pick, pw, xe, idx, gw, rowBytes, k, n);
      if (xq) gatherRows(xq, xeq, idx, <usize>q8RowBytes(C), m);
      if (xk) gatherRows(xk, xek, idx, <usize>q8kRowBytes(C), m);
      atomic.store<i32>(mAt, m);
    }
    barrier(bar, nth);
    const m = atomic.load<i32>(mAt);
    if (m > 0) mlp(experts + <usize>e * (<usize>P_WORDS << 2), xe, xq ? xeq : 0, xk ? xek : 0, ye, h1, h2, hq, hk, qact, C, I, m, act, tid, nth, bar);
    barrier(bar, nth);
    if (tid == 0 && m > 0) scatter(y, ye, idx, gw, rowBytes, C, m);
  }
  barrier(bar, nth);
}

/** probs = softmax(router · x); each token's top-k experts and renormalised weights; y = 0. */
function route(router: usize, x: usize, y: usize, probs: usize, pick: usize, pw: usize, C: i32, E: i32, k: i32, n: i32): void {
  const rowBytes = <usize>C << 2;
  matmul(0, router, x, probs, E, C, n, 0, E);
  for (let t = 0; t < n; t++) {
    const pr = probs + (<usize>t * <usize>E << 2);
    let mx: f32 = -Infinity;
    for (let e = 0; e < E; e++) mx = max(mx, load<f32>(pr + (<usize>e << 2)));
    let sum: f32 = 0;
    for (let e = 0; e < E; e++) {
      const v = expf(load<f32>(pr + (<usize>e << 2)) - mx);
      store<f32>(pr + (<usize>e << 2), v);
      sum += v;
    }
    for (let e = 0; e < E; e++) store<f32>(pr + (<usize>e << 2), load<f32>(pr + (<usize>e << 2)) / sum);
    // top-k by selection: the largest not yet taken, lower index on ties
    let picked: f32 = 0;
    for (let j = 0; j < k; j++) {
      let best = -1;
      let bv: f32 = -Infinity;
      for (let e = 0; e < E; e++) {
        let taken = false;
        for (let i = 0; i < j; i++) if (load<i32>(pick + ((<usize>t * <usize>k + <usize>i) << 2)) == e) taken = true;
        if (taken) continue;
        const v = load<f32>(pr + (<usize>e << 2));
        if (best < 0 || v > bv) {
          best = e;
          bv = v;
        }
      }
      store<i32>(pick + ((<usize>t * <usize>k + <usize>j) << 2), best);
      store<f32>(pw + ((<usize>t * <usize>k + <usize>j) << 2), bv);
      picked += bv;
    }
    for (let j = 0; j < k; j++) {
      const o = pw + ((<usize>t * <usize>k + <usize>j) << 2);
      store<f32>(o, load<f32>(o) / picked);
    }
  }
  memory.fill(y, 0, <usize>n * rowBytes);
}

/** Rows idx[0..m) of src (rows of `bytes`) → dst rows 0..m: the routed rows' quantized copies. */
function gatherRows(src: usize, dst: usize, idx: usize, bytes: usize, m: i32): void {
  for (let i = 0; i < m; i++) memory.copy(dst + <usize>i * bytes, src + <usize>load<i32>(idx + (<usize>i << 2)) * bytes, bytes);
}

/** Rows routed to expert e → xe, their token ids → idx, gate weights → gw; returns how many. */
function gather(e: i32, x: usize, pick: usize, pw: usize, xe: usize, idx: usize, gw: usize, rowBytes: usize, k: i32, n: i32): i32 {
  let m = 0;
  for (let t = 0; t < n; t++) {
    for (let j = 0; j < k; j++) {
      if (load<i32>(pick + ((<usize>t * <usize>k + <usize>j) << 2)) != e) continue;
      store<i32>(idx + (<usize>m << 2), t);
      store<f32>(gw + (<usize>m << 2), load<f32>(pw + ((<usize>t * <usize>k + <usize>j) << 2)));
      memory.copy(xe + <usize>m * rowBytes, x + <usize>t * rowBytes, rowBytes);
      m++;
    }
  }
  return m;
}

/** y[idx[i]] += gw[i] · ye[i] for the m routed rows. */
function scatter(y: usize, ye: usize, idx: usize, gw: usize, rowBytes: usize, C: i32, m: i32): void {
  {
    for (let i = 0; i < m; i++) {
      const t = load<i32>(idx + (<usize>i << 2));
      const w = load<f32>(gw + (<usize>i << 2));
      const yr = y + <usize>t * rowBytes;
      const er = ye + <usize>i * rowBytes;
      for (let c = 0; c < C; c++) {
        const o = <usize>c << 2;
        store<f32>(yr + o, load<f32>(yr + o) + w * load<f32>(er + o));
      }
    }
  }
}
