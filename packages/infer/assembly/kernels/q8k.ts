// Activation quantization to Q8_K (ggml's quantize_row_q8_K_ref, ggml-quants.c) — what the
// integer-dot kernels of the K-quants (kdot.ts: q4_K, q6_K) multiply weights with.
//
// Per super-block of 256 values x:  amax = max|x| and max = the first x with |x| = amax;
//   amax = 0 → d = 0, every level and sum 0;  else iscale = −127 / max (f32),
//   q[j] = min(127, nearest_int(iscale · x[j]))  (round half to even; x·iscale rounded to f32 first),
//   bsums[g] = Σ of the 16 levels of group g,  d = 1 / iscale (f32, not rounded to fp16).
//
// Layout (ggml's block_q8_K; one token = cols/256 blocks of Q8K_BLOCK = 292 bytes, back to back):
//   block { f32 d; i8 q[256]; i16 bsums[16] }          token t at q + t · q8kRowBytes(cols)
// Example: x = [-2, 1, 0.5, 0 …] → max = −2, iscale = 63.5, d = 1/63.5,
//   q = [−127, 64 (63.5 → even), 32 (31.75), 0 …], bsums[0] = −31.

/** Bytes of one Q8_K block: f32 d, 256 levels, 16 i16 group sums. */
export const Q8K_BLOCK: i32 = 292;

/** Bytes of one token's Q8_K activations (cols a multiple of 256). Example: q8kRowBytes(512) == 584. */
export function q8kRowBytes(cols: i32): i32 {
  return (cols >> 8) * Q8K_BLOCK;
}

/** Levels of the 4 x at p + off times iscale, round half to even, as i32x4. */
@inline function levels(p: usize, off: usize, is: v128): v128 {
  return i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(p + off), is)));
}

/** The first x among the 256 at p with |x| = amax (its sign sets iscale's). */
@inline function signedMax(p: usize, amax: f32): f32 {
  for (let k: usize = 0; k < 1024; k += 4) {
    const v = load<f32>(p + k);
    if (abs(v) == amax) return v;
  }
  return amax;
}

/** One super-block: 256 f32 at x → Q8_K block at q. */
@inline function quantizeBlock(x: usize, q: usize): void {
  let m = f32x4.splat(0);
  for (let k: usize = 0; k < 1024; k += 16) m = f32x4.max(m, f32x4.abs(v128.load(x + k)));
  const amax = max(max(f32x4.extract_lane(m, 0), f32x4.extract_lane(m, 1)), max(f32x4.extract_lane(m, 2), f32x4.extract_lane(m, 3)));
  if (amax == 0) {
    memory.fill(q, 0, <usize>Q8K_BLOCK);
    return;
  }
  const iscale: f32 = <f32>-127.0 / signedMax(x, amax);
  const is = f32x4.splat(iscale);
  for (let g: usize = 0; g < 16; g++) {
    const o = g << 6; // 16 floats
    const a = levels(x, o, is), b = levels(x, o + 16, is), c = levels(x, o + 32, is), e = levels(x, o + 48, is);
    // saturating narrows clamp at 127: ggml's MIN(127, v) (v ≥ −127 always)
    const v = i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(a, b), i16x8.narrow_i32x4_s(c, e));
    v128.store(q + 4 + (g << 4), v);
    const w = i32x4.extadd_pairwise_i16x8_s(i16x8.extadd_pairwise_i8x16_s(v));
    store<i16>(q + 260 + (g << 1), <i16>(i32x4.extract_lane(w, 0) + i32x4.extract_lane(w, 1) + i32x4.extract_lane(w, 2) + i32x4.extract_lane(w, 3)));
  }
  store<f32>(q, <f32>1.0 / iscale);
}

/**
 * Tokens [t0, t1) of x f32 [n, cols] → Q8_K activations at q (layout above; cols a multiple of
 * 256). Each token depends on its own row only, so threads split tokens with no overlap.
 */
export function quantize_q8k(x: usize, q: usize, cols: i32, t0: i32, t1: i32): void {
  const nb = cols >> 8;
  const qr = <usize>q8kRowBytes(cols);
  for (let t = t0; t < t1; t++) {
    const xt = x + (<usize>t * <usize>cols << 2);
    const qt = q + <usize>t * qr;
    for (let b = 0; b < nb; b++) quantizeBlock(xt + (<usize>b << 10), qt + <usize>b * Q8K_BLOCK);
  }
}
