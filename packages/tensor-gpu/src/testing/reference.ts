/**
 * Slow, obviously-correct plain-loop references (float64) for the fused ops, used by tests as
 * the independent implementation. Row-major arrays, shapes as in the ops' docs.
 */

/** Attention: q [B,H,Tq,D], k/v [B,K,Tk,D] → [B,H,Tq,D]; mask [B,Tk] optional. */
export function attentionRef(
  q: ArrayLike<number>, k: ArrayLike<number>, v: ArrayLike<number>,
  dims: { B: number; H: number; K: number; Tq: number; Tk: number; D: number },
  offset: number, mask?: ArrayLike<number>, causal = true,
): Float64Array {
  const { B, H, K, Tq, Tk, D } = dims;
  const G = H / K;
  const out = new Float64Array(B * H * Tq * D);
  const scale = 1 / Math.sqrt(D);
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let i = 0; i < Tq; i++) {
    const kh = Math.floor(h / G);
    const scores: number[] = [];
    for (let j = 0; j < Tk; j++) {
      const visible = (!causal || j <= offset + i) && (!mask || mask[b * Tk + j] !== 0);
      let s = 0;
      for (let d = 0; d < D; d++) s += q[((b * H + h) * Tq + i) * D + d]! * k[((b * K + kh) * Tk + j) * D + d]!;
      scores.push(visible ? s * scale : -Infinity);
    }
    const max = Math.max(...scores);
    const e = scores.map((s) => (s === -Infinity ? 0 : Math.exp(s - max)));
    const z = e.reduce((a, x) => a + x, 0);
    for (let d = 0; d < D; d++) {
      let acc = 0;
      for (let j = 0; j < Tk; j++) acc += (e[j]! / z) * v[((b * K + kh) * Tk + j) * D + d]!;
      out[((b * H + h) * Tq + i) * D + d] = acc;
    }
  }
  return out;
}

/** Per-row cross-entropy and its gradient (coef 1 per valid row) for logits [N,V]. */
export function crossEntropyRef(x: ArrayLike<number>, t: ArrayLike<number>, n: number, v: number, ignore = -100) {
  const loss = new Float64Array(n);
  const grad = new Float64Array(n * v);
  for (let r = 0; r < n; r++) {
    if (t[r] === ignore) continue;
    let max = -Infinity;
    for (let j = 0; j < v; j++) max = Math.max(max, x[r * v + j]!);
    let z = 0;
    for (let j = 0; j < v; j++) z += Math.exp(x[r * v + j]! - max);
    loss[r] = max + Math.log(z) - x[r * v + t[r]!]!;
    for (let j = 0; j < v; j++) grad[r * v + j] = Math.exp(x[r * v + j]! - max) / z - (j === t[r] ? 1 : 0);
  }
  return { loss, grad };
}
