/**
 * Bradley–Terry reward-model loss (TRL `RewardTrainer.compute_loss`, trl/trainer/reward_trainer.py):
 *
 *   loss = −mean(logσ(rc − rr − margin)) + centerRewardsCoefficient · mean((rc + rr)²)
 *
 * `margin` is per pair (TRL's optional "margin" column); the centering term (Eisenstein et al. 2023)
 * only when a coefficient is given. Metrics: accuracy (rc > rr), margin (mean rc − rr), mean_reward,
 * min_reward, max_reward (TRL's RewardTrainer names) and rewards/chosen, rewards/rejected,
 * rewards/margins (the DPO family's names, for one table).
 *
 *   rewardLoss({ chosen: rc, rejected: rr }, { centerRewardsCoefficient: 0.01 });
 *
 * Dimension legend: B pairs.
 */
import { tf } from '@llm/tensor-gpu';
import { AlignError } from '../errors.js';
import { checkPairShapes } from './dpo.js';
import { detach, negLogSigmoid, type LossOutput } from './types.js';

export interface RewardInputs {
  chosen: tf.Tensor1D; // [B]
  rejected: tf.Tensor1D; // [B]
  margin?: tf.Tensor1D; // [B]
}

export function rewardLoss(inputs: RewardInputs, opts: { centerRewardsCoefficient?: number } = {}): LossOutput {
  const coef = opts.centerRewardsCoefficient;
  if (coef !== undefined && !(Number.isFinite(coef) && coef >= 0)) throw new AlignError('CONFIG_INVALID', `rewardLoss: centerRewardsCoefficient must be ≥ 0, got ${coef}.`);
  checkPairShapes('rewardLoss', inputs.chosen, inputs.rejected, ...(inputs.margin ? [inputs.margin] : []));
  return tf.tidy(() => {
    const rc = inputs.chosen;
    const rr = inputs.rejected;
    let diff = rc.sub(rr); // [B]
    if (inputs.margin) diff = diff.sub(inputs.margin);
    let loss = tf.mean(negLogSigmoid(diff)) as tf.Scalar;
    if (coef) loss = loss.add(tf.mean(tf.square(rc.add(rr))).mul(coef)) as tf.Scalar;
    const c = detach(rc);
    const r = detach(rr);
    const all = tf.concat([c, r]); // [2B]
    const margins = tf.mean(c.sub(r)) as tf.Scalar;
    const metrics = {
      accuracy: tf.mean(tf.cast(tf.greater(c, r), 'float32')) as tf.Scalar,
      margin: margins,
      mean_reward: tf.mean(all) as tf.Scalar,
      min_reward: tf.min(all) as tf.Scalar,
      max_reward: tf.max(all) as tf.Scalar,
      'rewards/chosen': tf.mean(c) as tf.Scalar,
      'rewards/rejected': tf.mean(r) as tf.Scalar,
      'rewards/margins': margins.clone(),
    };
    return { loss, metrics };
  });
}
