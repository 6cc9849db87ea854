// Batched f32 matrix product for tfjs-backend-wasm's heap (imported memory, zero copies).
//
//   C[b] = op(A[b]) · op(B[b])     op(A): [M, K], op(B): [K, N], C[b]: [M, N] row-major
//
// A is [M, K] (or [K, M] when transA), B is [K, N] (or [N, K] when transB). All pointers are
// byte offsets into the shared heap; strides are in elements (0 broadcasts a batch-1 side).
//
// Scheme (GotoBLAS-like): for each K block of `kc` rows, op(B) is packed into NR-column panels
// ([kc, NR] each, zero-padded), and for each M block op(A) is packed into MR-row panels
// ([kc, MR] each, zero-padded). A 4×8 register tile of eight f32x4 accumulators (no FMA:
// mul + add) then runs over the panels. Special cases:
//   - M ≤ DIRECT_B_MAX_M and B not transposed: full B panels are read in place (packing B
//     would cost as much as the product), or B is streamed row by row when N % 512 == 0;
//   - M < MR (e.g. one token at a time): no packing at all, B is streamed once (gemv-like).
// The module has no data segments and writes only to `c` and `pack`; it never grows memory.

/** Register tile rows (broadcast A values). */
const MR: i32 = 4;
/** Register tile columns (two f32x4 vectors of B). */
const NR: i32 = 8;
/** Largest K block: one B panel (KC·NR·4 B = 8 KiB) stays in L1 while A panels stream by. */
const KC: i32 = 256;
/** Up to this many rows of op(A), a non-transposed B is read in place (not packed). */
const DIRECT_B_MAX_M: i32 = 16;
/** Largest M block: the packed A block (MC·KC·4 B = 128 KiB) stays in L2. */
const MC: i32 = MR * 32;

@inline function roundUp(x: i32, m: i32): i32 {
  return ((x + m - 1) / m) * m;
}

/** K block size: K split into ceil(K / KC) nearly equal blocks. */
@inline function blockK(K: i32): i32 {
  const blocks = (K + KC - 1) / KC;
  return (K + blocks - 1) / blocks;
}

/**
 * Bytes of scratch `matmul` needs for one [M, K]·[K, N] product (packed panels + one edge tile).
 * Example: packBytes(64, 64, 32) == (32·64 + 64·32 + 32) · 4.
 */
export function packBytes(M: i32, N: i32, K: i32): i32 {
  const kc = blockK(max(K, 1));
  const mc = min(roundUp(max(M, 1), MR), MC);
  const np = roundUp(max(N, 1), NR);
  const fewRows = M <= DIRECT_B_MAX_M ? M * K : 0; // gemmFewRows's copy of Aᵀ
  return max(kc * np + mc * kc + MR * NR, fewRows) << 2;
}

// ---------------------------------------------------------------------------------------------
// Packing

/**
 * Packs op(B)[pc:pc+kc, j0:N] into panels [(N-j0)/NR][kc][NR] at `dst`; B is [K, N] row-major.
 * (Callers pass j0 = N rounded down to NR to pack only the partial last panel.)
 */
function packB(b: usize, dst: usize, pc: i32, kc: i32, N: i32, j0: i32): void {
  const ldb = <usize>N << 2;
  let src0 = b + <usize>pc * ldb;
  for (let j = j0; j < N; j += NR) {
    const nr = min(NR, N - j);
    let src = src0 + (<usize>j << 2);
    if (nr == NR) {
      for (let k = 0; k < kc; k++) {
        v128.store(dst, v128.load(src));
        v128.store(dst, v128.load(src, 16), 16);
        src += ldb;
        dst += NR << 2;
      }
    } else {
      for (let k = 0; k < kc; k++) {
        for (let c = 0; c < NR; c++) {
          store<f32>(dst + (<usize>c << 2), c < nr ? load<f32>(src + (<usize>c << 2)) : 0);
        }
        src += ldb;
        dst += NR << 2;
      }
    }
  }
}

