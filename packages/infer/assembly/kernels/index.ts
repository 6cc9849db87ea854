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
//
// `matmul_q8` is the same tiling over the integer-dot kernels (`rows4q_<fmt>` / `toks4q_<fmt>`),
// with x quantized as the format wants it (ggml's vec_dot_type, `q8Kind`): Q8 blocks of 32
// (q8act.ts) for q8_0 / q4_0 / q4_1 / q5_0 and the private q8_f32 / q4_z (q8dot.ts), Q8_K super-blocks of 256 (q8k.ts) for
// q4_K / q6_K (kdot.ts); only the x stride and the kernels differ.
import { gemm_f32, gemv2_f32, gemv_f32, rows4_f32, toks4_f32 } from './f32';
import { gemv2_f16, gemv_f16, rows4_f16, toks4_f16 } from './f16';
import { rows4_q4_0, rows4q_q4_0, toks4_q4_0, toks4q_q4_0 } from './q4_0';
import { rows4_q4_1, rows4q_q4_1, toks4_q4_1, toks4q_q4_1 } from './q4_1';
import { rows4_q5_0, rows4q_q5_0, toks4_q5_0, toks4q_q5_0 } from './q5_0';
import { rows4_q8_0, rows4q_q8_0, toks4_q8_0, toks4q_q8_0 } from './q8_0';
import { rows4_q4_k, rows4q_q4_k, toks4_q4_k, toks4q_q4_k } from './q4_k';
import { rows4_q6_k, rows4q_q6_k, toks4_q6_k, toks4q_q6_k } from './q6_k';
import { rows4_q8_f32, rows4q_q8_f32, toks4_q8_f32, toks4q_q8_f32 } from './q8_f32';
import { rows4_q4_z, rows4q_q4_z, toks4_q4_z, toks4q_q4_z } from './q4_z';
import { rows4_nf4, toks4_nf4 } from './nf4';
import { q8RowBytes } from './q8act';
import { q8kRowBytes } from './q8k';
import { nth, putLanes } from './simd';

export { quantize_q8, q8RowBytes } from './q8act';
export { quantize_q8k, q8kRowBytes } from './q8k';

export const FMT_F32: i32 = 0;
export const FMT_F16: i32 = 1;
export const FMT_Q4_0: i32 = 2;
export const FMT_Q4_1: i32 = 3;
export const FMT_Q5_0: i32 = 6;
export const FMT_Q8_0: i32 = 8;
export const FMT_Q4_K: i32 = 12;
export const FMT_Q6_K: i32 = 14;
// Private formats (ids ≥ 100, not ggml types) for @llm/quant's schemes: int8 per channel, int4 groups / GPTQ / AWQ, NF4.
export const FMT_Q8_F32: i32 = 100;
export const FMT_Q4_Z: i32 = 101;
export const FMT_NF4: i32 = 102;

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
  if (fmt == FMT_Q8_F32) return (cols >> 5) * 36;
  if (fmt == FMT_Q4_Z) return (cols >> 5) * 24;
  if (fmt == FMT_NF4) return (cols >> 5) * 20;
  return -1;
}

/** Activation kinds: f32, Q8 blocks of 32 (q8act.ts), Q8_K super-blocks of 256 (q8k.ts). */
export const ACT_F32: i32 = 0;
export const ACT_Q8: i32 = 1;
export const ACT_Q8K: i32 = 2;

/**
 * The quantized activations `fmt`'s integer-dot kernel multiplies (ggml's vec_dot_type): ACT_Q8
 * for q8_0 / q4_0 / q4_1 / q5_0 and the private q8_f32 / q4_z (integer levels too), ACT_Q8K for
 * q4_K / q6_K, ACT_F32 (no such kernel) for f32 / f16 / nf4 (its codebook is not integer).
 * Example: q8Kind(2) == 1 (q4_0), q8Kind(101) == 1 (q4_z), q8Kind(12) == 2 (q4_K), q8Kind(102) == 0.
 */
export function q8Kind(fmt: i32): i32 {
  if (fmt == FMT_Q8_0 || fmt == FMT_Q4_0 || fmt == FMT_Q4_1 || fmt == FMT_Q5_0) return ACT_Q8;
  if (fmt == FMT_Q8_F32 || fmt == FMT_Q4_Z) return ACT_Q8;
  if (fmt == FMT_Q4_K || fmt == FMT_Q6_K) return ACT_Q8K;
  return ACT_F32;
}

