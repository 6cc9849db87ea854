// Row norms over [n, C] f32: LayerNorm (gpt2) and RMSNorm (llama), rows [r0, r1).
//
//   layerNorm: y = (x − mean) / √(var + eps) · w + b        (biased variance; b may be 0 = none)
//   rmsNorm:   y = x / √(mean(x²) + eps) · w
//   e.g. C = 2, x = [1, 3], w = [1, 1], eps = 0: layerNorm → [−1, 1]; rmsNorm → [0.447, 1.342]

export function layerNorm(x: usize, y: usize, w: usize, b: usize, C: i32, eps: f32, r0: i32, r1: i32): void {
  for (let r = r0; r < r1; r++) {
    const xr = x + (<usize>r * <usize>C << 2);
    const yr = y + (<usize>r * <usize>C << 2);
    let mean: f32 = 0;
    for (let c = 0; c < C; c++) mean += load<f32>(xr + (<usize>c << 2));
    mean /= <f32>C;
    let vr: f32 = 0;
    for (let c = 0; c < C; c++) {
      const d = load<f32>(xr + (<usize>c << 2)) - mean;
      vr += d * d;
    }
    vr /= <f32>C;
    const inv: f32 = <f32>1 / Mathf.sqrt(vr + eps);
    for (let c = 0; c < C; c++) {
      const o = <usize>c << 2;
      let v = (load<f32>(xr + o) - mean) * inv * load<f32>(w + o);
      if (b) v += load<f32>(b + o);
      store<f32>(yr + o, v);
    }
  }
}

export function rmsNorm(x: usize, y: usize, w: usize, C: i32, eps: f32, r0: i32, r1: i32): void {
  for (let r = r0; r < r1; r++) {
    const xr = x + (<usize>r * <usize>C << 2);
    const yr = y + (<usize>r * <usize>C << 2);
    let ss: f32 = 0;
    for (let c = 0; c < C; c++) {
      const v = load<f32>(xr + (<usize>c << 2));
      ss += v * v;
    }
    const inv: f32 = <f32>1 / Mathf.sqrt(ss / <f32>C + eps);
    for (let c = 0; c < C; c++) {
      const o = <usize>c << 2;
      store<f32>(yr + o, load<f32>(xr + o) * inv * load<f32>(w + o));
    }
  }
}
