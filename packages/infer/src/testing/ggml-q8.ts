/**
 * Slow, obvious reference of ggml's Q8 activation path (test helper, not public API), written
 * from the C reference semantics in ggml-quants.c — quantize_row_q8_0_ref / quantize_row_q8_1_ref
 * and the generic ggml_vec_dot_{q8_0,q4_0,q5_0}_q8_0 / ggml_vec_dot_q4_1_q8_1 — with float32
 * steps where C computes in float (Math.fround) and float64 sums for the dots.
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

interface WeightBlock {
  d: number;
  m: number;
  levels: number[];
}

/** One ggml weight block at `o` as ggml's vec_dot sees it (q4_1: unsigned levels + min). */
function weightBlock(fmt: string, w: Uint8Array, o: number): WeightBlock {
  const h = (at: number) => half(w[o + at]! | (w[o + at + 1]! << 8));
  const levels = new Array<number>(32);
  if (fmt === 'q8_0') {
    for (let j = 0; j < 32; j++) levels[j] = (w[o + 2 + j]! << 24) >> 24;
    return { d: h(0), m: 0, levels };
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

const BLOCK_BYTES: Record<string, number> = { q8_0: 34, q4_0: 18, q4_1: 20, q5_0: 22 };

/**
 * ggml's vec_dot of one weight row (ggml blocks, format q8_0 / q4_0 / q4_1 / q5_0) with Q8
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
