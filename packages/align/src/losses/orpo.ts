/**
 * ORPO (TRL `ORPOTrainer.odds_ratio_loss`, trl/experimental/orpo/orpo_trainer.py; Hong et al. 2024,
 * eqs. 4 and 7): reference-free, on MEAN response log-probs lc, lr (so p = exp(l) ∈ (0, 1)):
 *
 *   log_odds = (lc − lr) − (log(1 − e^lc) − log(1 − e^lr))
 *   loss     = nll − β · mean(logσ(log_odds))            (nll: SFT cross-entropy on the chosen tokens)
 *
 * Metrics (TRL names): rewards/chosen = β·lc, rewards/rejected = β·lr, rewards/accuracies,
 * rewards/margins, logps/chosen, logps/rejected (mean logps), nll_loss, log_odds_ratio
 * (= mean logσ(log_odds)), log_odds_chosen (= mean log_odds).
 *
 *   orpoLoss({ chosenMeanLogps, rejectedMeanLogps, chosenNll }, { beta: 0.1 });
 *
 * Dimension legend: B pairs.
 */
import { tf } from '@llm/tensor-gpu';
import { checkPairShapes, checkPositive, pairMetrics } from './dpo.js';
import { detach, negLogSigmoid, type LossOutput } from './types.js';

export interface OrpoInputs {
  chosenMeanLogps: tf.Tensor1D;
  rejectedMeanLogps: tf.Tensor1D;
  /** Mean next-token cross-entropy over the chosen responses' tokens (a scalar). */
  chosenNll: tf.Scalar;
}

/**
 * log(1 − e^x) for x < 0 (TRL: torch.log1p(−exp(x))). Written as log(−expm1(x)), accurate near 0 where
 * log1p(−exp(x)) loses every digit, and within float32 rounding of 0 for very negative x.
 */
export function log1mexp(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.log(tf.neg(tf.expm1(tf.minimum(x, -1e-7))))); // a mean log-prob is < 0; keep it there
}

export function orpoLoss(inputs: OrpoInputs, opts: { beta?: number } = {}): LossOutput {
  const { beta = 0.1 } = opts;
  checkPositive('beta', beta);
  checkPairShapes('orpoLoss', inputs.chosenMeanLogps, inputs.rejectedMeanLogps);
  return tf.tidy(() => {
    const lc = inputs.chosenMeanLogps; // [B]
    const lr = inputs.rejectedMeanLogps; // [B]
    const logOdds = lc.sub(lr).sub(log1mexp(lc).sub(log1mexp(lr))); // [B]
    const ratio = tf.neg(negLogSigmoid(logOdds)); // [B] logσ(log_odds)
    const loss = inputs.chosenNll.sub(tf.mean(ratio).mul(beta)) as tf.Scalar;
    const metrics = {
      ...pairMetrics(lc.mul(beta), lr.mul(beta), lc, lr),
      nll_loss: detach(inputs.chosenNll) as tf.Scalar,
      log_odds_ratio: tf.mean(detach(ratio)) as tf.Scalar,
      log_odds_chosen: tf.mean(detach(logOdds)) as tf.Scalar,
    };
    return { loss, metrics };
  });
}
