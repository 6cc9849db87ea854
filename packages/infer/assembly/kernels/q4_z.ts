// Q4_Z weights (private format 101, not a ggml type): @llm/quant's group-wise int4 (RTN sym/asym,
// GPTQ, AWQ) as cols/32 blocks of 24 bytes
//   { f32 d; u8 z; u8 pad[3]; u8 qs[16] },  element j: low nibble of qs[j], element j+16: high
//   nibble (ggml's order);  w = (q − z) · d.
// A group of 64 or 128 columns repeats its scale and zero point in each of its 32-blocks. q − z
// is an integer in [−15, 15], formed exactly in i8x16, and one f32 product rounds it, so the weights
// are bit for bit @llm/quant's f32((q − zero) · scale) (GPTQ: its f16 scales are exact in f32).
//
//   rows4_q4_z(p0, p1, p2, p3, x, cols) → [W0·x, W1·x, W2·x, W3·x]   four rows in flight, one token
//   toks4_q4_z(p, x0, x1, x2, x3, cols) → [W·x0, W·x1, W·x2, W·x3]   one row, four tokens
//
// The kernels are block32.ts's. Example: d = 1, z = 3, qs[0] = 0x51 (q0 = 1, q16 = 5), other
// nibbles 3, x = ones → (1 − 3) + (5 − 3) = 0.
import { TOP } from './simd';
import { rows4B32, toks4B32 } from './block32';
import { rows4Q8, toks4Q8 } from './q8dot';

@final @unmanaged class Q4Z {
  @inline bytes(): usize { return 24; }
  @inline qs(b: usize): v128 { return v128.load(b, 8); }
  /** Elements 0..15 (low nibbles) − z as i8x16. */
  @inline lo(b: usize, qs: v128): v128 { return i8x16.sub(v128.and(qs, i8x16.splat(0x0f)), i8x16.splat(load<u8>(b, 4))); }
  /** Elements 16..31 (high nibbles) − z. */
  @inline hi(b: usize, qs: v128): v128 { return i8x16.sub(i8x16.shr_u(qs, 4), i8x16.splat(load<u8>(b, 4))); }
  @inline d(b: usize): f32 { return load<f32>(b) * TOP; }
  @inline halfD(): bool { return false; }
  @inline hasMin(): bool { return false; }
  @inline m(b: usize): f32 { return 0; }
}

export function rows4_q4_z(p0: usize, p1: usize, p2: usize, p3: usize, x: usize, cols: i32): v128 {
  return rows4B32<Q4Z>(p0, p1, p2, p3, x, cols);
}

export function toks4_q4_z(p: usize, x0: usize, x1: usize, x2: usize, x3: usize, cols: i32): v128 {
  return toks4B32<Q4Z>(p, x0, x1, x2, x3, cols);
}

/** The same products against Q8 activations (q8act.ts): integer dots, one scale per block. */
export function rows4q_q4_z(p0: usize, p1: usize, p2: usize, p3: usize, xq: usize, cols: i32): v128 {
  return rows4Q8<Q4Z>(p0, p1, p2, p3, xq, cols);
}

export function toks4q_q4_z(p: usize, x0: usize, x1: usize, x2: usize, x3: usize, cols: i32): v128 {
  return toks4Q8<Q4Z>(p, x0, x1, x2, x3, cols);
}
