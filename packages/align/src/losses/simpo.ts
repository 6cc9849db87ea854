/**
 * SimPO (TRL `CPOTrainer.cpo_loss` with loss_type "simpo", trl/experimental/cpo/cpo_trainer.py;
 * Meng et al. 2024): reference-free, on MEAN response log-probs (CPO computes them with
 * average_log_prob for "simpo"). With gamma_logratios = γ/β and logits = (lc − lr) − γ/β:
 *
 *   loss = mean( −(1−ε)·logσ(β·logits) − ε·logσ(−β·logits) )   = −logσ(β(lc − lr) − γ) when ε = 0
 *
 * TRL adds cpo_alpha · nll (default 1 in CPOConfig; 0 gives pure SimPO): the objective's `cpoAlpha`
 * option does that, not this function. Metrics as DPO's with rewards = β·mean logps.
 *
 *   simpoLoss({ chosenMeanLogps, rejectedMeanLogps }, { beta: 2, gamma: 0.5 });
 *
 * Dimension legend: B pairs.
 */
import { tf } from '@llm/tensor-gpu';
import { AlignError } from '../errors.js';
import { checkPairShapes, checkPositive, pairMetrics } from './dpo.js';
import { negLogSigmoid, type LossOutput } from './types.js';

export interface SimpoOptions {
  /** β (SimPO paper default 2.0; TRL CPOConfig's 0.1). */
  beta?: number;
  /** γ: target reward margin (TRL simpo_gamma, default 0.5). */
  gamma?: number;
  labelSmoothing?: number;
}

export function simpoLoss(inputs: { chosenMeanLogps: tf.Tensor1D; rejectedMeanLogps: tf.Tensor1D }, opts: SimpoOptions = {}): LossOutput {
  const { beta = 2.0, gamma = 0.5, labelSmoothing: eps = 0 } = opts;
  checkPositive('beta', beta);
  if (!Number.isFinite(gamma)) throw new AlignError('CONFIG_INVALID', `simpoLoss: gamma must be a finite number, got ${gamma}.`);
  if (!(eps >= 0 && eps < 1)) throw new AlignError('CONFIG_INVALID', `simpoLoss: labelSmoothing must be in [0, 1), got ${eps}.`);
  checkPairShapes('simpoLoss', inputs.chosenMeanLogps, inputs.rejectedMeanLogps);
  return tf.tidy(() => {
    const lc = inputs.chosenMeanLogps; // [B]
    const lr = inputs.rejectedMeanLogps; // [B]
    const z = lc.sub(lr).sub(gamma / beta).mul(beta); // [B]
    const losses = negLogSigmoid(z).mul(1 - eps).add(negLogSigmoid(z.neg()).mul(eps)); // [B]
    return { loss: tf.mean(losses) as tf.Scalar, metrics: pairMetrics(lc.mul(beta), lr.mul(beta), lc, lr) };
  });
}
