// Q4_0 weights (ggml type 2): each row is cols/32 blocks of 18 bytes
//   { f16 d; u8 qs[16] },  element j: low nibble of qs[j], element j+16: high nibble;
//   w = (q − 8) · d.
//
//   rows4_q4_0(p0, p1, p2, p3, x, cols) → [W0·x, W1·x, W2·x, W3·x]   four rows in flight, one token
//   toks4_q4_0(p, x0, x1, x2, x3, cols) → [W·x0, W·x1, W·x2, W·x3]   one row, four tokens
//
// Nibbles are split with and/shr on i8x16 and recentred by −8 there; the kernels are block32.ts's.
// Example: d = 1, qs[0] = 0xc0 (q0 = 0, q16 = 12), other nibbles 8, x = ones → −8 + 4 = −4.
import { halfAt, TOP } from './simd';
import { rows4B32, toks4B32 } from './block32';
import { rows4Q8, toks4Q8 } from './q8dot';

@final @unmanaged class Q4_0 {
  @inline bytes(): usize { return 18; }
  @inline qs(b: usize): v128 { return v128.load(b, 2); }
  /** Elements 0..15 (low nibbles), recentred: q − 8 as i8x16. */
  @inline lo(b: usize, qs: v128): v128 { return i8x16.sub(v128.and(qs, i8x16.splat(0x0f)), i8x16.splat(8)); }
  /** Elements 16..31 (high nibbles), recentred. */
  @inline hi(b: usize, qs: v128): v128 { return i8x16.sub(i8x16.shr_u(qs, 4), i8x16.splat(8)); }
  @inline d(b: usize): f32 { return halfAt(b) * TOP; }
  @inline halfD(): bool { return true; }
  @inline hasMin(): bool { return false; }
  @inline m(b: usize): f32 { return 0; }
}

export function rows4_q4_0(p0: usize, p1: usize, p2: usize, p3: usize, x: usize, cols: i32): v128 {
  return rows4B32<Q4_0>(p0, p1, p2, p3, x, cols);
}

export function toks4_q4_0(p: usize, x0: usize, x1: usize, x2: usize, x3: usize, cols: i32): v128 {
  return toks4B32<Q4_0>(p, x0, x1, x2, x3, cols);
}

/** The same products against Q8 activations (q8act.ts): integer dots, one scale per block. */
export function rows4q_q4_0(p0: usize, p1: usize, p2: usize, p3: usize, xq: usize, cols: i32): v128 {
  return rows4Q8<Q4_0>(p0, p1, p2, p3, xq, cols);
}

export function toks4q_q4_0(p: usize, x0: usize, x1: usize, x2: usize, x3: usize, cols: i32): v128 {
  return toks4Q8<Q4_0>(p, x0, x1, x2, x3, cols);
}
