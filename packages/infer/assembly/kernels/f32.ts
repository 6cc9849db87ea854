// F32 weights (ggml type 0): W [rows, cols] row-major f32, any cols.
//
//   rows4_f32(p0, p1, p2, p3, x, cols) → [W0·x, W1·x, W2·x, W3·x]   four rows in flight, one token
//   toks4_f32(p, x0, x1, x2, x3, cols) → [W·x0, W·x1, W·x2, W·x3]   one row, four tokens
//
// Example: W row [1, 2, 3], x [1, 0, -1] → W·x = -2. Both stream the weights once per call with
// four f32x4 accumulators (16 columns a step), then 4-column steps, then a scalar tail.
import { dot4, dot4v, sum4 } from './simd';

export function rows4_f32(p0: usize, p1: usize, p2: usize, p3: usize, x: usize, cols: i32): v128 {
  let a0 = f32x4.splat(0);
  let a1 = a0, a2 = a0, a3 = a0;
  let c = 0;
  for (; c + 16 <= cols; c += 16) {
    const o = <usize>c << 2;
    const xp = x + o;
    const x0 = v128.load(xp), x1 = v128.load(xp, 16), x2 = v128.load(xp, 32), x3 = v128.load(xp, 48);
    a0 = f32x4.add(a0, dot4v(v128.load(p0 + o), v128.load(p0 + o, 16), v128.load(p0 + o, 32), v128.load(p0 + o, 48), x0, x1, x2, x3));
    a1 = f32x4.add(a1, dot4v(v128.load(p1 + o), v128.load(p1 + o, 16), v128.load(p1 + o, 32), v128.load(p1 + o, 48), x0, x1, x2, x3));
    a2 = f32x4.add(a2, dot4v(v128.load(p2 + o), v128.load(p2 + o, 16), v128.load(p2 + o, 32), v128.load(p2 + o, 48), x0, x1, x2, x3));
    a3 = f32x4.add(a3, dot4v(v128.load(p3 + o), v128.load(p3 + o, 16), v128.load(p3 + o, 32), v128.load(p3 + o, 48), x0, x1, x2, x3));
  }
  for (; c + 4 <= cols; c += 4) {
    const o = <usize>c << 2;
    const xv = v128.load(x + o);
    a0 = f32x4.add(a0, f32x4.mul(v128.load(p0 + o), xv));
    a1 = f32x4.add(a1, f32x4.mul(v128.load(p1 + o), xv));
    a2 = f32x4.add(a2, f32x4.mul(v128.load(p2 + o), xv));
    a3 = f32x4.add(a3, f32x4.mul(v128.load(p3 + o), xv));
  }
  let r = sum4(a0, a1, a2, a3);
  for (; c < cols; c++) {
    const o = <usize>c << 2;
    let w = f32x4.splat(load<f32>(p0 + o));
    w = f32x4.replace_lane(w, 1, load<f32>(p1 + o));
    w = f32x4.replace_lane(w, 2, load<f32>(p2 + o));
    w = f32x4.replace_lane(w, 3, load<f32>(p3 + o));
    r = f32x4.add(r, f32x4.mul(w, f32x4.splat(load<f32>(x + o))));
  }
  return r;
}

export function toks4_f32(p: usize, x0: usize, x1: usize, x2: usize, x3: usize, cols: i32): v128 {
  let a0 = f32x4.splat(0);
  let a1 = a0, a2 = a0, a3 = a0;
  let c = 0;
  for (; c + 16 <= cols; c += 16) {
    const o = <usize>c << 2;
    const w0 = v128.load(p + o), w1 = v128.load(p + o, 16), w2 = v128.load(p + o, 32), w3 = v128.load(p + o, 48);
    a0 = f32x4.add(a0, dot4(w0, w1, w2, w3, x0 + o));
    a1 = f32x4.add(a1, dot4(w0, w1, w2, w3, x1 + o));
    a2 = f32x4.add(a2, dot4(w0, w1, w2, w3, x2 + o));
    a3 = f32x4.add(a3, dot4(w0, w1, w2, w3, x3 + o));
  }
  for (; c + 4 <= cols; c += 4) {
    const o = <usize>c << 2;
    const w = v128.load(p + o);
    a0 = f32x4.add(a0, f32x4.mul(w, v128.load(x0 + o)));
    a1 = f32x4.add(a1, f32x4.mul(w, v128.load(x1 + o)));
    a2 = f32x4.add(a2, f32x4.mul(w, v128.load(x2 + o)));
    a3 = f32x4.add(a3, f32x4.mul(w, v128.load(x3 + o)));
  }
  let r = sum4(a0, a1, a2, a3);
  for (; c < cols; c++) {
    const o = <usize>c << 2;
    let xv = f32x4.splat(load<f32>(x0 + o));
    xv = f32x4.replace_lane(xv, 1, load<f32>(x1 + o));
    xv = f32x4.replace_lane(xv, 2, load<f32>(x2 + o));
    xv = f32x4.replace_lane(xv, 3, load<f32>(x3 + o));
    r = f32x4.add(r, f32x4.mul(f32x4.splat(load<f32>(p + o)), xv));
  }
  return r;
}
