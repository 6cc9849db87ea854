/**
 * Rotary position embeddings in HF's "rotate_half" layout: a head vector's first half and second
 * half form the (x1, x2) pairs (llama2.c's adjacent-pair layout needs its q/k rows permuted).
 *
 *   inv_freq[i] = theta^(−2i/D),  angle[t, i] = (offset + t) · inv_freq[i]   (i < D/2)
 *   rope(x)[.., :D/2] = x1·cos − x2·sin,  rope(x)[.., D/2:] = x2·cos + x1·sin
 *
 *   const { cos, sin } = ropeTables({ positions: 8, headDim: 64, theta: 10000 }); // [8, 32] each
 *   const qr = applyRope(q, cos, sin);   // q [B, H, T, D] with T ≤ 8 → [B, H, T, D]
 */
import { tf } from '../tf.js';
import { TensorGpuError } from '../errors.js';

export interface RopeConfig {
  /** How many positions to tabulate. */
  positions: number;
  /** Head dim D (even). */
  headDim: number;
  /** Base (default 10000). */
  theta?: number;
  /** First position (default 0). */
  offset?: number;
}

/**
 * cos and sin tables [T, D/2]. The angles are rounded to float32 the way HF computes them
 * (inv_freq and position × inv_freq in float32), so long contexts match HF's logits.
 */
export function ropeTables(cfg: RopeConfig): { cos: tf.Tensor2D; sin: tf.Tensor2D } {
  const { positions: T, headDim: D, theta = 10000, offset = 0 } = cfg;
  if (D % 2 !== 0) throw new TensorGpuError('INVALID_ARGUMENT', `ropeTables: headDim must be even, got ${D}.`);
  const half = D / 2;
  const cos = new Float32Array(T * half);
  const sin = new Float32Array(T * half);
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < half; i++) {
      const invFreq = Math.fround(1 / Math.fround(Math.pow(theta, Math.fround((2 * i) / D))));
      const angle = Math.fround((offset + t) * invFreq);
      cos[t * half + i] = Math.cos(angle);
      sin[t * half + i] = Math.sin(angle);
    }
  }
  return { cos: tf.tensor2d(cos, [T, half]), sin: tf.tensor2d(sin, [T, half]) };
}

/**
 * Rotate x [.., T, D] by tables. Rank-2 tables [≥T, D/2] are indexed by time (their leading T
 * rows are used); higher-rank tables (e.g. [B, 1, T, D/2], gathered per row for left-padded
 * batches) must already broadcast against x's [.., T, D/2] halves.
 */
export function applyRope(x: tf.Tensor, cos: tf.Tensor, sin: tf.Tensor): tf.Tensor {
  const D = x.shape[x.rank - 1]!;
  const T = x.shape[x.rank - 2]!;
  const aligned = cos.rank > 2;
  const rows = cos.shape[cos.rank - 2]!;
  if (cos.shape[cos.rank - 1] !== D / 2 || (aligned ? rows !== T : rows < T) || cos.shape.join() !== sin.shape.join()) {
    throw new TensorGpuError('SHAPE_MISMATCH', `applyRope: tables [${cos.shape}] / [${sin.shape}] do not cover x [${x.shape}] (need [${aligned ? '.., ' + T : '≥' + T}, ${D / 2}]).`);
  }
  return tf.tidy(() => {
    const c = aligned ? cos : cos.slice([0, 0], [T, D / 2]); // [.., T, D/2]
    const s = aligned ? sin : sin.slice([0, 0], [T, D / 2]); // [.., T, D/2]
    const [x1, x2] = tf.split(x, 2, -1) as [tf.Tensor, tf.Tensor]; // [.., T, D/2] each
    return tf.concat([x1.mul(c).sub(x2.mul(s)), x2.mul(c).add(x1.mul(s))], -1); // [.., T, D]
  });
}