/** Bytes per token of x with `cols` columns in activation kind `act`. */
@inline function actRowBytes(act: i32, cols: i32): usize {
  if (act == ACT_Q8) return <usize>q8RowBytes(cols);
  if (act == ACT_Q8K) return <usize>q8kRowBytes(cols);
  return <usize>cols << 2;
}

@inline function rows4(fmt: i32, p0: usize, p1: usize, p2: usize, p3: usize, x: usize, cols: i32): v128 {
  if (fmt == FMT_Q4_K) return rows4_q4_k(p0, p1, p2, p3, x, cols);
  if (fmt == FMT_Q6_K) return rows4_q6_k(p0, p1, p2, p3, x, cols);
  if (fmt == FMT_Q8_0) return rows4_q8_0(p0, p1, p2, p3, x, cols);
  if (fmt == FMT_Q4_0) return rows4_q4_0(p0, p1, p2, p3, x, cols);
  if (fmt == FMT_Q4_1) return rows4_q4_1(p0, p1, p2, p3, x, cols);
  if (fmt == FMT_Q5_0) return rows4_q5_0(p0, p1, p2, p3, x, cols);
  if (fmt == FMT_Q8_F32) return rows4_q8_f32(p0, p1, p2, p3, x, cols);
  if (fmt == FMT_Q4_Z) return rows4_q4_z(p0, p1, p2, p3, x, cols);
  if (fmt == FMT_NF4) return rows4_nf4(p0, p1, p2, p3, x, cols);
  if (fmt == FMT_F16) return rows4_f16(p0, p1, p2, p3, x, cols);
  return rows4_f32(p0, p1, p2, p3, x, cols);
}

@inline function rows4q(fmt: i32, p0: usize, p1: usize, p2: usize, p3: usize, x: usize, cols: i32): v128 {
  if (fmt == FMT_Q4_K) return rows4q_q4_k(p0, p1, p2, p3, x, cols);
  if (fmt == FMT_Q6_K) return rows4q_q6_k(p0, p1, p2, p3, x, cols);
  if (fmt == FMT_Q8_0) return rows4q_q8_0(p0, p1, p2, p3, x, cols);
  if (fmt == FMT_Q4_0) return rows4q_q4_0(p0, p1, p2, p3, x, cols);
  if (fmt == FMT_Q4_1) return rows4q_q4_1(p0, p1, p2, p3, x, cols);
  if (fmt == FMT_Q8_F32) return rows4q_q8_f32(p0, p1, p2, p3, x, cols);
  if (fmt == FMT_Q4_Z) return rows4q_q4_z(p0, p1, p2, p3, x, cols);
  return rows4q_q5_0(p0, p1, p2, p3, x, cols);
}

@inline function toks4q(fmt: i32, p: usize, x0: usize, x1: usize, x2: usize, x3: usize, cols: i32): v128 {
  if (fmt == FMT_Q4_K) return toks4q_q4_k(p, x0, x1, x2, x3, cols);
  if (fmt == FMT_Q6_K) return toks4q_q6_k(p, x0, x1, x2, x3, cols);
  if (fmt == FMT_Q8_0) return toks4q_q8_0(p, x0, x1, x2, x3, cols);
  if (fmt == FMT_Q4_0) return toks4q_q4_0(p, x0, x1, x2, x3, cols);
  if (fmt == FMT_Q4_1) return toks4q_q4_1(p, x0, x1, x2, x3, cols);
  if (fmt == FMT_Q8_F32) return toks4q_q8_f32(p, x0, x1, x2, x3, cols);
  if (fmt == FMT_Q4_Z) return toks4q_q4_z(p, x0, x1, x2, x3, cols);
  return toks4q_q5_0(p, x0, x1, x2, x3, cols);
}

@inline function toks4(fmt: i32, p: usize, x0: usize, x1: usize, x2: usize, x3: usize, cols: i32): v128 {
  if (fmt == FMT_Q4_K) return toks4_q4_k(p, x0, x1, x2, x3, cols);
  if (fmt == FMT_Q6_K) return toks4_q6_k(p, x0, x1, x2, x3, cols);
  if (fmt == FMT_Q8_0) return toks4_q8_0(p, x0, x1, x2, x3, cols);
  if (fmt == FMT_Q4_0) return toks4_q4_0(p, x0, x1, x2, x3, cols);
  if (fmt == FMT_Q4_1) return toks4_q4_1(p, x0, x1, x2, x3, cols);
  if (fmt == FMT_Q5_0) return toks4_q5_0(p, x0, x1, x2, x3, cols);
  if (fmt == FMT_Q8_F32) return toks4_q8_f32(p, x0, x1, x2, x3, cols);
  if (fmt == FMT_Q4_Z) return toks4_q4_z(p, x0, x1, x2, x3, cols);
  if (fmt == FMT_NF4) return toks4_nf4(p, x0, x1, x2, x3, cols);
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
  tiled(ACT_F32, fmt, w, x, y, rows, cols, n, r0, r1);
}

