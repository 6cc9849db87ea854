// Weight formats the engine runs and the one dispatcher over them. Format ids are ggml's type
// numbers (GGML_TYPE in @llm/quant): 0 F32, 1 F16, 2 Q4_0, 3 Q4_1, 6 Q5_0, 8 Q8_0, 12 Q4_K, 14 Q6_K.
//
// Each format file has two SIMD kernels with the same shape:
//   rows4_<fmt>(p0, p1, p2, p3, x, cols) → f32x4 [W_p0·x, …, W_p3·x]   (one token, 4 rows in flight)
//   toks4_<fmt>(p, x0, x1, x2, x3, cols) → f32x4 [W_p·x0, …, W_p·x3]   (one row, 4 tokens)
// and `matmul` tiles [r0, r1) × [0, n) with them: n ≤ 2 streams the weights once per token with
// four rows in flight; n > 2 walks K chunks × blocks of rows (kept in L1) × tiles of four
// tokens, so each dequantized weight is used four times from registers. Ragged edges repeat the
// last valid row / token pointer and store only valid lanes, so nothing outside y[0..n) × [r0, r1)
// is written. The dense formats decode with gemv_<fmt> (rows4 over rows i, i + q, i + 2q, i + 3q
// of the range's quarters: four sequential weight streams, dense.ts; n = 2 with gemv2_<fmt>, both
// tokens per weight read), and f32 with n > 4 runs gemm_f32 (tiles of 2 rows × 4 tokens, gemm.ts).
import { gemm_f32, gemv2_f32, gemv_f32, rows4_f32, toks4_f32 } from './f32';
import { gemv2_f16, gemv_f16, rows4_f16, toks4_f16 } from './f16';
import { rows4_q4_0, toks4_q4_0 } from './q4_0';
import { rows4_q4_1, toks4_q4_1 } from './q4_1';
import { rows4_q5_0, toks4_q5_0 } from './q5_0';
import { rows4_q8_0, toks4_q8_0 } from './q8_0';
import { rows4_q4_k, toks4_q4_k } from './q4_k';
import { rows4_q6_k, toks4_q6_k } from './q6_k';
import { nth, putLanes } from './simd';

export const FMT_F32: i32 = 0;
export const FMT_F16: i32 = 1;
export const FMT_Q4_0: i32 = 2;
export const FMT_Q4_1: i32 = 3;
export const FMT_Q5_0: i32 = 6;
export const FMT_Q8_0: i32 = 8;
export const FMT_Q4_K: i32 = 12;
export const FMT_Q6_K: i32 = 14;

/**
 * Up to this many tokens, each token is a pass of rows4 (four rows in flight) over the weights;
 * beyond, tiles of four tokens (toks4) — with two tokens a four-token tile wastes half its work.
 */
const DECODE_MAX_N: i32 = 2;
/**
 * F32 with more tokens than this runs gemm_f32 (tiles of 2 rows × 4 tokens, gemm.ts); up to it,
 * one 4-token tile, whose one-row toks4 reads the weights as one stream (faster from memory).
 */
const GEMM_MIN_N: i32 = 4;
/** Prefill: bytes of weight-row chunks kept in L1 while tiles of four tokens pass over them. */
const ROW_BLOCK_BYTES: i32 = 16384;
/** Prefill: columns per K chunk (a multiple of 256, so whole blocks of every format)… */
const KC: i32 = 512;
/** …when cols exceeds this (up to it, one chunk: the x tile is ≤ 16 KiB). */
const KC_MAX: i32 = 1024;
/** Prefill: tokens whose x chunks (≤ 128 KiB) stay in L2 while every row block passes over them. */
const TOKEN_BLOCK: i32 = 32;

/**
 * Bytes of one row of `cols` elements in format `fmt` (cols a whole number of blocks), or -1
 * for a format this module does not run. Example: weightRowBytes(8, 64) == 68 (2 × 34).
 */
export function weightRowBytes(fmt: i32, cols: i32): i32 {
  if (fmt == FMT_F32) return cols << 2;
  if (fmt == FMT_F16) return cols << 1;
  if (fmt == FMT_Q4_0) return (cols >> 5) * 18;
  if (fmt == FMT_Q4_1) return (cols >> 5) * 20;
  if (fmt == FMT_Q5_0) return (cols >> 5) * 22;
  if (fmt == FMT_Q8_0) return (cols >> 5) * 34;
  if (fmt == FMT_Q4_K) return (cols >> 8) * 144;
  if (fmt == FMT_Q6_K) return (cols >> 8) * 210;
  return -1;
}

@inline function rows4(fmt: i32, p0: usize, p1: usize, p2: usize, p3: usize, x: usize, cols: i32): v128 {
  if (fmt == FMT_Q4_K) return rows4_q4_k(p0, p1, p2, p3, x, cols);
  if (fmt == FMT_Q6_K) return rows4_q6_k(p0, p1, p2, p3, x, cols);
  if (fmt == FMT_Q8_0) return rows4_q8_0(p0, p1, p2, p3, x, cols);
  if (fmt == FMT_Q4_0) return rows4_q4_0(p0, p1, p2, p3, x, cols);
  if (fmt == FMT_Q4_1) return rows4_q4_1(p0, p1, p2, p3, x, cols);
  if (fmt == FMT_Q5_0) return rows4_q5_0(p0, p1, p2, p3, x, cols);
  if (fmt == FMT_F16) return rows4_f16(p0, p1, p2, p3, x, cols);
  return rows4_f32(p0, p1, p2, p3, x, cols);
}

