/**
 * Slow, obvious reference of ggml's Q8 activation path (test helper, not public API), written
 * from the C reference semantics in ggml-quants.c — quantize_row_q8_0_ref / quantize_row_q8_1_ref /
 * quantize_row_q8_K_ref and the generic ggml_vec_dot_{q8_0,q4_0,q5_0}_q8_0 / ggml_vec_dot_q4_1_q8_1 /
 * ggml_vec_dot_{q4_K,q6_K}_q8_K — with float32 steps where C computes in float (Math.fround) and
 * float64 sums for the dots.
 *
 *   per block of 32: amax = max|x|; d = f32(amax / 127); id = d ? f32(1 / d) : 0;
 *     q = roundf(f32(x · id)) (half away from zero); stored d = fp16(d); s = fp16(f32(Σq · d))
 *   dot of a weight block (scale dw, levels qw, q4_1: min mw) with an x block: Σ qw·qx · dw·dx (+ mw·sx)
 *
 *   const a = quantizeQ8Ref(Float32Array.from([1, -2, 0.5, ...zeros(29)]));
 *   // a.q = [64, -127, 32, 0…], a.d = [0.015747070…], a.s = [-0.48828125]
 */

/** Our wasm layout of one Q8 block (assembly/kernels/q8act.ts): f32 d, f32 s, i8 q[32]. */
export const Q8_BLOCK_BYTES = 40;

const f32 = Math.fround;

/** Round half to even. */
function rint(v: number): number {
  const fl = Math.floor(v);
  const diff = v - fl;
  if (diff !== 0.5) return diff < 0.5 ? fl : fl + 1;
  return fl % 2 === 0 ? fl : fl + 1;
}

/** The fp16 value nearest to x (ties to even; ≥ 65520 in magnitude → ±Infinity), in float64 arithmetic. */
export function fp16Round(x: number): number {
  if (x === 0 || !Number.isFinite(x)) return x;
  const a = Math.abs(x);
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  if (2 ** (e + 1) <= a) e++;
  const quantum = e < -14 ? 2 ** -24 : 2 ** (e - 10);
  const r = rint(a / quantum) * quantum;
  return Math.sign(x) * (r > 65504 ? Infinity : r);
}

/** C's roundf: half away from zero. */
export const roundf = (v: number): number => Math.sign(v) * Math.floor(Math.abs(v) + 0.5);

export interface Q8Ref {
  /** levels [cols] */
  q: Int8Array;
  /** per block: fp16(d) and fp16(d · Σq), as numbers */
  d: number[];
  s: number[];
}

/** ggml's quantize_row_q8_1_ref (its q and d are quantize_row_q8_0_ref's) over x (length a multiple of 32). */
export function quantizeQ8Ref(x: Float32Array): Q8Ref {
  const q = new Int8Array(x.length);
  const d: number[] = [];
  const s: number[] = [];
  for (let b = 0; b < x.length; b += 32) {
    let amax = 0;
    for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[b + j]!));
    const db = f32(amax / 127);
    const id = db ? f32(1 / db) : 0;
    let sum = 0;
    for (let j = 0; j < 32; j++) {
      q[b + j] = roundf(f32(x[b + j]! * id));
      sum += q[b + j]!;
    }
    d.push(fp16Round(db));
    s.push(fp16Round(f32(sum * db)));
  }
  return { q, d, s };
}

/** A Q8Ref in the wasm layout (block: f32 d, f32 s, i8 q[32]). */
export function q8Bytes(a: Q8Ref): Uint8Array {
  const out = new Uint8Array((a.q.length / 32) * Q8_BLOCK_BYTES);
  const dv = new DataView(out.buffer);
  for (let b = 0; b < a.d.length; b++) {
    dv.setFloat32(b * Q8_BLOCK_BYTES, a.d[b]!, true);
    dv.setFloat32(b * Q8_BLOCK_BYTES + 4, a.s[b]!, true);
    out.set(new Uint8Array(a.q.buffer, b * 32, 32), b * Q8_BLOCK_BYTES + 8);
  }
  return out;
}

/** fp16 bits → value. */
function half(h: number): number {
  const e = (h >> 10) & 31;
  const m = h & 1023;
  const v = e === 0 ? m * 2 ** -24 : e === 31 ? (m ? NaN : Infinity) : (1 + m / 1024) * 2 ** (e - 15);
  return h & 0x8000 ? -v : v;
}

export interface WeightBlock {
  d: number;
  m: number;
  levels: number[];
}

/**
 * One weight block at `o` as ggml's vec_dot sees it (q4_1: unsigned levels + min). Also the
 * engine's private formats, read the same way (src/schemes/blocks.ts): q8_f32 { f32 d; i8 qs[32] }
 * and q4_z { f32 d; u8 z; pad[3]; u8 qs[16] } with levels q − z — w = level · d for both.
 */
