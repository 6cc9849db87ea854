/**
 * Reward-model, classifier and regressor training as @llm/train Objectives on a HeadModel:
 *
 *   rewardObjective({ centerRewardsCoefficient })   PairBatch → scores of chosen / rejected rows → Bradley–Terry
 *   classifierObjective()                           TextBatch with labels  → cross-entropy (accuracy, f1)
 *   regressorObjective()                            TextBatch with targets → MSE (mse)
 *
 * A reward model scores prompt + response at the last real token (HF/TRL convention), numLabels 1.
 * Dimension legend: B rows, L labels.
 */
import { tf } from '@llm/tensor-gpu';
import type { Objective, TrainableModel } from '@llm/train';
import { AlignError } from '../errors.js';
import { maskRows } from '../data/collate.js';
import type { PairBatch, TextBatch } from '../data/batches.js';
import { rewardLoss } from '../losses/reward.js';
import { classificationLoss, regressionLoss } from '../losses/classification.js';
import { HeadModel } from '../heads/head-model.js';
import { checkIds } from '../reference.js';

function head(model: TrainableModel, what: string, labels?: number): HeadModel {
  if (!(model instanceof HeadModel)) throw new AlignError('INVALID_ARGUMENT', `${what} trains a HeadModel (a SequenceClassifier wrapped for train()); got ${model?.constructor?.name ?? typeof model}.`);
  if (labels !== undefined && model.numLabels !== labels) throw new AlignError('CONFIG_INVALID', `${what} needs a head with ${labels} output${labels > 1 ? 's' : ''}, this one has ${model.numLabels}.`);
  return model;
}

function scores(m: HeadModel, b: { inputs: Int32Array; mask: Uint8Array; rows: number; length: number }, training: boolean): tf.Tensor2D {
  checkIds(b.inputs, m.config.vocabSize, 'batch');
  const ids = tf.tensor2d(b.inputs, [b.rows, b.length], 'int32'); // [N, T]
  return m.scores(ids, { attentionMask: maskRows(b), training }); // [N, L]
}

export function rewardObjective(opts: { centerRewardsCoefficient?: number } = {}): Objective<PairBatch> {
  return {
    loss(model, batch, { training }) {
      const m = head(model, 'rewardObjective', 1);
      const s = scores(m, batch, training).reshape([-1]) as tf.Tensor1D; // [2B]
      const B = batch.pairs;
      return rewardLoss({ chosen: s.slice(0, B) as tf.Tensor1D, rejected: s.slice(B, B) as tf.Tensor1D, ...(batch.margin ? { margin: tf.tensor1d(batch.margin) } : {}) }, opts);
    },
    tokens: (b) => b.tokens,
  };
}

export function classifierObjective(): Objective<TextBatch> {
  return {
    loss(model, batch, { training }) {
      const m = head(model, 'classifierObjective');
      if (!batch.labels) throw new AlignError('INVALID_ARGUMENT', 'classifierObjective: the batch has no labels (classification rows have "label").');
      for (const y of batch.labels) if (y >= m.numLabels) throw new AlignError('DATA_INVALID', `classifierObjective: label ${y} but the head has ${m.numLabels} outputs.`);
      return classificationLoss(scores(m, batch, training), tf.tensor1d(batch.labels, 'int32'));
    },
    tokens: (b) => b.tokens,
  };
}

export function regressorObjective(): Objective<TextBatch> {
  return {
    loss(model, batch, { training }) {
      const m = head(model, 'regressorObjective', 1);
      if (!batch.targets) throw new AlignError('INVALID_ARGUMENT', 'regressorObjective: the batch has no targets (regression rows have "target").');
      return regressionLoss(scores(m, batch, training).reshape([-1]) as tf.Tensor1D, tf.tensor1d(batch.targets));
    },
    tokens: (b) => b.tokens,
  };
}
