/**
 * Sequence log-probabilities of responses: the quantity every preference loss and every policy
 * gradient starts from. labels are the next-token targets [B, T] with IGNORE_INDEX (−100) on
 * prompt and padding positions, so only response tokens count (TRL's `completion_mask`).
 *
 *   const { sum, mean, count } = sequenceLogps(logits, labels); // sum [B] = Σ log p(y_t | y_<t, x)
 *   // DPO uses sum; IPO, ORPO and SimPO use mean (sum / count)
 *
 * Dimension legend: B rows, T positions, V vocabulary.
 */
import { tf, crossEntropy, IGNORE_INDEX } from '@llm/tensor-gpu';
import type { RunOptions, ModelOutput } from '@llm/transformer';

export interface SequenceLogps {
  /** Σ log p over each row's response tokens [B] (differentiable). */
  sum: tf.Tensor1D;
  /** sum / count [B] (0 for a row with no response token). */
  mean: tf.Tensor1D;
  /** Response tokens per row [B] (host). */
  count: Float32Array;
}

/** Per-token log p(label) [B, T] (0 where the label is IGNORE_INDEX). */
export function tokenLogps(logits: tf.Tensor3D, labels: tf.Tensor2D): tf.Tensor2D {
  return tf.neg(crossEntropy(logits, labels, { reduction: 'none', ignoreIndex: IGNORE_INDEX })) as tf.Tensor2D; // [B, T]
}

/** Response log-probs of each row: logits [B, T, V], labels [B, T] int32 (IGNORE_INDEX outside responses). */
export function sequenceLogps(logits: tf.Tensor3D, labels: tf.Tensor2D): SequenceLogps {
  const lab = labels.dataSync() as Int32Array;
  const [B, T] = labels.shape;
  const count = new Float32Array(B);
  for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) if (lab[b * T + t] !== IGNORE_INDEX) count[b]!++;
  const sum = tokenLogps(logits, labels).sum(1) as tf.Tensor1D; // [B]
  const mean = sum.div(tf.tensor1d(Float32Array.from(count, (c) => Math.max(c, 1)))) as tf.Tensor1D; // [B]
  return { sum, mean, count };
}

/** Anything with a run(ids, opts) like TransformerLM and PeftModel. */
export interface Runnable {
  run(ids: tf.Tensor, opts?: RunOptions): ModelOutput;
}

/** A model's response log-probs on token rows: inputs/labels [B, T] int32, mask rows (1 real, 0 pad). */
export function modelLogps(model: Runnable, inputs: tf.Tensor2D, labels: tf.Tensor2D, attentionMask: number[][] | undefined, training: boolean): SequenceLogps {
  const out = model.run(inputs, { training, ...(attentionMask ? { attentionMask } : {}) });
  out.hidden.dispose();
  out.auxLoss?.dispose();
  const r = sequenceLogps(out.logits!, labels);
  return r;
}