export function weightBlock(fmt: string, w: Uint8Array, o: number): WeightBlock {
  const h = (at: number) => half(w[o + at]! | (w[o + at + 1]! << 8));
  const levels = new Array<number>(32);
  if (fmt === 'q8_0' || fmt === 'q8_f32') {
    const at = fmt === 'q8_0' ? 2 : 4;
    for (let j = 0; j < 32; j++) levels[j] = (w[o + at + j]! << 24) >> 24;
    return { d: fmt === 'q8_0' ? h(0) : new DataView(w.buffer, w.byteOffset + o, 4).getFloat32(0, true), m: 0, levels };
  }
  if (fmt === 'q4_z') {
    const z = w[o + 4]!;
    for (let j = 0; j < 16; j++) {
      levels[j] = (w[o + 8 + j]! & 15) - z;
      levels[j + 16] = (w[o + 8 + j]! >> 4) - z;
    }
    return { d: new DataView(w.buffer, w.byteOffset + o, 4).getFloat32(0, true), m: 0, levels };
  }
  const qsAt = fmt === 'q4_1' ? 4 : fmt === 'q5_0' ? 6 : 2;
  const qh = fmt === 'q5_0' ? (w[o + 2]! | (w[o + 3]! << 8) | (w[o + 4]! << 16) | (w[o + 5]! << 24)) >>> 0 : 0;
  for (let j = 0; j < 16; j++) {
    const byte = w[o + qsAt + j]!;
    if (fmt === 'q5_0') {
      levels[j] = ((byte & 15) | (((qh >>> j) << 4) & 16)) - 16;
      levels[j + 16] = ((byte >> 4) | ((qh >>> (j + 12)) & 16)) - 16;
    } else {
      const off = fmt === 'q4_0' ? 8 : 0;
      levels[j] = (byte & 15) - off;
      levels[j + 16] = (byte >> 4) - off;
    }
  }
  return { d: h(0), m: fmt === 'q4_1' ? h(2) : 0, levels };
}

const BLOCK_BYTES: Record<string, number> = { q8_0: 34, q4_0: 18, q4_1: 20, q5_0: 22, q8_f32: 36, q4_z: 24 };

/**
 * ggml's vec_dot of one weight row (ggml blocks, format q8_0 / q4_0 / q4_1 / q5_0, or the private
 * q8_f32 / q4_z: ggml_vec_dot_q8_0_q8_0's formula with an f32 scale) with Q8
 * activations, in float64, and Σ|terms| (the per-block terms) for a relative tolerance.
 */
export function vecDotRef(fmt: string, w: Uint8Array, x: Q8Ref): { dot: number; mag: number } {
  let dot = 0;
  let mag = 0;
  for (let b = 0; b < x.d.length; b++) {
    const wb = weightBlock(fmt, w, b * BLOCK_BYTES[fmt]!);
    let sumi = 0;
    for (let j = 0; j < 32; j++) sumi += wb.levels[j]! * x.q[b * 32 + j]!;
    const t = sumi * wb.d * x.d[b]!;
    const u = wb.m * x.s[b]!;
    dot += t + u;
    mag += Math.abs(t) + Math.abs(u);
  }
  return { dot, mag };
}

// ---- Q8_K (super-blocks of 256) and the K-quants -------------------------------------------------

/** Our wasm layout of one Q8_K block (assembly/kernels/q8k.ts = ggml's block_q8_K): f32 d, i8 q[256], i16 bsums[16]. */
export const Q8K_BLOCK_BYTES = 292;

export interface Q8KRef {
  q: Int8Array;
  /** per super-block: f32 d = 1 / iscale (0 for an all-zero block) */
  d: number[];
  /** per super-block: the 16 sums of 16 levels */
  bsums: number[][];
}

/**
 * ggml's quantize_row_q8_K_ref: max = the first x with the largest |x|; iscale = f32(−127 / max);
 * q = min(127, nearest_int(f32(iscale · x))) (half to even); d = f32(1 / iscale).
 */
export function quantizeQ8KRef(x: Float32Array): Q8KRef {
  const q = new Int8Array(x.length);
  const d: number[] = [];
  const bsums: number[][] = [];
  for (let b = 0; b < x.length; b += 256) {
    let amax = 0;
    let max = 0;
    for (let j = 0; j < 256; j++) {
      const ax = Math.abs(x[b + j]!);
      if (ax > amax) {
        amax = ax;
        max = x[b + j]!;
      }
    }
    const sums = new Array<number>(16).fill(0);
    if (amax === 0) {
      d.push(0);
      bsums.push(sums);
      continue;
    }
    const iscale = f32(-127 / max);
    for (let j = 0; j < 256; j++) {
      q[b + j] = Math.min(127, rint(f32(iscale * x[b + j]!)));
      sums[j >> 4]! += q[b + j]!;
    }
    d.push(f32(1 / iscale));
    bsums.push(sums);
  }
  return { q, d, bsums };
}