/**
 * Transposes the 4×4 block whose rows are r0..r3 and stores its columns at dst + q·stride
 * (q = 0..3): column q is [r0[q], r1[q], r2[q], r3[q]].
 */
@inline function storeTransposed4(
  r0: v128, r1: v128, r2: v128, r3: v128, dst: usize, stride: usize,
): void {
  const t0 = f32x4.shuffle(r0, r1, 0, 4, 1, 5); // r0[0] r1[0] r0[1] r1[1]
  const t1 = f32x4.shuffle(r0, r1, 2, 6, 3, 7); // r0[2] r1[2] r0[3] r1[3]
  const t2 = f32x4.shuffle(r2, r3, 0, 4, 1, 5);
  const t3 = f32x4.shuffle(r2, r3, 2, 6, 3, 7);
  v128.store(dst, f32x4.shuffle(t0, t2, 0, 1, 4, 5));
  v128.store(dst + stride, f32x4.shuffle(t0, t2, 2, 3, 6, 7));
  v128.store(dst + 2 * stride, f32x4.shuffle(t1, t3, 0, 1, 4, 5));
  v128.store(dst + 3 * stride, f32x4.shuffle(t1, t3, 2, 3, 6, 7));
}

/**
 * Packs `rows` strided rows of `kc` floats (row stride `ld` bytes) as columns 0..rows-1 of a
 * [kc][n] panel at `dst`, zero-filling columns rows..cols-1 (rows ≤ cols ≤ n).
 */
function packColumns(
  src: usize, ld: usize, rows: i32, cols: i32, n: i32, kc: i32, dst: usize,
): void {
  const step = <usize>n << 2;
  for (let c = 0; c < cols; c++) {
    let d = dst + (<usize>c << 2);
    if (c < rows) {
      const s = src + <usize>c * ld;
      for (let k = 0; k < kc; k++) {
        store<f32>(d, load<f32>(s + (<usize>k << 2)));
        d += step;
      }
    } else {
      for (let k = 0; k < kc; k++) {
        store<f32>(d, 0);
        d += step;
      }
    }
  }
}

/** packColumns for exactly 4 rows (columns 0..3 of a [kc][n] panel), with 4×4 SIMD transposes. */
function packColumns4(src: usize, ld: usize, n: i32, kc: i32, dst: usize): void {
  const step = <usize>n << 2;
  const s1 = src + ld, s2 = src + 2 * ld, s3 = src + 3 * ld;
  let k = 0;
  for (; k + 4 <= kc; k += 4) {
    const o = <usize>k << 2;
    storeTransposed4(
      v128.load(src + o), v128.load(s1 + o), v128.load(s2 + o), v128.load(s3 + o),
      dst + <usize>k * step, step,
    );
  }
  if (k < kc) packColumns(src + (<usize>k << 2), ld, 4, 4, n, kc - k, dst + <usize>k * step);
}

/** Same panels as packB, but B is [N, K] row-major (op(B) = Bᵀ). */
function packBT(b: usize, dst: usize, pc: i32, kc: i32, N: i32, K: i32): void {
  const ldb = <usize>K << 2;
  for (let j = 0; j < N; j += NR) {
    const src = b + <usize>j * ldb + (<usize>pc << 2);
    if (N - j >= NR) {
      packColumns4(src, ldb, NR, kc, dst);
      packColumns4(src + 4 * ldb, ldb, NR, kc, dst + 16);
    } else {
      packColumns(src, ldb, N - j, NR, NR, kc, dst);
    }
    dst += <usize>(kc * NR) << 2;
  }
}

/** Packs op(A)[ic:ic+mc, pc:pc+kc] into panels [mc/MR][kc][MR] at `dst`; A is [M, K]. */
function packA(a: usize, dst: usize, ic: i32, mc: i32, pc: i32, kc: i32, K: i32): void {
  const lda = <usize>K << 2;
  for (let i = 0; i < mc; i += MR) {
    const src = a + <usize>(ic + i) * lda + (<usize>pc << 2);
    if (MR == 4 && mc - i >= MR) packColumns4(src, lda, MR, kc, dst);
    else packColumns(src, lda, min(MR, mc - i), MR, MR, kc, dst);
    dst += <usize>(kc * MR) << 2;
  }
}

