// Shared SIMD helpers of the weight kernels (all inlined; no memory of their own).
//
//   halfAt(p)             fp16 at byte p → f32 (exact for every finite half)
//   sum4(a, b, c, d)      [Σa, Σb, Σc, Σd] — four accumulators reduced into one vector (isum4: i32x4)
//   dot4(w0..w3, x)       w0·x[0:4] + w1·x[4:8] + w2·x[8:12] + w3·x[12:16] lane-wise (f32x4)
//   top0..top3(q)         bytes 4k..4k+3 of an i8x16 as f32 (signed byte)·2^24 (× TOP = 2^-24 undoes it)
//   dotq(q, x0..x3)       lane-wise Σ (16 signed bytes of q)·2^24 · x (x0..x3 in registers)
//   xsum(x0..x3)          x0 + x1 + x2 + x3 lane-wise (Σ x of 16 columns, for block minimums)
//   lanes(a, b, c, d)     [a, b, c, d] from four f32 scalars (ragged column tails)
//   halves4(p0..p3)       [fp16 at p0, …, fp16 at p3] as f32x4; floats4: the f32s at p0..p3
//   nth(p0, step, k, m)   p0 + min(k, m − 1)·step: the k-th of a run of row / token pointers (ragged tiles)
//   putLanes(y, s, v, m, add)  lanes 0..m-1 of v to y + k·s, stored or added (ragged tiles)
//   accq(acc, q, d, x)    acc + one token's share of 16 dequantized weights top_k(q)·d (accqm: + m)
//
// Example: halfAt of bytes 00 3c is 1.0; sum4([1,2,3,4], 0, 0, [1,1,1,1]) = [10, 0, 0, 4];
// top0 of bytes [-3, 5, …] = [-3·2^24, 5·2^24, …].

/** 2^112 as f32 bits: rescales a half's exponent (bias 15) to float's (bias 127). */
const HALF_SCALE: i32 = 0x77800000;
/** Sign bit + the 15 exponent/mantissa bits of a half moved up by 13. */
const HALF_MASK: i32 = 0x8fffe000;

/**
 * fp16 at byte `p` → f32, by bit manipulation: the half sign-extended to i32 and shifted left 13
 * puts its exponent+mantissa at float's bits 13..27 and copies of its sign at 28..31; masking
 * keeps bit 31, and ×2^112 rebiases the exponent (subnormal halves land as float subnormals and
 * come out exact). Weights are finite: a half inf/NaN would read as ±65536·(1.m).
 * Example: 0x3c00 → (0x3c00 << 13) = 0x07800000 → ×2^112 = 1.0.
 */
@inline export function halfAt(p: usize): f32 {
  const h = <i32>load<i16>(p);
  return reinterpret<f32>((h << 13) & HALF_MASK) * reinterpret<f32>(HALF_SCALE);
}

/** Halves 0..3 (low) of 8 in `v` → f32x4, the vector form of halfAt. */
@inline export function halfLo(v: v128): v128 {
  const s = i32x4.shl(i32x4.extend_low_i16x8_s(v), 13);
  return f32x4.mul(v128.and(s, i32x4.splat(HALF_MASK)), f32x4.splat(reinterpret<f32>(HALF_SCALE)));
}

/** Halves 4..7 (high) of 8 in `v` → f32x4. */
@inline export function halfHi(v: v128): v128 {
  const s = i32x4.shl(i32x4.extend_high_i16x8_s(v), 13);
  return f32x4.mul(v128.and(s, i32x4.splat(HALF_MASK)), f32x4.splat(reinterpret<f32>(HALF_SCALE)));
}

/** The fp16 values at p0..p3 as f32x4 (lane k from pk): four lane loads, one halfLo (exact). */
@inline export function halves4(p0: usize, p1: usize, p2: usize, p3: usize): v128 {
  const v = v128.load16_lane(p3, v128.load16_lane(p2, v128.load16_lane(p1, v128.load16_lane(p0, i16x8.splat(0), 0), 1), 2), 3);
  return halfLo(v);
}

/** The f32 values at p0..p3 as f32x4 (lane k from pk). */
@inline export function floats4(p0: usize, p1: usize, p2: usize, p3: usize): v128 {
  return v128.load32_lane(p3, v128.load32_lane(p2, v128.load32_lane(p1, v128.load32_zero(p0), 1), 2), 3);
}