/** A Q8KRef in the wasm layout. */
export function q8kBytes(a: Q8KRef): Uint8Array {
  const out = new Uint8Array(a.d.length * Q8K_BLOCK_BYTES);
  const dv = new DataView(out.buffer);
  for (let b = 0; b < a.d.length; b++) {
    const o = b * Q8K_BLOCK_BYTES;
    dv.setFloat32(o, a.d[b]!, true);
    out.set(new Uint8Array(a.q.buffer, b * 256, 256), o + 4);
    a.bsums[b]!.forEach((s, g) => dv.setInt16(o + 260 + 2 * g, s, true));
  }
  return out;
}

/** q4_K's get_scale_min_k4: 6-bit scale and min of sub-block j from the 12 scale bytes at s[o…]. */
function scaleMinK4(s: Uint8Array, o: number, j: number): [number, number] {
  if (j < 4) return [s[o + j]! & 63, s[o + j + 4]! & 63];
  return [(s[o + j + 4]! & 0xf) | ((s[o + j - 4]! >> 6) << 4), (s[o + j + 4]! >> 4) | ((s[o + j]! >> 6) << 4)];
}

/** One K-quant super-block at o: per element its level and integer scale (+ q4_K's per-element min), and d, dmin. */
function kBlock(fmt: string, w: Uint8Array, o: number): { level: number[]; sc: number[]; mn: number[]; d: number; dmin: number } {
  const h = (at: number) => half(w[o + at]! | (w[o + at + 1]! << 8));
  const level = new Array<number>(256), sc = new Array<number>(256), mn = new Array<number>(256).fill(0);
  if (fmt === 'q4_k') {
    for (let c = 0; c < 4; c++) {
      for (let l = 0; l < 32; l++) {
        const byte = w[o + 16 + 32 * c + l]!;
        level[64 * c + l] = byte & 15;
        level[64 * c + 32 + l] = byte >> 4;
      }
    }
    for (let e = 0; e < 256; e++) [sc[e], mn[e]] = scaleMinK4(w, o + 4, e >> 5);
    return { level, sc, mn, d: h(0), dmin: h(2) };
  }
  // q6_K: ql[128] qh[64] scales[16] d, as ggml's dequantize_row_q6_K walks them
  for (let half128 = 0; half128 < 2; half128++) {
    const ql = o + 64 * half128, qh = o + 128 + 32 * half128, s = o + 192 + 8 * half128, n = 128 * half128;
    for (let l = 0; l < 32; l++) {
      const is = l >> 4;
      const i8 = (at: number) => (w[at]! << 24) >> 24;
      level[n + l] = ((w[ql + l]! & 15) | (((w[qh + l]! >> 0) & 3) << 4)) - 32;
      level[n + l + 32] = ((w[ql + l + 32]! & 15) | (((w[qh + l]! >> 2) & 3) << 4)) - 32;
      level[n + l + 64] = ((w[ql + l]! >> 4) | (((w[qh + l]! >> 4) & 3) << 4)) - 32;
      level[n + l + 96] = ((w[ql + l + 32]! >> 4) | (((w[qh + l]! >> 6) & 3) << 4)) - 32;
      sc[n + l] = i8(s + is);
      sc[n + l + 32] = i8(s + is + 2);
      sc[n + l + 64] = i8(s + is + 4);
      sc[n + l + 96] = i8(s + is + 6);
    }
  }
  return { level, sc, mn, d: h(208), dmin: 0 };
}

const K_BLOCK_BYTES: Record<string, number> = { q4_k: 144, q6_k: 210 };

/**
 * ggml's vec_dot_{q4_K,q6_K}_q8_K of one weight row with Q8_K activations, in float64:
 * Σ_blocks d·d_x·Σ sc·qw·qx − dmin·d_x·Σ_j m_j·(bsums[2j] + bsums[2j+1]); and Σ|the two terms|.
 */
export function vecDotKRef(fmt: string, w: Uint8Array, x: Q8KRef): { dot: number; mag: number } {
  let dot = 0;
  let mag = 0;
  for (let b = 0; b < x.d.length; b++) {
    const k = kBlock(fmt, w, b * K_BLOCK_BYTES[fmt]!);
    let sumi = 0;
    for (let e = 0; e < 256; e++) sumi += k.sc[e]! * k.level[e]! * x.q[b * 256 + e]!;
    let mins = 0;
    for (let j = 0; j < 8; j++) mins += k.mn[32 * j]! * (x.bsums[b]![2 * j]! + x.bsums[b]![2 * j + 1]!);
    const t = k.d * x.d[b]! * sumi;
    const u = k.dmin * x.d[b]! * mins;
    dot += t - u;
    mag += Math.abs(t) + Math.abs(u);
  }
  return { dot, mag };
}