/** Same panels as packA, but A is [K, M] row-major (op(A) = Aᵀ). */
function packAT(a: usize, dst: usize, ic: i32, mc: i32, pc: i32, kc: i32, M: i32): void {
  const lda = <usize>M << 2;
  for (let i = 0; i < mc; i += MR) {
    const mr = min(MR, mc - i);
    let src = a + <usize>pc * lda + (<usize>(ic + i) << 2);
    if (MR == 4 && mr == MR) {
      for (let k = 0; k < kc; k++) {
        v128.store(dst, v128.load(src));
        src += lda;
        dst += MR << 2;
      }
    } else {
      for (let k = 0; k < kc; k++) {
        for (let r = 0; r < MR; r++) {
          store<f32>(dst + (<usize>r << 2), r < mr ? load<f32>(src + (<usize>r << 2)) : 0);
        }
        src += lda;
        dst += MR << 2;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Micro-kernel

/**
 * C[0:4, 0:8] (+)= Ap · Bp over kc steps. Ap: packed panel [kc][4]; Bp: [kc][8] with rows `ldb`
 * bytes apart (32 for a packed panel, the row stride of B when read in place); C row stride
 * `ldc` bytes. Eight f32x4 accumulators: row r holds cols 0..3 (cR0) and 4..7 (cR1).
 */
function kernel(
  ap: usize, bp: usize, ldb: usize, kc: i32, c: usize, ldc: usize, accumulate: bool,
): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(bp);
    const b1 = v128.load(bp, 16);
    let a = v128.load32_splat(ap);
    c00 = f32x4.add(c00, f32x4.mul(a, b0));
    c01 = f32x4.add(c01, f32x4.mul(a, b1));
    a = v128.load32_splat(ap, 4);
    c10 = f32x4.add(c10, f32x4.mul(a, b0));
    c11 = f32x4.add(c11, f32x4.mul(a, b1));
    a = v128.load32_splat(ap, 8);
    c20 = f32x4.add(c20, f32x4.mul(a, b0));
    c21 = f32x4.add(c21, f32x4.mul(a, b1));
    a = v128.load32_splat(ap, 12);
    c30 = f32x4.add(c30, f32x4.mul(a, b0));
    c31 = f32x4.add(c31, f32x4.mul(a, b1));
    ap += MR << 2;
    bp += ldb;
  }
  if (accumulate) {
    c00 = f32x4.add(c00, v128.load(c));
    c01 = f32x4.add(c01, v128.load(c, 16));
    c10 = f32x4.add(c10, v128.load(c + ldc));
    c11 = f32x4.add(c11, v128.load(c + ldc, 16));
    c20 = f32x4.add(c20, v128.load(c + 2 * ldc));
    c21 = f32x4.add(c21, v128.load(c + 2 * ldc, 16));
    c30 = f32x4.add(c30, v128.load(c + 3 * ldc));
    c31 = f32x4.add(c31, v128.load(c + 3 * ldc, 16));
  }
  v128.store(c, c00);
  v128.store(c, c01, 16);
  v128.store(c + ldc, c10);
  v128.store(c + ldc, c11, 16);
  v128.store(c + 2 * ldc, c20);
  v128.store(c + 2 * ldc, c21, 16);
  v128.store(c + 3 * ldc, c30);
  v128.store(c + 3 * ldc, c31, 16);
}

/** Copies (or adds, when `accumulate`) the top-left [mr, nr] of a [4, 8] tile into C. */
function mergeTile(tile: usize, c: usize, ldc: usize, mr: i32, nr: i32, accumulate: bool): void {
  for (let r = 0; r < mr; r++) {
    const src = tile + (<usize>(r * NR) << 2);
    const dst = c + <usize>r * ldc;
    for (let j = 0; j < nr; j++) {
      const o = <usize>j << 2;
      const v = load<f32>(src + o);
      store<f32>(dst + o, accumulate ? load<f32>(dst + o) + v : v);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Few rows: nothing is packed; B is streamed once per pair of rows (memory-bound products).

/**
 * C_row[0:N] += Σ_{q<4} A_row[q]·B[q, 0:N]: four rows of B (row stride ldb bytes) streamed
 * sequentially into one row of C.
 */
function axpy4x1(a: usize, b: usize, ldb: usize, N: i32, c: usize): void {
  const x0 = v128.load32_splat(a), x1 = v128.load32_splat(a, 4);
  const x2 = v128.load32_splat(a, 8), x3 = v128.load32_splat(a, 12);
  const b1 = b + ldb, b2 = b + 2 * ldb, b3 = b + 3 * ldb;
  let j = 0;
  for (; j + 4 <= N; j += 4) {
    const o = <usize>j << 2;
    const s = f32x4.add(
      f32x4.add(f32x4.mul(x0, v128.load(b + o)), f32x4.mul(x1, v128.load(b1 + o))),
      f32x4.add(f32x4.mul(x2, v128.load(b2 + o)), f32x4.mul(x3, v128.load(b3 + o))),
    );
    v128.store(c + o, f32x4.add(v128.load(c + o), s));
  }
  for (; j < N; j++) {
    const o = <usize>j << 2;
    const s = f32x4.extract_lane(x0, 0) * load<f32>(b + o) +
      f32x4.extract_lane(x1, 0) * load<f32>(b1 + o) +
      f32x4.extract_lane(x2, 0) * load<f32>(b2 + o) +
      f32x4.extract_lane(x3, 0) * load<f32>(b3 + o);
    store<f32>(c + o, load<f32>(c + o) + s);
  }
}

/** axpy4x1 for two rows of A/C at once (A rows a, a + lda; C rows c, c + ldc): B read once. */
function axpy4x2(a: usize, lda: usize, b: usize, ldb: usize, N: i32, c: usize, ldc: usize): void {
  const x0 = v128.load32_splat(a), x1 = v128.load32_splat(a, 4);
  const x2 = v128.load32_splat(a, 8), x3 = v128.load32_splat(a, 12);
  const y0 = v128.load32_splat(a + lda), y1 = v128.load32_splat(a + lda, 4);
  const y2 = v128.load32_splat(a + lda, 8), y3 = v128.load32_splat(a + lda, 12);
  const b1 = b + ldb, b2 = b + 2 * ldb, b3 = b + 3 * ldb;
  const d = c + ldc;
  let j = 0;
  for (; j + 4 <= N; j += 4) {
    const o = <usize>j << 2;
    const v0 = v128.load(b + o), v1 = v128.load(b1 + o);
    const v2 = v128.load(b2 + o), v3 = v128.load(b3 + o);
    const s = f32x4.add(
      f32x4.add(f32x4.mul(x0, v0), f32x4.mul(x1, v1)),
      f32x4.add(f32x4.mul(x2, v2), f32x4.mul(x3, v3)),
    );
    const t = f32x4.add(
      f32x4.add(f32x4.mul(y0, v0), f32x4.mul(y1, v1)),
      f32x4.add(f32x4.mul(y2, v2), f32x4.mul(y3, v3)),
    );
    v128.store(c + o, f32x4.add(v128.load(c + o), s));
    v128.store(d + o, f32x4.add(v128.load(d + o), t));
  }
  if (j < N) {
    axpy4x1(a, b + (<usize>j << 2), ldb, N - j, c + (<usize>j << 2));
    axpy4x1(a + lda, b + (<usize>j << 2), ldb, N - j, d + (<usize>j << 2));
  }
}

/** C_row[0:N] += A_row[0]·B[0, 0:N] (one row of B). */
function axpy1(a: usize, b: usize, N: i32, c: usize): void {
  const x = v128.load32_splat(a);
  let j = 0;
  for (; j + 4 <= N; j += 4) {
    const o = <usize>j << 2;
    v128.store(c + o, f32x4.add(v128.load(c + o), f32x4.mul(x, v128.load(b + o))));
  }
  const xs = f32x4.extract_lane(x, 0);
  for (; j < N; j++) {
    const o = <usize>j << 2;
    store<f32>(c + o, load<f32>(c + o) + xs * load<f32>(b + o));
  }
}

/**
 * C [M, N] = A [M, K] (row-major) · B [K, N] for M < MR: B is streamed row by row (sequential
 * reads), four rows of B per pass over C, two rows of A/C at a time.
 */
function fewRowsB(a: usize, b: usize, c: usize, M: i32, N: i32, K: i32): void {
  const lda = <usize>K << 2, ldb = <usize>N << 2;
  memory.fill(c, 0, <usize>M * ldb);
  for (let i = 0; i < M; i += 2) {
    const two = M - i >= 2;
    const ai = a + <usize>i * lda, ci = c + <usize>i * ldb;
    let k = 0;
    for (; k + 4 <= K; k += 4) {
      const ak = ai + (<usize>k << 2), bk = b + <usize>k * ldb;
      if (two) axpy4x2(ak, lda, bk, ldb, N, ci, ldb);
      else axpy4x1(ak, bk, ldb, N, ci);
    }
    for (; k < K; k++) {
      const ak = ai + (<usize>k << 2), bk = b + <usize>k * ldb;
      axpy1(ak, bk, N, ci);
      if (two) axpy1(ak + lda, bk, N, ci + ldb);
    }
  }
}

/** Sum of the four lanes of v. */
@inline function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) +
    f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

/** C_row[0:4] = A_row · B[0:4, :]ᵀ: four dot products with consecutive rows of B [N, K]. */
function rowDotsT4(a: usize, b: usize, ldb: usize, K: i32, c: usize): void {
  const b1 = b + ldb, b2 = b + 2 * ldb, b3 = b + 3 * ldb;
  let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
  let k = 0;
  for (; k + 4 <= K; k += 4) {
    const o = <usize>k << 2;
    const x = v128.load(a + o);
    s0 = f32x4.add(s0, f32x4.mul(x, v128.load(b + o)));
    s1 = f32x4.add(s1, f32x4.mul(x, v128.load(b1 + o)));
    s2 = f32x4.add(s2, f32x4.mul(x, v128.load(b2 + o)));
    s3 = f32x4.add(s3, f32x4.mul(x, v128.load(b3 + o)));
  }
  let t0 = hsum(s0), t1 = hsum(s1), t2 = hsum(s2), t3 = hsum(s3);
  for (; k < K; k++) {
    const o = <usize>k << 2;
    const x = load<f32>(a + o);
    t0 += x * load<f32>(b + o);
    t1 += x * load<f32>(b1 + o);
    t2 += x * load<f32>(b2 + o);
    t3 += x * load<f32>(b3 + o);
  }
  store<f32>(c, t0);
  store<f32>(c, t1, 4);
  store<f32>(c, t2, 8);
  store<f32>(c, t3, 12);
}

/** dot(A_row, B_row) over K floats. */
function rowDotT1(a: usize, b: usize, K: i32): f32 {
  let s = f32x4.splat(0);
  let k = 0;
  for (; k + 4 <= K; k += 4) {
    const o = <usize>k << 2;
    s = f32x4.add(s, f32x4.mul(v128.load(a + o), v128.load(b + o)));
  }
  let t = hsum(s);
  for (; k < K; k++) t += load<f32>(a + (<usize>k << 2)) * load<f32>(b + (<usize>k << 2));
  return t;
}

/** C [M, N] = A [M, K] (row-major, contiguous) · Bᵀ with B [N, K], M small. */
function fewRowsBT(a: usize, b: usize, c: usize, M: i32, N: i32, K: i32): void {
  const lda = <usize>K << 2, ldc = <usize>N << 2;
  for (let i = 0; i < M; i++) {
    const ai = a + <usize>i * lda, ci = c + <usize>i * ldc;
    let j = 0;
    for (; j + 4 <= N; j += 4) rowDotsT4(ai, b + <usize>j * lda, lda, K, ci + (<usize>j << 2));
    for (; j < N; j++) store<f32>(ci + (<usize>j << 2), rowDotT1(ai, b + <usize>j * lda, K));
  }
}

/** Copies op(A) = Aᵀ (A [K, M]) into `dst` as [M, K] row-major. */
function transposeA(a: usize, dst: usize, M: i32, K: i32): void {
  const lda = <usize>M << 2;
  for (let i = 0; i < M; i++) {
    let src = a + (<usize>i << 2);
    const d = dst + <usize>i * (<usize>K << 2);
    for (let k = 0; k < K; k++) {
      store<f32>(d + (<usize>k << 2), load<f32>(src));
      src += lda;
    }
  }
}

/** C = op(A)·op(B) for few rows (M < MR, or M ≤ DIRECT_B_MAX_M when B is not transposed). */
function gemmFewRows(
  a: usize, b: usize, c: usize, M: i32, N: i32, K: i32, transA: bool, transB: bool, pack: usize,
): void {
  if (transA) {
    transposeA(a, pack, M, K);
    a = pack;
  }
  if (transB) fewRowsBT(a, b, c, M, N, K);
  else fewRowsB(a, b, c, M, N, K);
}

// ---------------------------------------------------------------------------------------------
// Drivers

/**
 * C[0:mc, 0:N] (+)= packed A block [mc, kc] · B block [kc, N]; C row stride N. Full B panels
 * are read in place (row stride ldb bytes) when `direct`, else from packed panels at `bp`;
 * a partial last panel is always packed.
 */
function macroKernel(
  ap: usize, b: usize, ldb: usize, direct: bool, bp: usize,
  c: usize, mc: i32, N: i32, kc: i32, accumulate: bool, tile: usize,
): void {
  const ldc = <usize>N << 2;
  for (let j = 0; j < N; j += NR) {
    const nr = min(NR, N - j);
    const inPlace = direct && nr == NR;
    const bPanel = inPlace ? b + (<usize>j << 2) : bp + (<usize>((direct ? 0 : j) * kc) << 2);
    const bStride: usize = inPlace ? ldb : NR << 2;
    for (let i = 0; i < mc; i += MR) {
      const mr = min(MR, mc - i);
      const aPanel = ap + (<usize>(i * kc) << 2);
      const cTile = c + <usize>i * ldc + (<usize>j << 2);
      if (mr == MR && nr == NR) {
        kernel(aPanel, bPanel, bStride, kc, cTile, ldc, accumulate);
      } else {
        kernel(aPanel, bPanel, bStride, kc, tile, NR << 2, false);
        mergeTile(tile, cTile, ldc, mr, nr, accumulate);
      }
    }
  }
}

/** One product C = op(A)·op(B) with C [M, N]; `pack` holds packBytes(M, N, K) bytes. */
function gemm(
  a: usize, b: usize, c: usize, M: i32, N: i32, K: i32, transA: bool, transB: bool, pack: usize,
): void {
  if (K == 0) {
    memory.fill(c, 0, <usize>(M * N) << 2);
    return;
  }
  // Few rows of A: packing B would cost as much as the product. Read B in place, with the 4×8
  // tile, or (M < MR, or B rows a multiple of 2 KiB apart, which makes a B panel's rows collide
  // in the same L1 sets) stream it row by row.
  const fewRows = !transB && M <= DIRECT_B_MAX_M;
  if (M < MR || (fewRows && (N & 511) == 0)) {
    gemmFewRows(a, b, c, M, N, K, transA, transB, pack);
    return;
  }
  const direct = fewRows;
  const kcMax = blockK(K);
  const bPack = pack;
  const aPack = bPack + (<usize>(kcMax * roundUp(N, NR)) << 2);
  const tile = aPack + (<usize>(min(roundUp(M, MR), MC) * kcMax) << 2);
  for (let pc = 0; pc < K; pc += kcMax) {
    const kc = min(kcMax, K - pc);
    if (transB) packBT(b, bPack, pc, kc, N, K);
    else packB(b, bPack, pc, kc, N, direct ? N & ~(NR - 1) : 0);
    for (let ic = 0; ic < M; ic += MC) {
      const mc = min(MC, M - ic);
      if (transA) packAT(a, aPack, ic, mc, pc, kc, M);
      else packA(a, aPack, ic, mc, pc, kc, K);
      const cBlock = c + (<usize>(ic * N) << 2);
      const bBlock = b + <usize>pc * (<usize>N << 2);
      macroKernel(aPack, bBlock, <usize>N << 2, direct, bPack, cBlock, mc, N, kc, pc > 0, tile);
    }
  }
}

/**
 * C[b] = op(A[b]) · op(B[b]) for b < batch.
 *   a: [batch, M, K] ([batch, K, M] if transA), b: [batch, K, N] ([batch, N, K] if transB),
 *   c: [batch, M, N]; strideA / strideB: elements between batches (0 = broadcast).
 *   pack: scratch of packBytes(M, N, K) bytes.
 * Example: matmul(a, b, c, 1, 2, 2, 3, 0, 0, 0, 0, pack) multiplies [2,3]·[3,2] into [2,2].
 */
export function matmul(
  a: usize, b: usize, c: usize, batch: i32, M: i32, N: i32, K: i32,
  transA: i32, transB: i32, strideA: i32, strideB: i32, pack: usize,
): void {
  if (M <= 0 || N <= 0) return;
  const sa = <usize>strideA << 2;
  const sb = <usize>strideB << 2;
  const sc = <usize>(M * N) << 2;
  for (let i = 0; i < batch; i++) {
    gemm(a, b, c, M, N, K, transA != 0, transB != 0, pack);
    a += sa;
    b += sb;
    c += sc;
  }
}

// ---------------------------------------------------------------------------------------------
// Fused epilogue (for tfjs's _FusedMatMul)

/** Activation codes of `biasAct` (tfjs-backend-wasm's FusableActivation numbering). */
const ACT_RELU: i32 = 1;
const ACT_RELU6: i32 = 2;
const ACT_LEAKYRELU: i32 = 4;

/** act(v) for the codes above (anything else: identity). */
@inline function activate(v: v128, act: i32, alpha: v128): v128 {
  if (act == ACT_RELU) return f32x4.max(v, f32x4.splat(0));
  if (act == ACT_RELU6) return f32x4.min(f32x4.max(v, f32x4.splat(0)), f32x4.splat(6));
  if (act == ACT_LEAKYRELU) {
    return v128.bitselect(v, f32x4.mul(v, alpha), f32x4.ge(v, f32x4.splat(0)));
  }
  return v;
}

/**
 * C[r, j] = act(C[r, j] + bias[j]) in place for C [rows, N]. `bias` is 0 (none) or points to
 * `biasLen` floats (N, or 1 to broadcast one value); act: 0 linear, 1 relu, 2 relu6,
 * 4 leakyrelu (slope `alpha`).
 * Example: biasAct(c, 2, 3, bias, 3, 1, 0) adds a [3] bias to a [2, 3] C, then applies relu.
 */
export function biasAct(
  c: usize, rows: i32, N: i32, bias: usize, biasLen: i32, act: i32, alpha: f32,
): void {
  const av = f32x4.splat(alpha);
  const zero = f32x4.splat(0);
  const b0 = bias == 0 ? zero : v128.load32_splat(bias);
  const perColumn = bias != 0 && biasLen != 1;
  for (let r = 0; r < rows; r++) {
    const row = c + <usize>r * (<usize>N << 2);
    let j = 0;
    for (; j + 4 <= N; j += 4) {
      const o = <usize>j << 2;
      const bv = perColumn ? v128.load(bias + o) : b0;
      v128.store(row + o, activate(f32x4.add(v128.load(row + o), bv), act, av));
    }
    for (; j < N; j++) {
      const o = <usize>j << 2;
      const bv = perColumn ? v128.load32_splat(bias + o) : b0;
      const v = activate(f32x4.add(v128.load32_splat(row + o), bv), act, av);
      store<f32>(row + o, f32x4.extract_lane(v, 0));
    }
  }
}