@inline function toks4(fmt: i32, p: usize, x0: usize, x1: usize, x2: usize, x3: usize, cols: i32): v128 {
  if (fmt == FMT_Q4_K) return toks4_q4_k(p, x0, x1, x2, x3, cols);
  if (fmt == FMT_Q6_K) return toks4_q6_k(p, x0, x1, x2, x3, cols);
  if (fmt == FMT_Q8_0) return toks4_q8_0(p, x0, x1, x2, x3, cols);
  if (fmt == FMT_Q4_0) return toks4_q4_0(p, x0, x1, x2, x3, cols);
  if (fmt == FMT_Q4_1) return toks4_q4_1(p, x0, x1, x2, x3, cols);
  if (fmt == FMT_Q5_0) return toks4_q5_0(p, x0, x1, x2, x3, cols);
  if (fmt == FMT_F16) return toks4_f16(p, x0, x1, x2, x3, cols);
  return toks4_f32(p, x0, x1, x2, x3, cols);
}

/**
 * y[t, r] = Σ_c W[r, c] · x[t, c] for rows r in [r0, r1) and t < n, W in format `fmt`
 * (rows of `cols` elements, each row a run of ggml blocks), x [n, cols] f32, y [n, rows] f32.
 * Writes nothing else. Traps (unreachable) on a format id it does not run.
 * Example: fmt 0, W [[1, 2, 3], [4, 5, 6]], x [[1, 0, -1]] → y [[-2, -2]].
 */
export function matmul(fmt: i32, w: usize, x: usize, y: usize, rows: i32, cols: i32, n: i32, r0: i32, r1: i32): void {
  const rowBytes = weightRowBytes(fmt, cols);
  if (rowBytes < 0) unreachable();
  if (r0 >= r1 || n <= 0) return;
  const rb = <usize>rowBytes;
  const xs = <usize>cols << 2; // bytes per token of x
  const ys = <usize>rows << 2; // bytes per token of y
  if (n == 2 && fmt == FMT_F32) { gemv2_f32(w, x, x + xs, y, y + ys, cols, r0, r1); return; }
  if (n == 2 && fmt == FMT_F16) { gemv2_f16(w, x, x + xs, y, y + ys, cols, r0, r1); return; }
  if (n <= DECODE_MAX_N) {
    for (let t = 0; t < n; t++) {
      const xt = x + <usize>t * xs;
      const yt = y + <usize>t * ys;
      if (fmt == FMT_F32) { gemv_f32(w, xt, yt, cols, r0, r1); continue; }
      if (fmt == FMT_F16) { gemv_f16(w, xt, yt, cols, r0, r1); continue; }
      for (let r = r0; r < r1; r += 4) {
        const m = min(4, r1 - r);
        const p0 = w + <usize>r * rb;
        const v = rows4(fmt, p0, nth(p0, rb, 1, m), nth(p0, rb, 2, m), nth(p0, rb, 3, m), xt, cols);
        const yp = yt + (<usize>r << 2);
        if (m == 4) v128.store(yp, v);
        else putLanes(yp, 4, v, m, false);
      }
    }
    return;
  }
  if (fmt == FMT_F32 && n > GEMM_MIN_N) { gemm_f32(w, x, y, rows, cols, n, r0, r1); return; }
  // Prefill / batch: K chunks of ≤ KC columns (whole blocks of every format) × blocks of 32
  // tokens (x chunks in L2) × blocks of rows (weight chunks in L1) × tiles of 4 tokens. Partial
  // sums go to y: stored by the first K chunk, added by the others.
  const kcMax = cols <= KC_MAX ? cols : KC;
  for (let k0 = 0; k0 < cols; k0 += kcMax) {
    const kc = min(kcMax, cols - k0);
    const wk = w + <usize>weightRowBytes(fmt, k0);
    const xk = x + (<usize>k0 << 2);
    const block = max(4, ROW_BLOCK_BYTES / max(weightRowBytes(fmt, kc), 1));
    const first = k0 == 0;
    for (let tb = 0; tb < n; tb += TOKEN_BLOCK) {
      const te = min(n, tb + TOKEN_BLOCK);
      for (let rb0 = r0; rb0 < r1; rb0 += block) {
        const re = min(r1, rb0 + block);
        for (let t = tb; t < te; t += 4) {
          const m = min(4, te - t);
          const x0 = xk + <usize>t * xs;
          const x1 = nth(x0, xs, 1, m), x2 = nth(x0, xs, 2, m), x3 = nth(x0, xs, 3, m);
          const y0 = y + <usize>t * ys;
          for (let r = rb0; r < re; r++) {
            const v = toks4(fmt, wk + <usize>r * rb, x0, x1, x2, x3, kc);
            const yp = y0 + (<usize>r << 2);
            if (first) putLanes(yp, ys, v, m, false);
            else putLanes(yp, ys, v, m, true);
          }
        }
      }
    }
  }
}
