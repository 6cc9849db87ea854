// f32 weights: y[t, r] = Σ_c W[r, c] · x[t, c] for rows r in [r0, r1), t < n.
// W [rows, cols] row-major f32; x [n, cols] f32; y [n, rows] f32 (row stride = rows).
// (Naive placeholder; the SIMD version replaces it.)
export function matmul_f32(w: usize, x: usize, y: usize, rows: i32, cols: i32, n: i32, r0: i32, r1: i32): void {
  for (let t = 0; t < n; t++) {
    const xt = x + (<usize>t * <usize>cols << 2);
    for (let r = r0; r < r1; r++) {
      const wr = w + (<usize>r * <usize>cols << 2);
      let acc: f32 = 0;
      for (let c = 0; c < cols; c++) acc += load<f32>(wr + (<usize>c << 2)) * load<f32>(xt + (<usize>c << 2));
      store<f32>(y + ((<usize>t * <usize>rows + <usize>r) << 2), acc);
    }
  }
}
