// Activation quantization to Q8 (ggml's quantize_row_q8_0 / quantize_row_q8_1 reference
// semantics, ggml-quants.c) — what the integer-dot kernels (q8dot.ts) multiply weights with.
//
// Per block of 32 values x:  amax = max|x|,  d = amax / 127 (f32),  id = d ≠ 0 ? 1/d : 0,
//   q[j] = roundf(x[j] · id)  (round half away from zero; x·id rounded to f32 first),
//   stored d = fp16(d),  s = fp16(d · Σ q)  (the unrounded d; Q8_1's sum term, used by q4_1).
// Both scales are kept as the f32 values of those halves, so the dots use fp16-rounded scales
// exactly as ggml does.
//
// Layout (one token = cols/32 blocks of Q8_BLOCK = 40 bytes, tokens back to back):
//   block { f32 d; f32 s; i8 q[32] }          token t at q + t · q8RowBytes(cols)
// Example: x = [1, -2, 0.5, 0 …] → amax 2, d = 2/127 ≈ 0.015747 (fp16 0.015747070), id = 63.5,
//   q = [64 (63.5 rounds away), -127, 32 (31.75), 0 …], Σq = -31, s = fp16(-31 · d) = -0.48828125.

/** Bytes of one Q8 block: f32 d, f32 s, 32 levels. */
export const Q8_BLOCK: i32 = 40;

/** Bytes of one token's Q8 activations (cols a multiple of 32). Example: q8RowBytes(64) == 80. */
export function q8RowBytes(cols: i32): i32 {
  return (cols >> 5) * Q8_BLOCK;
}

/** 2^24 and 2^-24: the quantum of half subnormals. */
const TWO24: f32 = 16777216.0;
const TWO_M24: f32 = 5.9604644775390625e-8;
/** Smallest normal half, 2^-14; largest finite half. */
const HALF_MIN_NORMAL: f32 = 6.103515625e-5;
const HALF_MAX: f32 = 65504.0;

/**
 * f32 → nearest fp16 value (ties to even, overflow → ±inf), returned as f32 — what
 * GGML_FP32_TO_FP16 stores. Normal range: round the 23-bit mantissa to 10 bits on the f32 bits;
 * subnormal halves: round to a multiple of 2^-24. Example: halfRound(0.1) = 0.0999755859375.
 */
@inline export function halfRound(f: f32): f32 {
  if (abs(f) < HALF_MIN_NORMAL) return nearest(f * TWO24) * TWO_M24;
  const b = reinterpret<u32>(f);
  const r = reinterpret<f32>((b + 0xfff + ((b >> 13) & 1)) & 0xffffe000);
  return abs(r) > HALF_MAX ? copysign<f32>(Infinity, f) : r;
}

/** roundf lane-wise: round half away from zero (trunc, then ±1 where |frac| ≥ 0.5). */
@inline function roundAway(v: v128): v128 {
  const t = f32x4.trunc(v);
  const one = v128.or(v128.and(v, i32x4.splat(0x80000000)), f32x4.splat(1.0));
  return f32x4.add(t, v128.and(f32x4.ge(f32x4.abs(f32x4.sub(v, t)), f32x4.splat(0.5)), one));
}

/** Levels of 8 x (two f32x4 at p, p+16) times id, as i32x4 pairs narrowed later. */
@inline function levels(p: usize, off: usize, id: v128): v128 {
  return i32x4.trunc_sat_f32x4_s(roundAway(f32x4.mul(v128.load(p + off), id)));
}

/** One block: 32 f32 at x → Q8 block at q. */
@inline function quantizeBlock(x: usize, q: usize): void {
  let m = f32x4.max(f32x4.abs(v128.load(x)), f32x4.abs(v128.load(x, 16)));
  for (let k: usize = 32; k < 128; k += 32) m = f32x4.max(m, f32x4.max(f32x4.abs(v128.load(x + k)), f32x4.abs(v128.load(x + k, 16))));
  const amax = max(max(f32x4.extract_lane(m, 0), f32x4.extract_lane(m, 1)), max(f32x4.extract_lane(m, 2), f32x4.extract_lane(m, 3)));
  const d: f32 = amax / 127;
  const id = f32x4.splat(d != 0 ? <f32>1.0 / d : <f32>0);
  let sum = i32x4.splat(0);
  for (let k: usize = 0; k < 128; k += 64) {
    const a = levels(x, k, id), b = levels(x, k + 16, id), c = levels(x, k + 32, id), e = levels(x, k + 48, id);
    sum = i32x4.add(sum, i32x4.add(i32x4.add(a, b), i32x4.add(c, e)));
    v128.store(q + 8 + (k >> 2), i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(a, b), i16x8.narrow_i32x4_s(c, e)));
  }
  const s = i32x4.extract_lane(sum, 0) + i32x4.extract_lane(sum, 1) + i32x4.extract_lane(sum, 2) + i32x4.extract_lane(sum, 3);
  store<f32>(q, halfRound(d));
  store<f32>(q, halfRound(<f32>s * d), 4);
}

/**
 * Tokens [t0, t1) of x f32 [n, cols] → Q8 activations at q (layout above; cols a multiple of
 * 32). Each token depends on its own row only, so threads split tokens with no overlap.
 */
export function quantize_q8(x: usize, q: usize, cols: i32, t0: i32, t1: i32): void {
  const nb = cols >> 5;
  const qr = <usize>q8RowBytes(cols);
  for (let t = t0; t < t1; t++) {
    const xt = x + (<usize>t * <usize>cols << 2);
    const qt = q + <usize>t * qr;
    for (let b = 0; b < nb; b++) quantizeBlock(xt + (<usize>b << 7), qt + <usize>b * Q8_BLOCK);
  }
}
