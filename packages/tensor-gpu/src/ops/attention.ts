/**
 * Causal scaled-dot-product attention with grouped-query heads, a KV-cache offset and an
 * optional padding mask, with a hand-written gradient (saves the probabilities, skips the
 * mask/scale nodes autodiff would record).
 *
 * Dimensions: B batch, H query heads, K kv heads (H % K = 0, G = H / K), Tq queries,
 * Tk keys, D head dim.
 *
 *   q [B, H, Tq, D], k [B, K, Tk, D], v [B, K, Tk, D] → out [B, H, Tq, D]
 *
 * Query i sits at absolute position offset + i and sees keys j ≤ offset + i (offset defaults to
 * Tk − Tq: the queries are the newest positions, as in KV-cache decoding). Query head h uses kv
 * head ⌊h / G⌋, as HF's repeat_kv.
 *
 *   e.g. Tq = Tk = 2: query 0 sees key 0; query 1 sees keys 0 and 1.
 */
import { tf } from '../tf.js';
import { TensorGpuError } from '../errors.js';

export interface AttentionOptions {
  /** Absolute position of the first query (default Tk − Tq). */
  offset?: number;
  /** Score scale (default 1/√D). */
  scale?: number;
  /** [B, Tk] with 1 for real keys, 0 for padding (e.g. left-padded prompts). */
  attentionMask?: tf.Tensor;
  /** Apply the causal mask (default true). */
  causal?: boolean;
}

const NEG = -1e30; // finite, so a fully masked row gives uniform weights rather than NaN

export function causalSelfAttention(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, opts: AttentionOptions = {}): tf.Tensor {
  const dims = checkShapes(q, k, v, opts);
  const { B, H, K, Tq, Tk, D } = dims;
  const G = H / K;
  const scale = opts.scale ?? 1 / Math.sqrt(D);
  return tf.tidy(() => {
    const bias = maskBias(dims, opts); // [B|1, 1, G·Tq, Tk]
    const f = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
      const [qi, ki, vi, save] = args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
      const qg = qi.reshape([B, K, G * Tq, D]); // [B, K, G·Tq, D]
      const s = tf.matMul(qg, ki, false, true).mul(scale); // [B, K, G·Tq, Tk]
      const p = tf.softmax(bias ? s.add(bias) : s); // [B, K, G·Tq, Tk]
      const out = tf.matMul(p, vi).reshape([B, H, Tq, D]); // [B, H, Tq, D]
      save([qg, ki, vi, p]);
      return { value: out, gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => attentionGrad(dy, saved, dims, scale) };
    });
    return f(q, k, v) as tf.Tensor;
  });
}

/** dq, dk, dv from dOut [B, H, Tq, D] and the saved qg, k, v, p. */
function attentionGrad(dy: tf.Tensor, saved: tf.Tensor[], dims: Dims, scale: number): tf.Tensor[] {
  const [qg, k, v, p] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
  const { B, H, K, Tq, D } = dims;
  const dOut = dy.reshape([B, K, (H / K) * Tq, D]); // [B, K, G·Tq, D]
  const dv = tf.matMul(p, dOut, true, false); // [B, K, Tk, D]
  const dp = tf.matMul(dOut, v, false, true); // [B, K, G·Tq, Tk]
  const ds = p.mul(dp.sub(dp.mul(p).sum(-1, true))).mul(scale); // [B, K, G·Tq, Tk] softmax backward
  const dq = tf.matMul(ds, k).reshape([B, H, Tq, D]); // [B, H, Tq, D]
  const dk = tf.matMul(ds, qg, true, false); // [B, K, Tk, D]
  return [dq, dk, dv];
}

interface Dims { B: number; H: number; K: number; Tq: number; Tk: number; D: number }

/** Additive mask: 0 where a query may look, −1e30 elsewhere. null when nothing is masked. */
function maskBias(dims: Dims, opts: AttentionOptions): tf.Tensor | null {
  const { B, H, K, Tq, Tk } = dims;
  const G = H / K;
  const offset = opts.offset ?? Tk - Tq;
  let bias: tf.Tensor | null = null;
  if (opts.causal ?? true) {
    const qPos = tf.range(0, Tq, 1, 'int32').add(tf.scalar(offset, 'int32')).reshape([Tq, 1]); // [Tq, 1]
    const kPos = tf.range(0, Tk, 1, 'int32').reshape([1, Tk]); // [1, Tk]
    const causal = tf.where(tf.lessEqual(kPos, qPos), tf.scalar(0), tf.scalar(NEG)); // [Tq, Tk]
    bias = tf.tile(causal, [G, 1]).reshape([1, 1, G * Tq, Tk]); // [1, 1, G·Tq, Tk]
  }
  if (opts.attentionMask) {
    const pad = tf.where(opts.attentionMask.cast('bool'), tf.scalar(0), tf.scalar(NEG)).reshape([B, 1, 1, Tk]); // [B, 1, 1, Tk]
    bias = bias ? bias.add(pad) : pad; // [B, 1, G·Tq, Tk]
  }
  return bias;
}

function checkShapes(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, opts: AttentionOptions): Dims {
  const fail = (msg: string) => {
    throw new TensorGpuError('SHAPE_MISMATCH', `causalSelfAttention: ${msg} (q [${q.shape}], k [${k.shape}], v [${v.shape}]).`);
  };
  if (q.rank !== 4 || k.rank !== 4 || v.rank !== 4) fail('q, k and v must be rank 4: [B, heads, T, D]');
  const [B, H, Tq, D] = q.shape as [number, number, number, number];
  const [Bk, K, Tk, Dk] = k.shape as [number, number, number, number];
  if (Bk !== B || Dk !== D) fail('k must have the batch size and head dim of q');
  if (v.shape.join(',') !== k.shape.join(',')) fail('v must have the shape of k');
  if (H % K !== 0) fail(`query heads (${H}) must be a multiple of kv heads (${K})`);
  if (opts.attentionMask && opts.attentionMask.shape.join(',') !== `${B},${Tk}`) {
    fail(`attentionMask must be [B, Tk] = [${B}, ${Tk}], got [${opts.attentionMask.shape}]`);
  }
  const offset = opts.offset ?? Tk - Tq;
  if (!Number.isInteger(offset) || offset < 0) fail(`offset must be a non-negative integer, got ${offset}`);
  return { B, H, K, Tq, Tk, D };
}
