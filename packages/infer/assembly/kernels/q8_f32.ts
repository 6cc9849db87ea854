// Q8_F32 weights (private format 100, not a ggml type): @llm/quant's int8 per-channel rows as
// cols/32 blocks of 36 bytes
//   { f32 d; i8 qs[32] },  w[j] = qs[j] · d,  d = absmax(row) · (1/127) in f32 (one per row,
//   repeated in each block, so no fp16 rounding of the scale as in Q8_0).
//
//   rows4_q8_f32(p0, p1, p2, p3, x, cols) → [W0·x, W1·x, W2·x, W3·x]   four rows in flight, one token
//   toks4_q8_f32(p, x0, x1, x2, x3, cols) → [W·x0, W·x1, W·x2, W·x3]   one row, four tokens
//
// The kernels are block32.ts's (as Q8_0's). Example: d = 0.5, qs = [2, −3, 0, …], x = [3, 1, …] → 1.5.
import { TOP } from './simd';
import { rows4B32, toks4B32 } from './block32';
import { rows4Q8, toks4Q8 } from './q8dot';

@final @unmanaged class Q8F32 {
  @inline bytes(): usize { return 36; }
  @inline qs(b: usize): v128 { return v128.load(b, 4); }
  @inline lo(b: usize, qs: v128): v128 { return qs; }
  @inline hi(b: usize, qs: v128): v128 { return v128.load(b, 20); }
  @inline d(b: usize): f32 { return load<f32>(b) * TOP; }
  @inline halfD(): bool { return false; }
  @inline hasMin(): bool { return false; }
  @inline m(b: usize): f32 { return 0; }
}

export function rows4_q8_f32(p0: usize, p1: usize, p2: usize, p3: usize, x: usize, cols: i32): v128 {
  return rows4B32<Q8F32>(p0, p1, p2, p3, x, cols);
}

export function toks4_q8_f32(p: usize, x0: usize, x1: usize, x2: usize, x3: usize, cols: i32): v128 {
  return toks4B32<Q8F32>(p, x0, x1, x2, x3, cols);
}

/** The same products against Q8 activations (q8act.ts): integer dots, one scale per block. */
export function rows4q_q8_f32(p0: usize, p1: usize, p2: usize, p3: usize, xq: usize, cols: i32): v128 {
  return rows4Q8<Q8F32>(p0, p1, p2, p3, xq, cols);
}

export function toks4q_q8_f32(p: usize, x0: usize, x1: usize, x2: usize, x3: usize, cols: i32): v128 {
  return toks4Q8<Q8F32>(p, x0, x1, x2, x3, cols);
}
