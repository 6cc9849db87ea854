// The two kernels of the dense formats (f32, f16), generic over the format. A format is a
// @final @unmanaged class of @inline methods used through changetype<F>(0) (never allocated), so
// each instantiation compiles to straight-line code:
//
//   shift()      log2 of the bytes per element (2 for f32, 1 for f16)
//   w16(p, k)    weights 4k..4k+3 (k = 0..3, a constant) of the 16 at byte p, as f32x4
//   w4(p)        the 4 weights at byte p
//   w1(p)        the weight at byte p
//
//   gemvDense<F>(w, x, y, cols, r0, r1)    y[r] = W_r·x for r in [r0, r1)  one token, rows4 over quarters
//   gemv2Dense<F>(w, x0, x1, y0, y1, …)    the same for two tokens, the weights read once
//   rows4Dense<F>(p0, p1, p2, p3, x, cols) → [W0·x, W1·x, W2·x, W3·x]   four rows in flight, one token
//   toks4Dense<F>(p, x0, x1, x2, x3, cols) → [W·x0, W·x1, W·x2, W·x3]   one row, four tokens
//
// Any cols: four f32x4 accumulators (16 columns a step), then 4-column steps, then a scalar tail.
import { dot4, dot4v, lanes, nth, putLanes, sum4 } from './simd';

/** Lane-wise Σ of the 16 weights at byte w times x0..x3. */
@inline function dot16<F>(w: usize, x0: v128, x1: v128, x2: v128, x3: v128): v128 {
  const f = changetype<F>(0);
  return dot4v(f.w16(w, 0), f.w16(w, 1), f.w16(w, 2), f.w16(w, 3), x0, x1, x2, x3);
}

/**
 * y[r] = W_r·x for rows r in [r0, r1) of W (rows of `cols` elements from byte w), one token.
 * The range is cut into four quarters of q rows and rows4Dense takes one row of each, i, i + q,
 * i + 2q, i + 3q: each of its four row slots then reads its quarter row after row, so the weights
 * arrive as four sequential streams in separate regions, which the hardware prefetchers follow
 * (four adjacent rows at once, each a short stream restarting every 4 rows, reached half the
 * memory bandwidth on a matrix not in cache). The last (r1 − r0) mod 4 rows are one ragged
 * quad. Each lane of rows4Dense is its own row's sum, so a row's result does not depend on its
 * slot, on q, or on r0/r1. Example: W [[1, 2], [3, 4]], x [1, -1], r0 0, r1 2 → y [-1, -1].
 */
@inline export function gemvDense<F>(w: usize, x: usize, y: usize, cols: i32, r0: i32, r1: i32): void {
  quarters<F>(w, x, x, y, y, cols, r0, r1, false);
}

/** gemvDense for two tokens x0, x1 → y0, y1 at once (rows4x2Dense): the weights are read once. */
@inline export function gemv2Dense<F>(w: usize, x0: usize, x1: usize, y0: usize, y1: usize, cols: i32, r0: i32, r1: i32): void {
  quarters<F>(w, x0, x1, y0, y1, cols, r0, r1, true);
}

/** The quarter walk of gemvDense (one token, or two when `two`); ragged quad last. */
@inline function quarters<F>(w: usize, x0: usize, x1: usize, y0: usize, y1: usize, cols: i32, r0: i32, r1: i32, two: bool): void {
  const rb = <usize>cols << changetype<F>(0).shift();
  const q = (r1 - r0) >> 2;
  const qb = <usize>q * rb; // bytes between row slots
  const qy = <usize>q << 2; // their y offsets
  for (let r = r0; r < r0 + q; r++) {
    const p = w + <usize>r * rb;
    const o = <usize>r << 2;
    if (two) rows4x2Dense<F>(p, p + qb, p + 2 * qb, p + 3 * qb, x0, x1, cols, y0 + o, y1 + o, qy, 4);
    else putLanes(y0 + o, qy, rows4Dense<F>(p, p + qb, p + 2 * qb, p + 3 * qb, x0, cols), 4, false);
  }
  const r = r0 + 4 * q;
  const m = r1 - r;
  if (m > 0) {
    const p = w + <usize>r * rb;
    const p1 = nth(p, rb, 1, m), p2 = nth(p, rb, 2, m), p3 = nth(p, rb, 3, m);
    const o = <usize>r << 2;
    if (two) rows4x2Dense<F>(p, p1, p2, p3, x0, x1, cols, y0 + o, y1 + o, 4, m);
    else putLanes(y0 + o, 4, rows4Dense<F>(p, p1, p2, p3, x0, cols), m, false);
  }
}

/**
 * Four rows × two tokens: y0 + k·stride ← W_pk·x0 and y1 + k·stride ← W_pk·x1 for k < m. Eight
 * accumulators over 4-column steps (each weight vector serves both tokens), then a scalar tail.
 * Example: rows [1, 2] and [3, 4] (repeated), x0 [1, 0], x1 [0, 1] → y0 [1, 3, …], y1 [2, 4, …].
 */
