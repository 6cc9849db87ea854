/**
 * DPO and its pairwise variants on sequence log-probs (TRL `DPOTrainer`, trl/trainer/dpo_trainer.py:
 * `dpo_loss` up to TRL 0.2x, `_compute_loss` since). With Δ = (πc − πr) − (refc − refr):
 *
 *   sigmoid  −(1−ε)·logσ(βΔ) − ε·logσ(−βΔ)          (ε = labelSmoothing: conservative DPO, cDPO; ε = 0 is DPO)
 *   robust   (−(1−ε)·logσ(βΔ) + ε·logσ(−βΔ)) / (1−2ε)  (Robust DPO; ε in [0, 0.5))
 *   hinge    relu(1 − βΔ)                            (SLiC)
 *   ipo      (Δ − 1/(2β))²                           (IPO eq. 17; TRL divides each side's log-ratio by its
 *                                                     completion length, so the caller passes MEAN logps)
 *
 * Metrics (batch means, TRL names): rewards/chosen = β(πc − refc), rewards/rejected = β(πr − refr),
 * rewards/accuracies = share with rewards/chosen > rewards/rejected, rewards/margins, logps/chosen,
 * logps/rejected (policy).
 *
 *   const { loss, metrics } = dpoLoss({ policyChosen, policyRejected, refChosen, refRejected }, { beta: 0.1 });
 *
 * Dimension legend: B pairs.
 */
import { tf } from '@llm/tensor-gpu';
import { AlignError } from '../errors.js';
import { detach, negLogSigmoid, type LossOutput } from './types.js';

export type DpoLossType = 'sigmoid' | 'robust' | 'ipo' | 'hinge';

export interface DpoInputs {
  /** Policy log-probs of the chosen responses [B] (sum; mean for 'ipo'). */
  policyChosen: tf.Tensor1D;
  policyRejected: tf.Tensor1D;
  /** Reference log-probs [B] (no gradient flows into them). */
  refChosen: tf.Tensor1D;
  refRejected: tf.Tensor1D;
}

export interface DpoLossOptions {
  /** β: strength of the implicit KL to the reference (TRL default 0.1). */
  beta?: number;
  lossType?: DpoLossType;
  /** ε: probability a label is flipped (sigmoid: cDPO, robust: Robust DPO). Default 0. */
  labelSmoothing?: number;
}

export function dpoLoss(inputs: DpoInputs, opts: DpoLossOptions = {}): LossOutput {
  const { beta = 0.1, lossType = 'sigmoid', labelSmoothing: eps = 0 } = opts;
  checkPositive('beta', beta);
  if (!['sigmoid', 'robust', 'ipo', 'hinge'].includes(lossType)) throw new AlignError('CONFIG_INVALID', `dpoLoss: lossType must be 'sigmoid', 'robust', 'ipo' or 'hinge', got ${JSON.stringify(lossType)}.`);
  if (!(eps >= 0 && eps < (lossType === 'robust' ? 0.5 : 1))) throw new AlignError('CONFIG_INVALID', `dpoLoss: labelSmoothing must be in [0, ${lossType === 'robust' ? '0.5' : '1'}), got ${eps}.`);
  checkPairShapes('dpoLoss', inputs.policyChosen, inputs.policyRejected, inputs.refChosen, inputs.refRejected);
  return tf.tidy(() => {
    const refC = detach(inputs.refChosen); // [B]
    const refR = detach(inputs.refRejected); // [B]
    const chosenRatio = inputs.policyChosen.sub(refC); // [B]
    const rejectedRatio = inputs.policyRejected.sub(refR); // [B]
    const delta = chosenRatio.sub(rejectedRatio); // [B]
    const z = delta.mul(beta); // [B]
    let losses: tf.Tensor; // [B]
    if (lossType === 'sigmoid') losses = negLogSigmoid(z).mul(1 - eps).add(negLogSigmoid(z.neg()).mul(eps));
    else if (lossType === 'robust') losses = negLogSigmoid(z).mul(1 - eps).sub(negLogSigmoid(z.neg()).mul(eps)).div(1 - 2 * eps);
    else if (lossType === 'hinge') losses = tf.relu(tf.sub(1, z));
    else losses = tf.square(delta.sub(1 / (2 * beta)));
    const metrics = pairMetrics(chosenRatio.mul(beta), rejectedRatio.mul(beta), inputs.policyChosen, inputs.policyRejected);
    return { loss: tf.mean(losses) as tf.Scalar, metrics };
  });
}

/** rewards/* and logps/* of a pair batch (detached). rewards [B] each, logps [B] each. */
export function pairMetrics(chosenRewards: tf.Tensor, rejectedRewards: tf.Tensor, chosenLogps: tf.Tensor, rejectedLogps: tf.Tensor): Record<string, tf.Scalar> {
  return tf.tidy(() => {
    const rc = detach(chosenRewards);
    const rr = detach(rejectedRewards);
    return {
      'rewards/chosen': tf.mean(rc) as tf.Scalar,
      'rewards/rejected': tf.mean(rr) as tf.Scalar,
      'rewards/accuracies': tf.mean(tf.cast(tf.greater(rc, rr), 'float32')) as tf.Scalar,
      'rewards/margins': tf.mean(rc.sub(rr)) as tf.Scalar,
      'logps/chosen': tf.mean(detach(chosenLogps)) as tf.Scalar,
      'logps/rejected': tf.mean(detach(rejectedLogps)) as tf.Scalar,
    };
  });
}

export function checkPositive(name: string, v: number): void {
  if (!(typeof v === 'number' && Number.isFinite(v) && v > 0)) throw new AlignError('CONFIG_INVALID', `${name} must be a positive number, got ${v}.`);
}

/** Every tensor [B] with the same B ≥ 1. */
export function checkPairShapes(what: string, ...ts: tf.Tensor[]): void {
  const B = ts[0]!.shape[0];
  for (const t of ts) {
    if (t.rank !== 1 || t.shape[0] !== B) throw new AlignError('INVALID_ARGUMENT', `${what}: every input must be [B] with the same B, got ${ts.map((x) => `[${x.shape}]`).join(', ')}.`);
  }
  if (!B) throw new AlignError('INVALID_ARGUMENT', `${what}: empty batch.`);
}
