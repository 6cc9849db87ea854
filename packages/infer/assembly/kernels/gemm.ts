// Prefill / batch matmul of the dense formats: a register-blocked GEMM (index.ts runs it for f32
// with more than 4 tokens).
//
//   gemmDense<F>(w, x, y, rows, cols, n, r0, r1)   y[t, r] = W_r·x_t, r in [r0, r1), t < n
//
// W [rows, cols] row-major in format F (dense.ts's interface: shift, w4, w1), x [n, cols] f32,
// y [n, rows] f32. The unit of work is a tile of 2 rows × 4 tokens: eight f32x4 accumulators
// a[i][j] (lane k sums columns ≡ k mod 4), and each 4-column step loads 2 weight vectors and 4 x
// vectors for 8 products, so every loaded vector serves 2 or 4 products from registers. Twelve
// live vectors (8 accumulators, 2 weights, x, a product) fit V8's fifteen xmm registers without
// spills; the one-row toks4 tile before it ran 1.2–1.3× slower, and 3×3 or 2×4 tiles over
// 8-column steps spilled and were slower still.
//
// Blocking, outermost first: K chunks of ≤ KC columns (partial sums stored by the first chunk,
// added by the others) × blocks of TOKEN_BLOCK tokens (their x chunk stays in L2) × blocks of
// rows (ROW_BLOCK_BYTES of weights, in L1, first read in order by `touch`) × 4-token tiles ×
// row pairs. A row's result depends
// only on its own weights and x (not on its partner row, nor on r0/r1), so threads that split
// rows agree bit for bit. Ragged edges repeat the last valid row / token pointer and store only
// valid lanes: nothing outside y[0..n) × [r0, r1) is written.
import { lanes, nth, putLanes, sum4 } from './simd';

/** Columns per K chunk when cols exceeds KC_MAX (up to it, one chunk). */
const KC: i32 = 512;
const KC_MAX: i32 = 1024;
/** Tokens whose x chunks (≤ 256 KiB) stay in L2 while every row block passes over them. */
const TOKEN_BLOCK: i32 = 64;
/** Bytes of weight-row chunks kept in L1 while the 4-token tiles pass over them. */
const ROW_BLOCK_BYTES: i32 = 16384;

/**
 * Reads one byte of every 64 of `count` row chunks of `bytes` bytes (rows `step` apart), in
 * order: the block's weights arrive from memory as one stream, which the hardware prefetchers
 * follow at full bandwidth (the tiles then read two rows at once, which they follow at a third
 * of it when the matrix is not in cache). The values are unused.
 */
@inline function touch(p: usize, count: i32, step: usize, bytes: usize): void {
  for (let r = 0; r < count; r++) {
    const q = p + <usize>r * step;
    for (let o: usize = 0; o < bytes; o += 64) load<u8>(q + o);
  }
}

@inline function mac(a: v128, w: v128, x: v128): v128 {
  return f32x4.add(a, f32x4.mul(w, x));
}

/**
 * One tile: rows p0, p1 × tokens x0..x3 over `cols` columns (any count), written to y
 * (row 0's four tokens at y, y + ys, …; row 1's at y + 4, …), the first m tokens and mr rows.
 * Example: W [[1, 2], [3, 4]], x0 = x1 = x2 = x3 = [1, 1] → y column 0 gets 3s, column 1 7s.
 */
@inline function tile24<F>(p0: usize, p1: usize, x0: usize, x1: usize, x2: usize, x3: usize, cols: i32, y: usize, ys: usize, m: i32, mr: i32, add: bool): void {
  const f = changetype<F>(0);
  let a00 = f32x4.splat(0);
  let a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00;
  let c = 0;
  for (; c + 4 <= cols; c += 4) {
    const wo = <usize>c << f.shift();
    const o = <usize>c << 2;
    const w0 = f.w4(p0 + wo), w1 = f.w4(p1 + wo);
    let xv = v128.load(x0 + o);
    a00 = mac(a00, w0, xv); a10 = mac(a10, w1, xv);
    xv = v128.load(x1 + o);
    a01 = mac(a01, w0, xv); a11 = mac(a11, w1, xv);
    xv = v128.load(x2 + o);
    a02 = mac(a02, w0, xv); a12 = mac(a12, w1, xv);
    xv = v128.load(x3 + o);
    a03 = mac(a03, w0, xv); a13 = mac(a13, w1, xv);
  }
  let v0 = sum4(a00, a01, a02, a03); // [W0·x0, W0·x1, W0·x2, W0·x3]
  let v1 = sum4(a10, a11, a12, a13);
  for (; c < cols; c++) {
    const o = <usize>c << 2;
    const wo = <usize>c << f.shift();
    const xv = lanes(load<f32>(x0 + o), load<f32>(x1 + o), load<f32>(x2 + o), load<f32>(x3 + o));
    v0 = mac(v0, f32x4.splat(f.w1(p0 + wo)), xv);
    v1 = mac(v1, f32x4.splat(f.w1(p1 + wo)), xv);
  }
  putLanes(y, ys, v0, m, add);
  if (mr > 1) putLanes(y + 4, ys, v1, m, add);
}

/** y[t, r] = W_r·x_t for rows r in [r0, r1) and tokens t < n (see the file comment). */
@inline export function gemmDense<F>(w: usize, x: usize, y: usize, rows: i32, cols: i32, n: i32, r0: i32, r1: i32): void {
  const f = changetype<F>(0);
  const rb = <usize>cols << f.shift(); // bytes per weight row
  const xs = <usize>cols << 2; // bytes per token of x
  const ys = <usize>rows << 2; // bytes per token of y
  const kcMax = cols <= KC_MAX ? cols : KC;
  for (let k0 = 0; k0 < cols; k0 += kcMax) {
    const kc = min(kcMax, cols - k0);
    const wk = w + (<usize>k0 << f.shift());
    const xk = x + (<usize>k0 << 2);
    const block = max(2, (ROW_BLOCK_BYTES >> <i32>f.shift()) / kc & ~1); // an even number of rows
    for (let tb = 0; tb < n; tb += TOKEN_BLOCK) {
      const te = min(n, tb + TOKEN_BLOCK);
      for (let rb0 = r0; rb0 < r1; rb0 += block) {
        const re = min(r1, rb0 + block);
        touch(wk + <usize>rb0 * rb, re - rb0, rb, <usize>kc << f.shift());
        for (let t = tb; t < te; t += 4) {
          const m = min(4, te - t);
          const x0 = xk + <usize>t * xs;
          const x1 = nth(x0, xs, 1, m), x2 = nth(x0, xs, 2, m), x3 = nth(x0, xs, 3, m);
          const yt = y + <usize>t * ys;
          for (let r = rb0; r < re; r += 2) {
            const mr = min(2, re - r);
            const p0 = wk + <usize>r * rb;
            const p1 = nth(p0, rb, 1, mr);
            const yp = yt + (<usize>r << 2);
            if (k0 == 0) tile24<F>(p0, p1, x0, x1, x2, x3, kc, yp, ys, m, mr, false);
            else tile24<F>(p0, p1, x0, x1, x2, x3, kc, yp, ys, m, mr, true);
          }
        }
      }
    }
  }
}
