// F16 weights (ggml type 1): W [rows, cols] row-major little-endian IEEE half, any cols.
// No f16 in wasm: halves become floats by integer SIMD (simd.ts halfLo/halfHi: sign-extend,
// shift 13, mask, ×2^112), which is exact for every finite half.
//
//   gemv_f16(w, x, y, cols, r0, r1)    y[r] = W_r·x for r in [r0, r1)       one token, rows4 over quarters
//   gemv2_f16(w, x0, x1, y0, y1, cols, r0, r1)   the same for two tokens (weights read once)
//   rows4_f16(p0, p1, p2, p3, x, cols) → [W0·x, W1·x, W2·x, W3·x]   four rows in flight, one token
//   toks4_f16(p, x0, x1, x2, x3, cols) → [W·x0, W·x1, W·x2, W·x3]   one row, four tokens
//
// Example: W row bytes 00 3c 00 40 (halves 1.0, 2.0), x [3, 4] → 11. The kernels are dense.ts's.
import { halfAt, halfHi, halfLo } from './simd';
import { gemv2Dense, gemvDense, rows4Dense, toks4Dense } from './dense';

@final @unmanaged class F16 {
  @inline shift(): usize { return 1; }
  @inline w16(p: usize, k: i32): v128 {
    return k == 0 ? halfLo(v128.load(p)) : k == 1 ? halfHi(v128.load(p)) : k == 2 ? halfLo(v128.load(p, 16)) : halfHi(v128.load(p, 16));
  }
  @inline w4(p: usize): v128 { return halfLo(v128.load64_zero(p)); }
  @inline w1(p: usize): f32 { return halfAt(p); }
}

export function gemv_f16(w: usize, x: usize, y: usize, cols: i32, r0: i32, r1: i32): void {
  gemvDense<F16>(w, x, y, cols, r0, r1);
}

export function gemv2_f16(w: usize, x0: usize, x1: usize, y0: usize, y1: usize, cols: i32, r0: i32, r1: i32): void {
  gemv2Dense<F16>(w, x0, x1, y0, y1, cols, r0, r1);
}

export function rows4_f16(p0: usize, p1: usize, p2: usize, p3: usize, x: usize, cols: i32): v128 {
  return rows4Dense<F16>(p0, p1, p2, p3, x, cols);
}

export function toks4_f16(p: usize, x0: usize, x1: usize, x2: usize, x3: usize, cols: i32): v128 {
  return toks4Dense<F16>(p, x0, x1, x2, x3, cols);
}
