/**
 * Normalizations over the last axis (C), as GPT-2 and Llama use them.
 *
 *   layerNorm(x [.., C], gamma [C], beta [C] | null, eps = 1e-5)
 *     = (x − mean) / √(var + eps) · gamma + beta      (biased variance, as torch.nn.LayerNorm)
 *   rmsNorm(x [.., C], weight [C], eps = 1e-6)
 *     = x / √(mean(x²) + eps) · weight                 (as HF LlamaRMSNorm)
 *
 *   e.g. layerNorm([1, 3], [1, 1], [0, 0]) ≈ [−1, 1]; rmsNorm([3, 4], [1, 1]) ≈ [0.8485, 1.1314]
 */
import { tf } from '../tf.js';

export function layerNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor | null, eps = 1e-5): tf.Tensor {
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(x, -1, true); // [.., 1]
    const y = x.sub(mean).mul(tf.rsqrt(variance.add(eps))).mul(gamma); // [.., C]
    return beta ? y.add(beta) : y;
  });
}

export function rmsNorm(x: tf.Tensor, weight: tf.Tensor, eps = 1e-6): tf.Tensor {
  return tf.tidy(() => {
    const ms = x.square().mean(-1, true); // [.., 1]
    return x.mul(tf.rsqrt(ms.add(eps))).mul(weight); // [.., C]
  });
}
