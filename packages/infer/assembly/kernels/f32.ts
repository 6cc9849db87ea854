// F32 weights (ggml type 0): W [rows, cols] row-major f32, any cols.
//
//   gemv_f32(w, x, y, cols, r0, r1)    y[r] = W_r·x for r in [r0, r1)       one token, rows4 over quarters
//   gemm_f32(w, x, y, rows, cols, n, r0, r1)  y[t, r] = W_r·x_t        tiles of 2 rows × 4 tokens (gemm.ts)
//   gemv2_f32(w, x0, x1, y0, y1, cols, r0, r1)   the same for two tokens (weights read once)
//   rows4_f32(p0, p1, p2, p3, x, cols) → [W0·x, W1·x, W2·x, W3·x]   four rows in flight, one token
//   toks4_f32(p, x0, x1, x2, x3, cols) → [W·x0, W·x1, W·x2, W·x3]   one row, four tokens
//
// Example: W row [1, 2, 3], x [1, 0, -1] → W·x = -2. The kernels are dense.ts's.
import { gemv2Dense, gemvDense, rows4Dense, toks4Dense } from './dense';
import { gemmDense } from './gemm';

@final @unmanaged class F32 {
  @inline shift(): usize { return 2; }
  @inline w16(p: usize, k: i32): v128 {
    return k == 0 ? v128.load(p) : k == 1 ? v128.load(p, 16) : k == 2 ? v128.load(p, 32) : v128.load(p, 48);
  }
  @inline w4(p: usize): v128 { return v128.load(p); }
  @inline w1(p: usize): f32 { return load<f32>(p); }
}

export function gemv_f32(w: usize, x: usize, y: usize, cols: i32, r0: i32, r1: i32): void {
  gemvDense<F32>(w, x, y, cols, r0, r1);
}

export function gemm_f32(w: usize, x: usize, y: usize, rows: i32, cols: i32, n: i32, r0: i32, r1: i32): void {
  gemmDense<F32>(w, x, y, rows, cols, n, r0, r1);
}

export function gemv2_f32(w: usize, x0: usize, x1: usize, y0: usize, y1: usize, cols: i32, r0: i32, r1: i32): void {
  gemv2Dense<F32>(w, x0, x1, y0, y1, cols, r0, r1);
}

export function rows4_f32(p0: usize, p1: usize, p2: usize, p3: usize, x: usize, cols: i32): v128 {
  return rows4Dense<F32>(p0, p1, p2, p3, x, cols);
}

export function toks4_f32(p: usize, x0: usize, x1: usize, x2: usize, x3: usize, cols: i32): v128 {
  return toks4Dense<F32>(p, x0, x1, x2, x3, cols);
}
