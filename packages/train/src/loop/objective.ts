/**
 * A training objective: the loss of one micro-batch of any kind, with named metrics. The loop's
 * default is next-token cross-entropy over token batches (pretraining, SFT); preference, reward
 * and RL losses (@llm/align) bring their own batches and objective and get the same loop:
 * gradient accumulation, clipping, AdamW, evaluation, checkpoints, exact resume, metrics.jsonl.
 *
 *   const dpo: Objective<PairBatch> = {
 *     loss: (model, batch, { training }) => ({ loss, metrics: { 'rewards/chosen': rc, 'rewards/margins': m } }),
 *     tokens: (batch) => batch.tokens,
 *   };
 *   await train(model, { train: pairs, val: heldOut }, config, { objective: dpo });
 *
 * Metrics are scalars (tensors or numbers) averaged over the micro-batches of a step (and over the
 * evaluation batches, logged with an `eval_` prefix as TRL does). The loss is minimized.
 */
import type { tf } from '@llm/tensor-gpu';
import type { TrainableModel } from './model.js';

export interface ObjectiveResult {
  /** Scalar to minimize (computed inside the gradient tape during training). */
  loss: tf.Scalar;
  /** Named scalars to log (e.g. TRL's rewards/chosen); tensors are read after the step and freed. */
  metrics?: Record<string, tf.Scalar | number>;
}

export interface Objective<B = unknown> {
  loss(model: TrainableModel, batch: B, ctx: { training: boolean }): ObjectiveResult;
  /** Tokens a batch holds (for tokens/s and the run's token count). Default 0. */
  tokens?(batch: B): number;
  /** Free whatever a batch holds on the device (called after its step). */
  release?(batch: B): void;
}