/** Lane-wise w0·x[0:4] + w1·x[4:8] + w2·x[8:12] + w3·x[12:16] (x a byte address), as a pairwise tree. */
@inline export function dot4(w0: v128, w1: v128, w2: v128, w3: v128, x: usize): v128 {
  const a = f32x4.add(f32x4.mul(w0, v128.load(x)), f32x4.mul(w1, v128.load(x, 16)));
  const b = f32x4.add(f32x4.mul(w2, v128.load(x, 32)), f32x4.mul(w3, v128.load(x, 48)));
  return f32x4.add(a, b);
}

/** Lane-wise w0·x0 + w1·x1 + w2·x2 + w3·x3 (x already in registers). */
@inline export function dot4v(w0: v128, w1: v128, w2: v128, w3: v128, x0: v128, x1: v128, x2: v128, x3: v128): v128 {
  return f32x4.add(f32x4.add(f32x4.mul(w0, x0), f32x4.mul(w1, x1)), f32x4.add(f32x4.mul(w2, x2), f32x4.mul(w3, x3)));
}

/** [Σa, Σb, Σc, Σd]: the horizontal sums of four f32x4 accumulators in one vector. */
@inline export function sum4(a: v128, b: v128, c: v128, d: v128): v128 {
  return reduce4(a, b, c, d, false);
}

/** sum4 of four i32x4 (exact integer sums). Example: isum4([1,2,3,4], 0, 0, [1,1,1,1]) = [10, 0, 0, 4]. */
@inline export function isum4(a: v128, b: v128, c: v128, d: v128): v128 {
  return reduce4(a, b, c, d, true);
}

/** The transpose-and-add tree of sum4 / isum4, adding as f32x4 or (int) as i32x4. */
@inline function reduce4(a: v128, b: v128, c: v128, d: v128, int: bool): v128 {
  const ab = add(i32x4.shuffle(a, b, 0, 1, 4, 5), i32x4.shuffle(a, b, 2, 3, 6, 7), int); // a0+a2 a1+a3 b0+b2 b1+b3
  const cd = add(i32x4.shuffle(c, d, 0, 1, 4, 5), i32x4.shuffle(c, d, 2, 3, 6, 7), int);
  return add(i32x4.shuffle(ab, cd, 0, 2, 4, 6), i32x4.shuffle(ab, cd, 1, 3, 5, 7), int);
}

@inline function add(a: v128, b: v128, int: bool): v128 {
  return int ? i32x4.add(a, b) : f32x4.add(a, b);
}

/** 2^-24: undoes the 2^24 of the top-byte conversions below. */
export const TOP: f32 = 5.9604644775390625e-8;

// Bytes 4k..4k+3 of `q` (k = 0..3) as f32 lanes of (signed byte)·2^24: one swizzle moves each
// byte into the top byte of an i32 lane (index −128 → 0), one convert (exact: |v| ≤ 2^31).
// Cheaper than the i8 → i16 → i32 widening chain; callers fold 2^-24 (TOP) into the scale.
@inline export function top0(q: v128): v128 {
  return f32x4.convert_i32x4_s(i8x16.swizzle(q, i8x16(-128, -128, -128, 0, -128, -128, -128, 1, -128, -128, -128, 2, -128, -128, -128, 3)));
}
@inline export function top1(q: v128): v128 {
  return f32x4.convert_i32x4_s(i8x16.swizzle(q, i8x16(-128, -128, -128, 4, -128, -128, -128, 5, -128, -128, -128, 6, -128, -128, -128, 7)));
}
@inline export function top2(q: v128): v128 {
  return f32x4.convert_i32x4_s(i8x16.swizzle(q, i8x16(-128, -128, -128, 8, -128, -128, -128, 9, -128, -128, -128, 10, -128, -128, -128, 11)));
}
@inline export function top3(q: v128): v128 {
  return f32x4.convert_i32x4_s(i8x16.swizzle(q, i8x16(-128, -128, -128, 12, -128, -128, -128, 13, -128, -128, -128, 14, -128, -128, -128, 15)));
}

/** Lane-wise Σ of the 16 signed bytes of `q` (as ·2^24, see top0..3) times x0..x3. */
@inline export function dotq(q: v128, x0: v128, x1: v128, x2: v128, x3: v128): v128 {
  return dot4v(top0(q), top1(q), top2(q), top3(q), x0, x1, x2, x3);
}

