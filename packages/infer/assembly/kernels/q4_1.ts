// Q4_1 weights (ggml type 3): each row is cols/32 blocks of 20 bytes
//   { f16 d; f16 m; u8 qs[16] },  element j: low nibble of qs[j], element j+16: high nibble;
//   w = q · d + m.
//
//   rows4_q4_1(p0, p1, p2, p3, x, cols) → [W0·x, W1·x, W2·x, W3·x]   four rows in flight, one token
//   toks4_q4_1(p, x0, x1, x2, x3, cols) → [W·x0, W·x1, W·x2, W·x3]   one row, four tokens
//
// The kernels are block32.ts's with a minimum: rows4 uses Σ w·x = d·Σ q·x + m·Σ x per block
// (Σ x shared by the four rows); toks4 dequantizes q·d + m.
// Example: d = 1, m = −1, all nibbles 1, x = ones → 32 · (1 − 1) = 0.
import { halfAt, TOP } from './simd';
import { rows4B32, toks4B32 } from './block32';
import { rows4Q8, toks4Q8 } from './q8dot';

@final @unmanaged class Q4_1 {
  @inline bytes(): usize { return 20; }
  @inline qs(b: usize): v128 { return v128.load(b, 4); }
  @inline lo(b: usize, qs: v128): v128 { return v128.and(qs, i8x16.splat(0x0f)); }
  @inline hi(b: usize, qs: v128): v128 { return i8x16.shr_u(qs, 4); }
  @inline d(b: usize): f32 { return halfAt(b) * TOP; }
  @inline halfD(): bool { return true; }
  @inline hasMin(): bool { return true; }
  @inline m(b: usize): f32 { return halfAt(b + 2); }
}

export function rows4_q4_1(p0: usize, p1: usize, p2: usize, p3: usize, x: usize, cols: i32): v128 {
  return rows4B32<Q4_1>(p0, p1, p2, p3, x, cols);
}

export function toks4_q4_1(p: usize, x0: usize, x1: usize, x2: usize, x3: usize, cols: i32): v128 {
  return toks4B32<Q4_1>(p, x0, x1, x2, x3, cols);
}

/** The same products against Q8 activations (q8act.ts): integer dots, one scale per block. */
export function rows4q_q4_1(p0: usize, p1: usize, p2: usize, p3: usize, xq: usize, cols: i32): v128 {
  return rows4Q8<Q4_1>(p0, p1, p2, p3, xq, cols);
}

export function toks4q_q4_1(p: usize, x0: usize, x1: usize, x2: usize, x3: usize, cols: i32): v128 {
  return toks4Q8<Q4_1>(p, x0, x1, x2, x3, cols);
}
