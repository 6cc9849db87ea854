// Attention over the paged KV cache. A block holds BT positions of every layer: keys (and values,
// in a second pool) as [L, BT, K, D] f32; a sequence's block table lists its block ids in order,
// so position j of it lives in block table[j / BT] at row j % BT.
//
//   writeKv: store this step's k, v [N, K·D] at each token's (table, pos)
//   attend:  att[t, h] = Σ_{j ≤ pos[t]} softmax_j(q[t, h]·k_j / √D) · v_j, kv head h / (H / K)
//
//   e.g. one position (pos 0): the softmax is [1], so att[t, h] = v_0 of head h's kv head.

import { expf } from './math';
/** Byte offset of position j's row (layer offset included) in a pool. */
// @ts-ignore: decorator
@inline function slot(table: usize, j: i32, BT: i32, blockBytes: usize, layerOff: usize, rowBytes: usize): usize {
  const blk = <usize>load<i32>(table + (<usize>(j / BT) << 2));
  return blk * blockBytes + layerOff + <usize>(j % BT) * rowBytes;
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
        let s: f32 = 0;
        for (let d = 0; d < D; d++) s += load<f32>(qh + (<usize>d << 2)) * load<f32>(kr + (<usize>d << 2));
        s *= scale;
        store<f32>(scores + (<usize>j << 2), s);
        if (s > mx) mx = s;
      }
      let sum: f32 = 0;
      for (let j = 0; j <= p; j++) {
        const e = expf(load<f32>(scores + (<usize>j << 2)) - mx);
        store<f32>(scores + (<usize>j << 2), e);
        sum += e;
      }
      const inv: f32 = <f32>1 / sum;
      const out = att + ((<usize>t * <usize>H + <usize>h) * <usize>D << 2);
      memory.fill(out, 0, <usize>D << 2);
      for (let j = 0; j <= p; j++) {
        const w = load<f32>(scores + (<usize>j << 2)) * inv;
        const vr = poolV + slot(table, j, BT, blockBytes, layerOff, rowBytes) + headOff;
        for (let d = 0; d < D; d++) {
          const o = out + (<usize>d << 2);
          store<f32>(o, load<f32>(o) + w * load<f32>(vr + (<usize>d << 2)));
        }
      }
    }
  }
}
