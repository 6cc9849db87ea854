// exp and tanh without lookup tables: AssemblyScript's Math.exp / Mathf.exp bring data segments
// (their tables), and this module must own no static data (every thread instantiates it on the
// same memory). f64 throughout; relative error ≈ 1e-15.
//
//   exp(1) = 2.718281828459045, tanh(0.5) = 0.46211715726000974

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

/** tanh x = sign(x) · (1 − 2 / (e^{2|x|} + 1)); |x| < 1e-4 → x − x³/3. */
export function tanhd(x: f64): f64 {
  const a = Math.abs(x);
  if (a < 1e-4) return x - (x * x * x) / 3.0;
  if (a > 20.0) return x > 0 ? 1.0 : -1.0;
  const t = 1.0 - 2.0 / (expd(2.0 * a) + 1.0);
  return x > 0 ? t : -t;
}