/** x0 + x1 + x2 + x3 lane-wise: Σ x of 16 columns, four lanes at a time. */
@inline export function xsum(x0: v128, x1: v128, x2: v128, x3: v128): v128 {
  return f32x4.add(f32x4.add(x0, x1), f32x4.add(x2, x3));
}

/** [a, b, c, d] as f32x4. */
@inline export function lanes(a: f32, b: f32, c: f32, d: f32): v128 {
  return f32x4.replace_lane(f32x4.replace_lane(f32x4.replace_lane(f32x4.splat(a), 1, b), 2, c), 3, d);
}

/** Ragged edges: the k-th of a run of pointers p0 + k·step, repeating the last valid one (k ≥ m). */
@inline export function nth(p0: usize, step: usize, k: i32, m: i32): usize {
  return p0 + <usize>min(k, m - 1) * step;
}

/** Lanes 0..m-1 of `v` to yp + k·stride (stored, or added to what is there when `add`). */
@inline export function putLanes(yp: usize, stride: usize, v: v128, m: i32, add: bool): void {
  putLane(yp, f32x4.extract_lane(v, 0), add);
  if (m > 1) putLane(yp + stride, f32x4.extract_lane(v, 1), add);
  if (m > 2) putLane(yp + 2 * stride, f32x4.extract_lane(v, 2), add);
  if (m > 3) putLane(yp + 3 * stride, f32x4.extract_lane(v, 3), add);
}

@inline function putLane(p: usize, v: f32, add: bool): void {
  store<f32>(p, add ? load<f32>(p) + v : v);
}

/**
 * acc + Σ_k (top_k(q)·d)·x[4k : 4k+4] lane-wise (x a byte address): one token's share of 16
 * dequantized weights. Called for four tokens with the same q and d, the dequantization is
 * computed once (it is pure; the optimizer merges the copies).
 */
@inline export function accq(acc: v128, q: v128, d: v128, x: usize): v128 {
  return f32x4.add(acc, dot4(f32x4.mul(top0(q), d), f32x4.mul(top1(q), d), f32x4.mul(top2(q), d), f32x4.mul(top3(q), d), x));
}

/** accq with an offset: weights top_k(q)·d + m. */
@inline export function accqm(acc: v128, q: v128, d: v128, m: v128, x: usize): v128 {
  return f32x4.add(acc, dot4(
    f32x4.add(f32x4.mul(top0(q), d), m), f32x4.add(f32x4.mul(top1(q), d), m),
    f32x4.add(f32x4.mul(top2(q), d), m), f32x4.add(f32x4.mul(top3(q), d), m), x));
}

// Integer dots of the Q8-activation kernels (q8dot.ts). Levels are i8x16; each half is widened to
// i16x8 once and `dot16` multiplies pairs and adds neighbours (i32x4.dot_i16x8_s): 16 products
// into 4 i32 lanes, exact — |w| ≤ 128 and |x| ≤ 127, so two summed products stay within i32.
//
//   wide(q, false) = elements 0..7 of q as i16x8, wide(q, true) = elements 8..15
//   dot32(w0, w1, w2, w3, x0, x1, x2, x3) = Σ of 32 products as i32x4 (w/x: four i16x8 each)
// Example: q = [1, −2, 3, …] widens to [1, −2, 3, …] (i16); dot16([1, 2, 0…], [3, 4, 0…]) = [11, 0, 0, 0].

/** Elements 0..7 (hi = false) or 8..15 (hi = true) of an i8x16 as i16x8 (sign-extended). */
@inline export function wide(q: v128, hi: bool): v128 {
  return hi ? i16x8.extend_high_i8x16_s(q) : i16x8.extend_low_i8x16_s(q);
}

/** Σ of the 32 products of two blocks of levels, each as four i16x8 vectors, into i32x4 lanes. */
@inline export function dot32(w0: v128, w1: v128, w2: v128, w3: v128, x0: v128, x1: v128, x2: v128, x3: v128): v128 {
  return i32x4.add(
    i32x4.add(i32x4.dot_i16x8_s(w0, x0), i32x4.dot_i16x8_s(w1, x1)),
    i32x4.add(i32x4.dot_i16x8_s(w2, x2), i32x4.dot_i16x8_s(w3, x3)));
}
