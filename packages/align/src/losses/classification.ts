/**
 * Sequence classification and regression losses (HF *ForSequenceClassification's: cross-entropy for
 * numLabels > 1, MSE for a single output) with their metrics.
 *
 *   classificationLoss(logits, labels)  // loss = mean CE; metrics accuracy, f1 (macro, sklearn's: over the
 *                                       // classes present in labels or predictions)
 *   regressionLoss(pred, target)        // loss = mean (pred − target)²; metrics mse
 *
 * Dimension legend: B rows, L labels.
 */
import { tf } from '@llm/tensor-gpu';
import { AlignError } from '../errors.js';
import type { LossOutput } from './types.js';

export function classificationLoss(logits: tf.Tensor2D, labels: tf.Tensor1D): LossOutput {
  const [B, L] = logits.shape;
  if (logits.rank !== 2 || labels.rank !== 1 || labels.shape[0] !== B || B === 0) throw new AlignError('INVALID_ARGUMENT', `classificationLoss: logits must be [B, L] and labels [B], got [${logits.shape}] and [${labels.shape}].`);
  const y = labels.dataSync() as Int32Array;
  for (const v of y) if (!(Number.isInteger(v) && v >= 0 && v < L)) throw new AlignError('INVALID_ARGUMENT', `classificationLoss: label ${v} is outside [0, ${L}).`);
  return tf.tidy(() => {
    const logp = tf.logSoftmax(logits); // [B, L]
    const onehot = tf.oneHot(tf.cast(labels, 'int32'), L); // [B, L]
    const loss = tf.neg(tf.mean(tf.sum(logp.mul(onehot), 1))) as tf.Scalar;
    const pred = tf.argMax(logits, 1).dataSync() as Int32Array; // [B] host
    const { accuracy, f1 } = accuracyAndMacroF1(y, pred);
    return { loss, metrics: { accuracy: tf.scalar(accuracy), f1: tf.scalar(f1) } };
  });
}

export function regressionLoss(pred: tf.Tensor1D, target: tf.Tensor1D): LossOutput {
  if (pred.rank !== 1 || target.rank !== 1 || pred.shape[0] !== target.shape[0] || pred.shape[0] === 0) throw new AlignError('INVALID_ARGUMENT', `regressionLoss: pred and target must be [B] with the same B, got [${pred.shape}] and [${target.shape}].`);
  return tf.tidy(() => {
    const loss = tf.mean(tf.squaredDifference(pred, target)) as tf.Scalar;
    return { loss, metrics: { mse: loss.clone() } };
  });
}

/** Host accuracy and macro F1 (per class 2·tp / (2·tp + fp + fn), averaged over classes seen in y or pred). */
export function accuracyAndMacroF1(y: ArrayLike<number>, pred: ArrayLike<number>): { accuracy: number; f1: number } {
  const classes = new Set<number>();
  let correct = 0;
  for (let i = 0; i < y.length; i++) {
    classes.add(y[i]!), classes.add(pred[i]!);
    if (y[i] === pred[i]) correct++;
  }
  let f1 = 0;
  for (const c of classes) {
    let tp = 0, fp = 0, fn = 0;
    for (let i = 0; i < y.length; i++) {
      if (pred[i] === c && y[i] === c) tp++;
      else if (pred[i] === c) fp++;
      else if (y[i] === c) fn++;
    }
    f1 += tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
  }
  return { accuracy: y.length ? correct / y.length : 0, f1: classes.size ? f1 / classes.size : 0 };
}
