/**
 * The loop's default loss: next-token cross-entropy over token batches (+ the MoE aux loss;
 * distillation when a teacher's logits are given).
 *
 *   const b = batchTensors(hostBatch);                  // int32 [B, T] inputs and targets, mask rows, tokens
 *   const loss = batchLoss(model, b.inputs, b.targets, b.mask, true, null, cfg);
 */
import { tf, crossEntropy } from '@llm/tensor-gpu';
import type { HostBatch } from '../data/batches.js';
import { distillationLoss } from '../distill.js';
import type { TrainConfig } from './config.js';
import type { TrainableModel } from './model.js';

/** Host batch → tensors (inputs, targets int32 [B, T]) and the mask rows. */
export function batchTensors(b: HostBatch): { inputs: tf.Tensor2D; targets: tf.Tensor2D; mask: number[][] | undefined; tokens: number } {
  const inputs = tf.tensor2d(b.inputs, [b.batch, b.length], 'int32');
  const targets = tf.tensor2d(b.targets, [b.batch, b.length], 'int32');
  let mask: number[][] | undefined;
  let tokens = b.batch * b.length;
  if (b.mask) {
    const m = b.mask;
    mask = Array.from({ length: b.batch }, (_, i) => Array.from(m.subarray(i * b.length, (i + 1) * b.length)));
    tokens = m.reduce((a, x) => a + x, 0);
  }
  return { inputs, targets, mask, tokens };
}

/** Mean next-token loss of one batch (+ MoE aux loss; distillation when a teacher is given). */
export function batchLoss(model: TrainableModel, inputs: tf.Tensor2D, targets: tf.Tensor2D, mask: number[][] | undefined, training: boolean, teacherLogits: tf.Tensor | null, cfg: TrainConfig): tf.Scalar {
  const out = model.run(inputs, { training, ...(mask ? { attentionMask: mask } : {}) });
  out.hidden.dispose();
  const loss = teacherLogits
    ? distillationLoss(out.logits!, teacherLogits, targets, { temperature: cfg.distillTemperature, alpha: cfg.distillAlpha })
    : (crossEntropy(out.logits!, targets) as tf.Scalar);
  return out.auxLoss ? loss.add(out.auxLoss.mul(model.config.routerAuxLossCoef)) : loss;
}
