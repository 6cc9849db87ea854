/**
 * The per-sub-block scale searches of ggml's K-quants (ggml/src/ggml-quants.c), in float32
 * arithmetic step for step as the C code is written (no fused multiply-add):
 *
 *   - makeQkx2Quants: asymmetric (scale, min) fit of `n` values to levels 0..nmax, used by Q4_K
 *     (n 32, nmax 15, rmin -1, rdelta 0.1, nstep 20, squared error).
 *   - makeQxQuants: symmetric scale fit to levels -nmax..nmax-1, used by Q6_K (n 16, nmax 32,
 *     rmse_type 1: weights x², no importance matrix).
 *
 * Both write their chosen levels into `L` (offset by nmax for makeQxQuants, so L ∈ 0..2·nmax-1).
 *
 *   const L = new Uint8Array(4);
 *   makeQkx2Quants(4, 15, Float32Array.of(0, 1, 2, 3), Float32Array.of(1, 1, 1, 1), L, new Uint8Array(4), -1, 0.1, 20)
 *   // → { scale ≈ 0.2, theMin: -0 } and L = [0, 5, 10, 15]
 */
import { f32, nearestInt } from './half.js';

/** Below this, ggml treats a group as all zero (GROUP_MAX_EPS). */
export const GROUP_MAX_EPS = f32(1e-15);

export interface ScaleMin {
  /** The scale: value ≈ scale · L + min. */
  scale: number;
  /** `*the_min` in ggml: minus the (non-positive) offset, so ≥ 0. */
  theMin: number;
}

/**
 * ggml's `make_qkx2_quants(n, nmax, x, weights, L, &the_min, Laux, rmin, rdelta, nstep, use_mad=false)`
 * over x[0..n), writing levels into L[0..n) (pass subarrays).
 */
export function makeQkx2Quants(
  n: number,
  nmax: number,
  x: Float32Array,
  weights: Float32Array,
  L: Uint8Array,
  Laux: Uint8Array,
  rmin: number,
  rdelta: number,
  nstep: number,
): ScaleMin {
  let min = x[0] as number;
  let max = x[0] as number;
  let sumW = weights[0] as number;
  let sumX = f32(sumW * min);
  for (let i = 1; i < n; i++) {
    const v = x[i] as number;
    if (v < min) min = v;
    if (v > max) max = v;
    const w = weights[i] as number;
    sumW = f32(sumW + w);
    sumX = f32(sumX + f32(w * v));
  }
  if (min > 0) min = 0;
  if (max === min) {
    for (let i = 0; i < n; i++) L[i] = 0;
    return { scale: 0, theMin: -min };
  }
  let iscale = f32(nmax / f32(max - min));
  let scale = f32(1 / iscale);
  let bestError = 0;
  for (let i = 0; i < n; i++) {
    const v = x[i] as number;
    const l = Math.max(0, Math.min(nmax, nearestInt(f32(iscale * f32(v - min)))));
    L[i] = l;
    let diff = f32(f32(f32(scale * l) + min) - v);
    diff = f32(diff * diff);
    bestError = f32(bestError + f32((weights[i] as number) * diff));
  }
  if (nstep < 1) return { scale, theMin: -min };
  for (let is = 0; is <= nstep; is++) {
    // `min` is the best fit so far (ggml updates it below), so the grid moves with it.
    iscale = f32(f32(f32(rmin + f32(rdelta * is)) + nmax) / f32(max - min));
    let sumL = 0;
    let sumL2 = 0;
    let sumXL = 0;
    for (let i = 0; i < n; i++) {
      const v = x[i] as number;
      const l = Math.max(0, Math.min(nmax, nearestInt(f32(iscale * f32(v - min)))));
      Laux[i] = l;
      const wl = f32((weights[i] as number) * l);
      sumL = f32(sumL + wl);
      sumL2 = f32(sumL2 + f32(wl * l));
      sumXL = f32(sumXL + f32(wl * v));
    }
    const D = f32(f32(sumW * sumL2) - f32(sumL * sumL));
    if (D > 0) {
      let thisScale = f32(f32(f32(sumW * sumXL) - f32(sumX * sumL)) / D);
      let thisMin = f32(f32(f32(sumL2 * sumX) - f32(sumL * sumXL)) / D);
      if (thisMin > 0) {
        thisMin = 0;
        thisScale = f32(sumXL / sumL2);
      }
      let curError = 0;
      for (let i = 0; i < n; i++) {
        let diff = f32(f32(f32(thisScale * (Laux[i] as number)) + thisMin) - (x[i] as number));
        diff = f32(diff * diff);
        curError = f32(curError + f32((weights[i] as number) * diff));
      }
      if (curError < bestError) {
        for (let i = 0; i < n; i++) L[i] = Laux[i] as number;
        bestError = curError;
        scale = thisScale;
        min = thisMin;
      }
    }
  }
  return { scale, theMin: -min };
}

/**
 * ggml's `make_qx_quants(n, nmax, x, L, rmse_type=1, qw=NULL)` over x[0..n): returns the
 * scale, writes L[i] = nmax + clamp(l, -nmax, nmax-1).
 */
export function makeQxQuantsRmse1(n: number, nmax: number, x: Float32Array, L: Uint8Array): number {
  let max = 0;
  let amax = 0;
  for (let i = 0; i < n; i++) {
    const v = x[i] as number;
    const ax = Math.abs(v);
    if (ax > amax) {
      amax = ax;
      max = v;
    }
  }
  if (amax < GROUP_MAX_EPS) {
    for (let i = 0; i < n; i++) L[i] = 0;
    return 0;
  }
  const clampL = (l: number): number => Math.max(-nmax, Math.min(nmax - 1, l));
  let iscale = f32(-nmax / max);
  let sumlx = 0;
  let suml2 = 0;
  for (let i = 0; i < n; i++) {
    const v = x[i] as number;
    const l = clampL(nearestInt(f32(iscale * v)));
    L[i] = l + nmax;
    const w = f32(v * v);
    sumlx = f32(sumlx + f32(f32(w * v) * l));
    suml2 = f32(suml2 + f32(f32(w * l) * l));
  }
  let scale = suml2 !== 0 ? f32(sumlx / suml2) : 0;
  let best = f32(scale * sumlx);
  const tenth = f32(0.1);
  for (let is = -9; is <= 9; is++) {
    if (is === 0) continue;
    iscale = f32(-f32(nmax + f32(tenth * is)) / max);
    sumlx = 0;
    suml2 = 0;
    for (let i = 0; i < n; i++) {
      const v = x[i] as number;
      const l = clampL(nearestInt(f32(iscale * v)));
      const w = f32(v * v);
      sumlx = f32(sumlx + f32(f32(w * v) * l));
      suml2 = f32(suml2 + f32(f32(w * l) * l));
    }
    if (suml2 > 0 && f32(sumlx * sumlx) > f32(best * suml2)) {
      for (let i = 0; i < n; i++) L[i] = nmax + clampL(nearestInt(f32(iscale * (x[i] as number))));
      scale = f32(sumlx / suml2);
      best = f32(scale * sumlx);
    }
  }
  return scale;
}
