// exp without lookup tables: AssemblyScript's Math.exp / Mathf.exp bring data segments
// (their tables), and this module must own no static data (every thread instantiates it on the
// same memory). expd: f64, relative error ≈ 1e-15 (erf-GELU, MoE router softmax); exp4: f32x4,
// ≤ 2e-7 (SiLU, GELU-tanh, attention softmax: the elementwise work of every step).
//
//   expd(1) = 2.718281828459045; exp4(splat(1)) ≈ 2.7182817

const LN2_HI: f64 = 6.93147180369123816490e-01;
const LN2_LO: f64 = 1.90821492927058770002e-10;
const INV_LN2: f64 = 1.44269504088896338700e+00;

/** e^x: x = k·ln2 + r, |r| ≤ ln2/2, e^r by its Taylor series to r^13, times 2^k. */
export function expd(x: f64): f64 {
  if (x != x) return x;
  if (x > 709.0) return Infinity;
  if (x < -745.0) return 0.0;
  const k = Math.floor(x * INV_LN2 + 0.5);
  const r = (x - k * LN2_HI) - k * LN2_LO;
  let p: f64 = 1.0 / 6227020800.0; // 1/13!
  p = p * r + 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  // 2^k in two steps so k down to −1074 and up to 1023 stay representable
  const ki = <i64>k;
  const h = ki >> 1;
  const s1 = reinterpret<f64>((h + 1023) << 52);
  const s2 = reinterpret<f64>((ki - h + 1023) << 52);
  return p * s1 * s2;
}

/** e^x for f32 (through f64). */
// @ts-ignore: decorator
@inline export function expf(x: f32): f32 {
  return <f32>expd(<f64>x);
}

// ---- f32x4: the hot elementwise paths (SiLU, GELU-tanh, attention softmax) ----------------------

/**
 * e^x lane-wise in f32 (Cephes expf: x = k·ln2 + r, |r| ≤ ln2/2, a degree-7 polynomial in r,
 * times 2^k built in the exponent bits); relative error ≤ 2e-7 for x in [−87.3, 88.7], inputs
 * clamped to that range (e^−87.3 ≈ 1e-38 stands for 0, e^88.7 ≈ 3e38 for overflow).
 * Example: exp4([0, 1, −1, 2]) ≈ [1, 2.7182817, 0.36787945, 7.389056].
 */
// @ts-ignore: decorator
@inline export function exp4(v: v128): v128 {
  const x = f32x4.min(f32x4.max(v, f32x4.splat(-87.3)), f32x4.splat(88.7));
  const k = f32x4.nearest(f32x4.mul(x, f32x4.splat(1.44269504088896341)));
  let r = f32x4.sub(x, f32x4.mul(k, f32x4.splat(0.693359375)));
  r = f32x4.sub(r, f32x4.mul(k, f32x4.splat(-2.12194440e-4)));
  let p = f32x4.splat(1.9875691500e-4);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(5.0000001201e-1));
  p = f32x4.add(f32x4.add(f32x4.mul(p, f32x4.mul(r, r)), r), f32x4.splat(1));
  const two = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(k), i32x4.splat(127)), 23); // 2^k
  return f32x4.mul(p, two);
}

/**
 * x · sigmoid(a·x) lane-wise = x / (1 + e^(−a·x)): SiLU at a = 1; GELU-tanh as
 * x · sigmoid(2·√(2/π)·(x + 0.044715x³)) (0.5·(1 + tanh z) = sigmoid(2z)) through `gelu4`.
 * Example: xsig4([0, 1, …], 1) = [0, 0.7310586, …].
 */
// @ts-ignore: decorator
@inline export function xsig4(x: v128, z: v128): v128 {
  return f32x4.div(x, f32x4.add(f32x4.splat(1), exp4(f32x4.neg(z))));
}

/** GELU (tanh approximation) lane-wise. Example: gelu4([1, …]) ≈ [0.8411920, …]. */
// @ts-ignore: decorator
@inline export function gelu4(x: v128): v128 {
  const x3 = f32x4.mul(f32x4.mul(x, x), x);
  const z = f32x4.mul(f32x4.splat(1.5957691216057308), f32x4.add(x, f32x4.mul(f32x4.splat(0.044715), x3)));
  return xsig4(x, z);
}
