// Weight formats the engine runs and the one dispatcher over them. Format ids are ggml's type
// numbers (GGML_TYPE in @llm/quant): 0 F32, 1 F16, 2 Q4_0, 3 Q4_1, 8 Q8_0, 12 Q4_K, 14 Q6_K.
import { matmul_f32 } from './f32';

export const FMT_F32: i32 = 0;

/**
 * y[t, r] = Σ_c W[r, c] · x[t, c] for rows r in [r0, r1) and t < n, W in format `fmt`
 * (rows of `cols` elements, each row a run of ggml blocks), x [n, cols] f32, y [n, rows] f32.
 */
export function matmul(fmt: i32, w: usize, x: usize, y: usize, rows: i32, cols: i32, n: i32, r0: i32, r1: i32): void {
  if (fmt == FMT_F32) matmul_f32(w, x, y, rows, cols, n, r0, r1);
  else unreachable();
}