@inline function rows4x2Dense<F>(p0: usize, p1: usize, p2: usize, p3: usize, x0: usize, x1: usize, cols: i32, y0: usize, y1: usize, stride: usize, m: i32): void {
  const f = changetype<F>(0);
  let a0 = f32x4.splat(0);
  let a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
  let c = 0;
  for (; c + 4 <= cols; c += 4) {
    const o = <usize>c << f.shift();
    const w0 = f.w4(p0 + o), w1 = f.w4(p1 + o), w2 = f.w4(p2 + o), w3 = f.w4(p3 + o);
    let xv = v128.load(x0 + (<usize>c << 2));
    a0 = f32x4.add(a0, f32x4.mul(w0, xv));
    a1 = f32x4.add(a1, f32x4.mul(w1, xv));
    a2 = f32x4.add(a2, f32x4.mul(w2, xv));
    a3 = f32x4.add(a3, f32x4.mul(w3, xv));
    xv = v128.load(x1 + (<usize>c << 2));
    b0 = f32x4.add(b0, f32x4.mul(w0, xv));
    b1 = f32x4.add(b1, f32x4.mul(w1, xv));
    b2 = f32x4.add(b2, f32x4.mul(w2, xv));
    b3 = f32x4.add(b3, f32x4.mul(w3, xv));
  }
  let ra = sum4(a0, a1, a2, a3);
  let rb = sum4(b0, b1, b2, b3);
  for (; c < cols; c++) {
    const o = <usize>c << f.shift();
    const w = lanes(f.w1(p0 + o), f.w1(p1 + o), f.w1(p2 + o), f.w1(p3 + o));
    ra = f32x4.add(ra, f32x4.mul(w, f32x4.splat(load<f32>(x0 + (<usize>c << 2)))));
    rb = f32x4.add(rb, f32x4.mul(w, f32x4.splat(load<f32>(x1 + (<usize>c << 2)))));
  }
  putLanes(y0, stride, ra, m, false);
  putLanes(y1, stride, rb, m, false);
}

@inline export function rows4Dense<F>(p0: usize, p1: usize, p2: usize, p3: usize, x: usize, cols: i32): v128 {
  const f = changetype<F>(0);
  let a0 = f32x4.splat(0);
  let a1 = a0, a2 = a0, a3 = a0;
  let c = 0;
  for (; c + 16 <= cols; c += 16) {
    const o = <usize>c << f.shift();
    const xp = x + (<usize>c << 2);
    const x0 = v128.load(xp), x1 = v128.load(xp, 16), x2 = v128.load(xp, 32), x3 = v128.load(xp, 48);
    a0 = f32x4.add(a0, dot16<F>(p0 + o, x0, x1, x2, x3));
    a1 = f32x4.add(a1, dot16<F>(p1 + o, x0, x1, x2, x3));
    a2 = f32x4.add(a2, dot16<F>(p2 + o, x0, x1, x2, x3));
    a3 = f32x4.add(a3, dot16<F>(p3 + o, x0, x1, x2, x3));
  }
  for (; c + 4 <= cols; c += 4) {
    const o = <usize>c << f.shift();
    const xv = v128.load(x + (<usize>c << 2));
    a0 = f32x4.add(a0, f32x4.mul(f.w4(p0 + o), xv));
    a1 = f32x4.add(a1, f32x4.mul(f.w4(p1 + o), xv));
    a2 = f32x4.add(a2, f32x4.mul(f.w4(p2 + o), xv));
    a3 = f32x4.add(a3, f32x4.mul(f.w4(p3 + o), xv));
  }
  let r = sum4(a0, a1, a2, a3);
  for (; c < cols; c++) {
    const o = <usize>c << f.shift();
    const w = lanes(f.w1(p0 + o), f.w1(p1 + o), f.w1(p2 + o), f.w1(p3 + o));
    r = f32x4.add(r, f32x4.mul(w, f32x4.splat(load<f32>(x + (<usize>c << 2)))));
  }
  return r;
}

@inline export function toks4Dense<F>(p: usize, x0: usize, x1: usize, x2: usize, x3: usize, cols: i32): v128 {
  const f = changetype<F>(0);
  let a0 = f32x4.splat(0);
  let a1 = a0, a2 = a0, a3 = a0;
  let c = 0;
  for (; c + 16 <= cols; c += 16) {
    const o = <usize>c << 2;
    const wp = p + (<usize>c << f.shift());
    const w0 = f.w16(wp, 0), w1 = f.w16(wp, 1), w2 = f.w16(wp, 2), w3 = f.w16(wp, 3);
    a0 = f32x4.add(a0, dot4(w0, w1, w2, w3, x0 + o));
    a1 = f32x4.add(a1, dot4(w0, w1, w2, w3, x1 + o));
    a2 = f32x4.add(a2, dot4(w0, w1, w2, w3, x2 + o));
    a3 = f32x4.add(a3, dot4(w0, w1, w2, w3, x3 + o));
  }
  for (; c + 4 <= cols; c += 4) {
    const o = <usize>c << 2;
    const w = f.w4(p + (<usize>c << f.shift()));
    a0 = f32x4.add(a0, f32x4.mul(w, v128.load(x0 + o)));
    a1 = f32x4.add(a1, f32x4.mul(w, v128.load(x1 + o)));
    a2 = f32x4.add(a2, f32x4.mul(w, v128.load(x2 + o)));
    a3 = f32x4.add(a3, f32x4.mul(w, v128.load(x3 + o)));
  }
  let r = sum4(a0, a1, a2, a3);
  for (; c < cols; c++) {
    const o = <usize>c << 2;
    const xv = lanes(load<f32>(x0 + o), load<f32>(x1 + o), load<f32>(x2 + o), load<f32>(x3 + o));
    r = f32x4.add(r, f32x4.mul(f32x4.splat(f.w1(p + (<usize>c << f.shift()))), xv));
  }
  return r;
}
