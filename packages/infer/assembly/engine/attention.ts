// Attention over the paged KV cache. A block holds BT positions of every layer: keys (and values,
// in a second pool) as [L, BT, K, D] f32; a sequence's block table lists its block ids in order,
// so position j of it lives in block table[j / BT] at row j % BT.
//
//   writeKv: store this step's k, v [N, K·D] at each token's (table, pos)
//   attend:  att[t, h] = Σ_{j ≤ pos[t]} softmax_j(q[t, h]·k_j / √D) · v_j, kv head h / (H / K)
//
//   e.g. one position (pos 0): the softmax is [1], so att[t, h] = v_0 of head h's kv head.

import { exp4 } from './math';
/** Byte offset of position j's row (layer offset included) in a pool. */
// @ts-ignore: decorator
@inline function slot(table: usize, j: i32, BT: i32, blockBytes: usize, layerOff: usize, rowBytes: usize): usize {
  const blk = <usize>load<i32>(table + (<usize>(j / BT) << 2));
  return blk * blockBytes + layerOff + <usize>(j % BT) * rowBytes;
}

/**
 * Σ_d a[d]·b[d] over D floats: four f32x4 partial sums (16 a step), 4-wide steps, scalar tail.
 * Example: a = [1, 2, 3, 4, 5], b = [1, 1, 1, 1, 2] → 20.
 */
// @ts-ignore: decorator
@inline function dot(a: usize, b: usize, D: i32): f32 {
  let s0 = f32x4.splat(0);
  let s1 = s0, s2 = s0, s3 = s0;
  let d = 0;
  for (; d + 16 <= D; d += 16) {
    const o = <usize>d << 2;
    s0 = f32x4.add(s0, f32x4.mul(v128.load(a + o), v128.load(b + o)));
    s1 = f32x4.add(s1, f32x4.mul(v128.load(a + o, 16), v128.load(b + o, 16)));
    s2 = f32x4.add(s2, f32x4.mul(v128.load(a + o, 32), v128.load(b + o, 32)));
    s3 = f32x4.add(s3, f32x4.mul(v128.load(a + o, 48), v128.load(b + o, 48)));
  }
  for (; d + 4 <= D; d += 4) s0 = f32x4.add(s0, f32x4.mul(v128.load(a + (<usize>d << 2)), v128.load(b + (<usize>d << 2))));
  const v = f32x4.add(f32x4.add(s0, s1), f32x4.add(s2, s3));
  let s = f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
  for (; d < D; d++) s += load<f32>(a + (<usize>d << 2)) * load<f32>(b + (<usize>d << 2));
  return s;
}

/** y[d] += w·x[d] over D floats (4-wide steps, scalar tail). Example: y [1, 1], x [2, 3], w 2 → [5, 7]. */
// @ts-ignore: decorator
@inline function axpy(y: usize, x: usize, w: f32, D: i32): void {
  const wv = f32x4.splat(w);
  let d = 0;
  for (; d + 4 <= D; d += 4) {
    const o = <usize>d << 2;
    v128.store(y + o, f32x4.add(v128.load(y + o), f32x4.mul(wv, v128.load(x + o))));
  }
  for (; d < D; d++) {
    const o = <usize>d << 2;
    store<f32>(y + o, load<f32>(y + o) + w * load<f32>(x + o));
  }
}

/**
 * s[j] ← e^(s[j] − mx) for j < n (f32x4, math.ts exp4; the tail lane-wise too), returning Σ_j.
 * Example: s [0, 0], mx 0 → s [1, 1], returns 2.
 */
// @ts-ignore: decorator
@inline function softmaxNum(s: usize, n: i32, mx: f32): f32 {
  const m = f32x4.splat(mx);
  let acc = f32x4.splat(0);
  let j = 0;
  for (; j + 4 <= n; j += 4) {
    const p = s + (<usize>j << 2);
    const e = exp4(f32x4.sub(v128.load(p), m));
    v128.store(p, e);
    acc = f32x4.add(acc, e);
  }
  let sum = f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3);
  for (; j < n; j++) {
    const p = s + (<usize>j << 2);
    const e = f32x4.extract_lane(exp4(f32x4.splat(load<f32>(p) - mx)), 0);
    store<f32>(p, e);
    sum += e;
  }
  return sum;
}

/** Copies k, v [N, K·D] of tokens [t0, t1) of layer l into the pools (blocks of blockBytes). */
export function writeKv(k: usize, v: usize, poolK: usize, poolV: usize, blockBytes: usize, pos: usize, tables: usize, l: i32, BT: i32, KD: i32, t0: i32, t1: i32): void {
  const rowBytes = <usize>KD << 2;
  const layerOff = <usize>l * <usize>BT * rowBytes;
  for (let t = t0; t < t1; t++) {
    const table = <usize>load<u32>(tables + (<usize>t << 2));
    const p = load<i32>(pos + (<usize>t << 2));
    const off = slot(table, p, BT, blockBytes, layerOff, rowBytes);
    memory.copy(poolK + off, k + <usize>t * rowBytes, rowBytes);
    memory.copy(poolV + off, v + <usize>t * rowBytes, rowBytes);
  }
}

/** att [N, H·D] for the (token, head) pairs i = t·H + h in [i0, i1); scores: ≥ max(pos) + 1 floats of this thread's. */
export function attend(q: usize, att: usize, poolK: usize, poolV: usize, blockBytes: usize, pos: usize, tables: usize, scores: usize, l: i32, BT: i32, H: i32, K: i32, D: i32, i0: i32, i1: i32): void {
  const rowBytes = <usize>(K * D) << 2;
  const layerOff = <usize>l * <usize>BT * rowBytes;
  const G = H / K;
  const scale: f32 = <f32>1 / Mathf.sqrt(<f32>D);
  for (let i = i0; i < i1; i++) {
    const t = i / H;
    const h = i % H;
    const table = <usize>load<u32>(tables + (<usize>t << 2));
    const p = load<i32>(pos + (<usize>t << 2));
    {
      const qh = q + ((<usize>t * <usize>H + <usize>h) * <usize>D << 2);
      const headOff = <usize>((h / G) * D) << 2;
      let mx: f32 = -Infinity;
      for (let j = 0; j <= p; j++) {
        const kr = poolK + slot(table, j, BT, blockBytes, layerOff, rowBytes) + headOff;
        const s = dot(qh, kr, D) * scale;
        store<f32>(scores + (<usize>j << 2), s);
        if (s > mx) mx = s;
      }
      const sum = softmaxNum(scores, p + 1, mx);
      const inv: f32 = <f32>1 / sum;
      const out = att + ((<usize>t * <usize>H + <usize>h) * <usize>D << 2);
      memory.fill(out, 0, <usize>D << 2);
      for (let j = 0; j <= p; j++) {
        const vr = poolV + slot(table, j, BT, blockBytes, layerOff, rowBytes) + headOff;
        axpy(out, vr, load<f32>(scores + (<usize>j << 2)) * inv, D);
      }
    }
  }
}
