/**
 * Feed-forward blocks: the dense MLP of each family and the mixture-of-experts option.
 *
 *   gpt2:  c_proj(act(c_fc(x)))            act = gelu (tanh or erf)
 *   llama: down_proj(silu(gate_proj(x)) ⊙ up_proj(x))
 *   MoE (HF Mixtral routing): p = softmax(gate(x)) [N, E]; each token goes to its top-k experts,
 *        weighted by p renormalised over those k; y = Σ_k w_k · expert_k(x).
 *
 * MoE dispatch is sparse: each expert runs only on the rows routed to it (gather → expert →
 * unsortedSegmentSum back), so compute grows with k, not E.
 */
import { tf, gelu, swiglu } from '@llm/tensor-gpu';
import type { ForwardContext, Parts } from './context.js';

/** Names of an expert's (or the dense MLP's) linears, per family. */
export function mlpNames(family: 'gpt2' | 'llama', prefix: string): { up: string; gate: string | null; down: string } {
  return family === 'gpt2'
    ? { up: `${prefix}.c_fc`, gate: null, down: `${prefix}.c_proj` }
    : prefix.includes('.experts.')
      ? { up: `${prefix}.w3`, gate: `${prefix}.w1`, down: `${prefix}.w2` }
      : { up: `${prefix}.up_proj`, gate: `${prefix}.gate_proj`, down: `${prefix}.down_proj` };
}

/** HF name of a block's FFN (dense or MoE) for a layer prefix. */
export function ffnPrefix(family: 'gpt2' | 'llama', blockPrefix: string, moe: boolean): string {
  return family === 'llama' && moe ? `${blockPrefix}.block_sparse_moe` : `${blockPrefix}.mlp`;
}

/** One dense MLP: x [N, C] → [N, C]. */
export function denseMlp(parts: Parts, prefix: string, x: tf.Tensor): tf.Tensor {
  const { family, activation } = parts.config;
  const n = mlpNames(family, prefix);
  if (n.gate === null) {
    const h = parts.linear(n.up).apply(x); // [N, I]
    return parts.linear(n.down).apply(gelu(h, activation === 'gelu' ? 'erf' : 'tanh')); // [N, C]
  }
  const h = swiglu(parts.linear(n.gate).apply(x), parts.linear(n.up).apply(x)); // [N, I]
  return parts.linear(n.down).apply(h); // [N, C]
}

/** Mixture of experts: x [N, C] → [N, C]; records router probabilities for the aux loss. */
export function moeMlp(parts: Parts, prefix: string, x: tf.Tensor, ctx: ForwardContext): tf.Tensor {
  const { nExperts: E, nExpertsPerTok: k } = parts.config;
  const N = x.shape[0]!;
  const probs = tf.softmax(parts.linear(`${prefix}.gate`).apply(x)); // [N, E]
  const top = topK(probs.dataSync() as Float32Array, N, E, k); // host [N·k] expert ids
  const selected = new Float32Array(N * E);
  const rows: number[][] = Array.from({ length: E }, () => []);
  const counts = new Float64Array(E);
  for (let n = 0; n < N; n++) {
    for (let j = 0; j < k; j++) {
      const e = top[n * k + j]!;
      selected[n * E + e] = 1;
      rows[e]!.push(n);
      if (ctx.tokenMask[n]) counts[e]! += 1;
    }
  }
  ctx.router.push({ probs, counts });
  const picked = probs.mul(tf.tensor2d(selected, [N, E])); // [N, E], zero off the top k
  const gates = picked.div(picked.sum(1, true)).reshape([N * E]); // [N·E] renormalised over the top k
  const parts_: tf.Tensor[] = [];
  for (let e = 0; e < E; e++) {
    const r = rows[e]!;
    if (r.length === 0) continue;
    const idx = tf.tensor1d(r, 'int32'); // [n_e]
    const w = tf.gather(gates, tf.tensor1d(r.map((n) => n * E + e), 'int32')).reshape([r.length, 1]); // [n_e, 1]
    const y = denseMlp(parts, `${prefix}.experts.${e}`, tf.gather(x, idx)).mul(w); // [n_e, C]
    parts_.push(tf.unsortedSegmentSum(y, idx, N)); // [N, C]
  }
  return parts_.length === 1 ? parts_[0]! : tf.addN(parts_); // [N, C]
}

/** Indices of the k largest entries of each row (ties → lower index first, as torch.topk on CPU). */
function topK(p: Float32Array, N: number, E: number, k: number): Int32Array {
  const out = new Int32Array(N * k);
  const order = Array.from({ length: E }, (_, i) => i);
  for (let n = 0; n < N; n++) {
    const row = p.subarray(n * E, n * E + E);
    order.sort((a, b) => row[b]! - row[a]! || a - b);
    for (let j = 0; j < k; j++) out[n * k + j] = order[j]!;
  }
  return out;
}

/**
 * HF Mixtral's load_balancing_loss_func over all layers' router records, real tokens only:
 *   aux = E · Σ_e F_e · P_e,  F_e = picks of e / (L · N_real),  P_e = mean router prob of e
 * (P is differentiable; F is a count).
 *
 *   two layers, E = 2, k = 1, one token each routed to expert 0 with p = [0.75, 0.25]:
 *   F = [1, 0], P = [0.75, 0.25] → aux = 2 · 0.75 = 1.5
 */
export function loadBalancingLoss(router: ForwardContext['router'], tokenMask: Uint8Array, E: number): tf.Scalar {
  return tf.tidy(() => {
    const L = router.length;
    const real = tokenMask.reduce((a, b) => a + b, 0);
    if (L === 0 || real === 0) return tf.scalar(0);
    const counts = new Float32Array(E);
    for (const r of router) for (let e = 0; e < E; e++) counts[e]! += r.counts[e]!;
    const m = tf.tensor2d(Float32Array.from(tokenMask), [tokenMask.length, 1]); // [N, 1]
    const probSum = tf.addN(router.map((r) => r.probs.mul(m).sum(0))); // [E]
    const P = probSum.div(L * real); // [E]
    const F = tf.tensor1d(counts).div(L * real); // [E]
    return F.mul(P).sum().mul(E) as tf.Scalar;
  });
}
