// Q5_0 weights (ggml type 6): each row is cols/32 blocks of 22 bytes
//   { f16 d; u32 qh; u8 qs[16] },  q[j] = (nibble j) | (bit j of qh) << 4, element j: low nibble
//   of qs[j], element j+16: high nibble of qs[j] (bit j+16 of qh);  w = (q − 16) · d.
//
//   rows4_q5_0(p0, p1, p2, p3, x, cols) → [W0·x, W1·x, W2·x, W3·x]   four rows in flight, one token
//   toks4_q5_0(p, x0, x1, x2, x3, cols) → [W·x0, W·x1, W·x2, W·x3]   one row, four tokens
//
// The 16 high bits of a half block become 0/16 bytes by a byte shuffle of qh, an and with the
// per-lane bit (1, 2, 4 … 128 twice) and a compare; the kernels are block32.ts's.
// Example: d = 1, qh = 0xfffffffe, qs = 0, x = ones → (0 − 16) + 31 · (16 − 16) = −16.
import { halfAt, TOP } from './simd';
import { rows4B32, toks4B32 } from './block32';
import { rows4Q8, toks4Q8 } from './q8dot';

/** 16 bytes of 0 or 16: bit (k·8 + i) of `qh` at lane i (k = byte 0/1 for lanes 0..7/8..15). */
@inline function highBits(qhv: v128, lo: bool): v128 {
  const spread = lo
    ? i8x16.shuffle(qhv, qhv, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1)
    : i8x16.shuffle(qhv, qhv, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
  const bit = i8x16(1, 2, 4, 8, 16, 32, 64, -128, 1, 2, 4, 8, 16, 32, 64, -128);
  return v128.and(i8x16.eq(v128.and(spread, bit), bit), i8x16.splat(16));
}

@final @unmanaged class Q5_0 {
  @inline bytes(): usize { return 22; }
  @inline qs(b: usize): v128 { return v128.load(b, 6); }
  /** Levels − 16 of elements 0..15. */
  @inline lo(b: usize, qs: v128): v128 {
    return i8x16.sub(v128.or(v128.and(qs, i8x16.splat(0x0f)), highBits(v128.load32_zero(b + 2), true)), i8x16.splat(16));
  }
  /** Levels − 16 of elements 16..31. */
  @inline hi(b: usize, qs: v128): v128 {
    return i8x16.sub(v128.or(i8x16.shr_u(qs, 4), highBits(v128.load32_zero(b + 2), false)), i8x16.splat(16));
  }
  @inline d(b: usize): f32 { return halfAt(b) * TOP; }
  @inline halfD(): bool { return true; }
  @inline hasMin(): bool { return false; }
  @inline m(b: usize): f32 { return 0; }
}

export function rows4_q5_0(p0: usize, p1: usize, p2: usize, p3: usize, x: usize, cols: i32): v128 {
  return rows4B32<Q5_0>(p0, p1, p2, p3, x, cols);
}

export function toks4_q5_0(p: usize, x0: usize, x1: usize, x2: usize, x3: usize, cols: i32): v128 {
  return toks4B32<Q5_0>(p, x0, x1, x2, x3, cols);
}

/** The same products against Q8 activations (q8act.ts): integer dots, one scale per block. */
export function rows4q_q5_0(p0: usize, p1: usize, p2: usize, p3: usize, xq: usize, cols: i32): v128 {
  return rows4Q8<Q5_0>(p0, p1, p2, p3, xq, cols);
}

export function toks4q_q5_0(p: usize, x0: usize, x1: usize, x2: usize, x3: usize, cols: i32): v128 {
  return toks4Q8<Q5_0>(p, x0, x1, x2, x3, cols);
}
