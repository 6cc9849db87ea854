/**
 * Multi-head causal self-attention for both families, reading and extending the KV cache.
 *
 *   gpt2:  qkv = c_attn(x) [N, 3C] → q, k, v;  out = c_proj(attn)
 *   llama: q = q_proj(x) [N, H·D], k/v = k_proj/v_proj(x) [N, K·D] (GQA), RoPE on q and k; out = o_proj(attn)
 *
 * Attention itself is @llm/tensor-gpu's fused causalSelfAttention; only attention dropout
 * (training with attnDropout > 0) takes the explicit softmax path, which is slower.
 */
import { tf, causalSelfAttention, applyRope } from '@llm/tensor-gpu';
import type { ForwardContext, Parts } from './context.js';
import { broadcastRows } from '../prefix.js';

/** x [N, C] → [N, C]. `prefix` is the block's HF name, e.g. "transformer.h.0" or "model.layers.0". */
export function attention(parts: Parts, prefix: string, layer: number, x: tf.Tensor, ctx: ForwardContext): tf.Tensor {
  const { family, nHead: H, nKvHead: K, headDim: D, attnDropout } = parts.config;
  const { B, T } = ctx;
  const heads = (t: tf.Tensor, n: number) => t.reshape([B, T, n, D]).transpose([0, 2, 1, 3]); // [B, n, T, D]
  let q: tf.Tensor, k: tf.Tensor, v: tf.Tensor;
  if (family === 'gpt2') {
    const qkv = parts.linear(`${prefix}.attn.c_attn`).apply(x); // [N, 3C]
    [q, k, v] = tf.split(qkv, 3, 1).map((t) => heads(t, H)) as [tf.Tensor, tf.Tensor, tf.Tensor]; // [B, H, T, D] each
  } else {
    q = heads(parts.linear(`${prefix}.self_attn.q_proj`).apply(x), H); // [B, H, T, D]
    k = heads(parts.linear(`${prefix}.self_attn.k_proj`).apply(x), K); // [B, K, T, D]
    v = heads(parts.linear(`${prefix}.self_attn.v_proj`).apply(x), K); // [B, K, T, D]
  }
  if (ctx.rope) {
    q = applyRope(q, ctx.rope.cos, ctx.rope.sin); // [B, H, T, D]
    k = applyRope(k, ctx.rope.cos, ctx.rope.sin); // [B, K, T, D]
  }
  if (ctx.past) {
    k = tf.concat([broadcastRows(ctx.past.keys[layer]!, B), k], 2); // [B, K, P + T, D]
    v = tf.concat([broadcastRows(ctx.past.values[layer]!, B), v], 2); // [B, K, P + T, D]
  }
  if (ctx.cache) [k, v] = ctx.cache.append(layer, k, v); // [B, K, Tk, D] each
  const att = ctx.training && attnDropout > 0
    ? explicitAttention(q, k, v, ctx, attnDropout)
    : causalSelfAttention(q, k, v, ctx.keyMask ? { attentionMask: ctx.keyMask } : {}); // [B, H, T, D]
  const merged = att.transpose([0, 2, 1, 3]).reshape([B * T, H * D]); // [N, H·D]
  return parts.linear(family === 'gpt2' ? `${prefix}.attn.c_proj` : `${prefix}.self_attn.o_proj`).apply(merged); // [N, C]
}

/**
 * softmax(q·kᵀ/√D + mask) with dropout on the probabilities, then ·v. q [B, H, T, D], k/v [B, K, Tk, D].
 * Query heads are grouped per kv head by a reshape (head h uses kv head ⌊h / G⌋, as HF's repeat_kv).
 */
function explicitAttention(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, ctx: ForwardContext, p: number): tf.Tensor {
  const [B, H, T, D] = q.shape as [number, number, number, number];
  const [, K, Tk] = k.shape as [number, number, number, number];
  const G = H / K;
  const offset = Tk - T;
  const bias = new Float32Array(G * T * Tk); // causal part [G·T, Tk]: row g·T + t is query t
  for (let r = 0; r < G * T; r++) for (let j = offset + (r % T) + 1; j < Tk; j++) bias[r * Tk + j] = -1e30;
  const qg = q.reshape([B, K, G * T, D]); // [B, K, G·T, D]
  let s = tf.matMul(qg, k, false, true).mul(1 / Math.sqrt(D)).add(tf.tensor(bias, [1, 1, G * T, Tk])); // [B, K, G·T, Tk]
  if (ctx.keyMask) s = s.add(tf.scalar(1).sub(ctx.keyMask.cast('float32')).mul(-1e30).reshape([B, 1, 1, Tk])); // [B, K, G·T, Tk]
  const probs = ctx.dropout(tf.softmax(s), p); // [B, K, G·T, Tk]
  return tf.matMul(probs, v).reshape([B, H, T, D]); // [B, H, T, D]
}
