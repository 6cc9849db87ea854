// RoPE in HF's split-halves layout on rows of heads: for each token t (position pos[t]) and head,
// x[i], x[i + D/2] ← x[i]·cos − x[i + D/2]·sin, x[i + D/2]·cos + x[i]·sin, i < D/2, with
// cos/sin tables [P, D/2] the host built exactly as @llm/tensor-gpu's ropeTables.
//
//   D = 2, cos = 0, sin = 1 (a quarter turn): [1, 0] → [0, 1]

export function rope(x: usize, pos: usize, cosT: usize, sinT: usize, nHeads: i32, D: i32, t0: i32, t1: i32): void {
  const half = D >> 1;
  for (let t = t0; t < t1; t++) {
    const p = load<i32>(pos + (<usize>t << 2));
    const cr = cosT + (<usize>p * <usize>half << 2);
    const sr = sinT + (<usize>p * <usize>half << 2);
    for (let h = 0; h < nHeads; h++) {
      const xr = x + ((<usize>t * <usize>nHeads + <usize>h) * <usize>D << 2);
      for (let i = 0; i < half; i++) {
        const c = load<f32>(cr + (<usize>i << 2));
        const s = load<f32>(sr + (<usize>i << 2));
        const a = load<f32>(xr + (<usize>i << 2));
        const b = load<f32>(xr + (<usize>(i + half) << 2));
        store<f32>(xr + (<usize>i << 2), a * c - b * s);
        store<f32>(xr + (<usize>(i + half) << 2), b * c + a * s);
      }
    }
  }
}
