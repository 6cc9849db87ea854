/**
 * What every loss returns: the scalar to minimize and TRL's logged metrics (batch means).
 *
 *   const { loss, metrics } = dpoLoss({ policyChosen, policyRejected, refChosen, refRejected });
 *   metrics['rewards/accuracies'].dataSync()[0]; // share of rows whose implicit reward prefers chosen
 */
import { tf } from '@llm/tensor-gpu';

export interface LossOutput {
  loss: tf.Scalar;
  metrics: Record<string, tf.Scalar>;
}

/** −log σ(x) = softplus(−x), stable for large |x|. */
export function negLogSigmoid(x: tf.Tensor): tf.Tensor {
  return tf.softplus(tf.neg(x));
}

/** Mean of a [N] tensor, 0 when N = 0 (TRL skips empty sides; we log 0). */
export function meanOrZero(x: tf.Tensor): tf.Scalar {
  return x.size === 0 ? tf.scalar(0) : (tf.mean(x) as tf.Scalar);
}

/** The value of x with a zero gradient (PyTorch's `.detach()`; tfjs has no stopGradient). */
export const detach = tf.customGrad(((x: tf.Tensor) => ({
  value: x.clone(),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
})) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (x: tf.Tensor) => tf.Tensor;
