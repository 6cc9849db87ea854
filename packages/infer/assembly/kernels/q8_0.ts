// Q8_0 weights (ggml type 8): each row is cols/32 blocks of 34 bytes
//   { f16 d; i8 qs[32] },  w[j] = qs[j] · d.
//
//   rows4_q8_0(p0, p1, p2, p3, x, cols) → [W0·x, W1·x, W2·x, W3·x]   four rows in flight, one token
//   toks4_q8_0(p, x0, x1, x2, x3, cols) → [W·x0, W·x1, W·x2, W·x3]   one row, four tokens
//
// The bytes are the levels (simd.ts top0..3 convert them; the 2^-24 is folded into d); the
// kernels are block32.ts's. Example: one block d = 1 (00 3c), qs = [2, 0, …], x = [3, …] → 6.
import { halfAt, TOP } from './simd';
import { rows4B32, toks4B32 } from './block32';
import { rows4Q8, toks4Q8 } from './q8dot';

@final @unmanaged class Q8_0 {
  @inline bytes(): usize { return 34; }
  @inline qs(b: usize): v128 { return v128.load(b, 2); }
  @inline lo(b: usize, qs: v128): v128 { return qs; }
  @inline hi(b: usize, qs: v128): v128 { return v128.load(b, 18); }
  @inline d(b: usize): f32 { return halfAt(b) * TOP; }
  @inline halfD(): bool { return true; }
  @inline hasMin(): bool { return false; }
  @inline m(b: usize): f32 { return 0; }
}

export function rows4_q8_0(p0: usize, p1: usize, p2: usize, p3: usize, x: usize, cols: i32): v128 {
  return rows4B32<Q8_0>(p0, p1, p2, p3, x, cols);
}

export function toks4_q8_0(p: usize, x0: usize, x1: usize, x2: usize, x3: usize, cols: i32): v128 {
  return toks4B32<Q8_0>(p, x0, x1, x2, x3, cols);
}

/** The same products against Q8 activations (q8act.ts): integer dots, one scale per block. */
export function rows4q_q8_0(p0: usize, p1: usize, p2: usize, p3: usize, xq: usize, cols: i32): v128 {
  return rows4Q8<Q8_0>(p0, p1, p2, p3, xq, cols);
}

export function toks4q_q8_0(p: usize, x0: usize, x1: usize, x2: usize, x3: usize, cols: i32): v128 {
  return toks4Q8<Q8_0>(p, x0, x1, x2, x3, cols);
}