/**
 * matmul with x as the quantized activations `fmt` wants (q8Kind): for q8_0 / q4_0 / q4_1 / q5_0
 * Q8 (quantize_q8's layout, q8RowBytes(cols) bytes per token), for q4_K / q6_K Q8_K (quantize_q8k,
 * q8kRowBytes(cols)): ggml's integer dots. Traps on f32 / f16. Example: fmt 8, one block d = 1 levels [2, -3, 0…] against x
 * quantized from [4, 2, 0…] (d = 4/127, levels [127, 64, 0…]) → (254 − 192) · fp16(4/127) ≈ 1.953.
 * (q8_f32 / q4_z take Q8 as q8_0 does.)
 */
export function matmul_q8(fmt: i32, w: usize, xq: usize, y: usize, rows: i32, cols: i32, n: i32, r0: i32, r1: i32): void {
  const act = q8Kind(fmt);
  if (act == ACT_F32) unreachable();
  tiled(act, fmt, w, xq, y, rows, cols, n, r0, r1);
}

/** The tiling of matmul (act = ACT_F32) and matmul_q8 (ACT_Q8 / ACT_Q8K x); see the header. */
@inline function tiled(act: i32, fmt: i32, w: usize, x: usize, y: usize, rows: i32, cols: i32, n: i32, r0: i32, r1: i32): void {
  const rowBytes = weightRowBytes(fmt, cols);
  if (rowBytes < 0) unreachable();
  if (r0 >= r1 || n <= 0) return;
  const rb = <usize>rowBytes;
  const q8 = act != ACT_F32;
  const xs = actRowBytes(act, cols); // bytes per token of x
  const ys = <usize>rows << 2; // bytes per token of y
  if (n == 2 && fmt == FMT_F32) { gemv2_f32(w, x, x + xs, y, y + ys, cols, r0, r1); return; }
  if (n == 2 && fmt == FMT_F16) { gemv2_f16(w, x, x + xs, y, y + ys, cols, r0, r1); return; }
  if (n <= DECODE_MAX_N) {
    for (let t = 0; t < n; t++) {
      const xt = x + <usize>t * xs;
      const yt = y + <usize>t * ys;
      if (fmt == FMT_F32) { gemv_f32(w, xt, yt, cols, r0, r1); continue; }
      if (fmt == FMT_F16) { gemv_f16(w, xt, yt, cols, r0, r1); continue; }
      // rows r, r + q, r + 2q, r + 3q of the range's quarters in flight: four sequential weight
      // streams (dense.ts gemvDense explains why); each lane is its own row's sum, so a row's
      // result does not depend on its slot or the split. The last (r1 − r0) mod 4 rows: one quad.
      const q = (r1 - r0) >> 2;
      const qb = <usize>q * rb;
      for (let r = r0; r < r0 + q; r++) {
        const p = w + <usize>r * rb;
        const v = q8 ? rows4q(fmt, p, p + qb, p + 2 * qb, p + 3 * qb, xt, cols) : rows4(fmt, p, p + qb, p + 2 * qb, p + 3 * qb, xt, cols);
        putLanes(yt + (<usize>r << 2), <usize>q << 2, v, 4, false);
      }
      const r = r0 + 4 * q;
      const m = r1 - r;
      if (m > 0) {
        const p0 = w + <usize>r * rb;
        const p1 = nth(p0, rb, 1, m), p2 = nth(p0, rb, 2, m), p3 = nth(p0, rb, 3, m);
        const v = q8 ? rows4q(fmt, p0, p1, p2, p3, xt, cols) : rows4(fmt, p0, p1, p2, p3, xt, cols);
        putLanes(yt + (<usize>r << 2), 4, v, m, false);
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
    const xk = x + actRowBytes(act, k0); // k0 is a multiple of 256: whole blocks of every kind
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
            const p = wk + <usize>r * rb;
            const v = q8 ? toks4q(fmt, p, x0, x1, x2, x3, kc) : toks4(fmt, p, x0, x1, x2, x3, kc);
            const yp = y0 + (<usize>r << 2);
            if (first) putLanes(yp, ys, v, m, false);
            else putLanes(yp, ys, v, m, true);
          }
        }
      }
    }
  }
}
