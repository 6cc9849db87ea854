/**
 * DPO, IPO, SimPO and ORPO as @llm/train Objectives over PairBatches: one concatenated [2B, T]
 * forward of the policy (TRL's concatenated_forward), `sequenceLogps` of the response tokens, the
 * reference's log-probs (not for SimPO and ORPO, which are reference-free), the loss.
 *
 *   await train(policy, { train: pairSource(pairs, …), val }, config, { objective: dpoObjective({ beta: 0.1, reference: refModel }) });
 *   await train(peft, data, config, { objective: dpoObjective({ reference: 'adapters-disabled' }) });
 *
 * Logged (TRL names): rewards/chosen, rewards/rejected, rewards/accuracies, rewards/margins,
 * logps/chosen, logps/rejected (+ ORPO's nll_loss, log_odds_ratio, log_odds_chosen; SimPO with
 * cpoAlpha > 0: nll_loss). Dimension legend: B pairs.
 */
import { tf } from '@llm/tensor-gpu';
import type { Objective } from '@llm/train';
import type { PairBatch } from '../data/batches.js';
import { dpoLoss, type DpoLossOptions } from '../losses/dpo.js';
import { orpoLoss } from '../losses/orpo.js';
import { simpoLoss, type SimpoOptions } from '../losses/simpo.js';
import { AlignError } from '../errors.js';
import { makeReferenceCheck, pairReference, policyLogps, split, type ReferenceOptions } from './common.js';

const tokens = (b: PairBatch) => b.tokens;

export type DpoObjectiveOptions = DpoLossOptions & ReferenceOptions;

/** DPO (sigmoid / robust / hinge on summed logps; 'ipo' on mean logps, as TRL). */
export function dpoObjective(opts: DpoObjectiveOptions = {}): Objective<PairBatch> {
  const check = makeReferenceCheck(opts);
  const ipo = opts.lossType === 'ipo';
  tf.tidy(() => void dpoLoss({ policyChosen: tf.tensor1d([0]), policyRejected: tf.tensor1d([0]), refChosen: tf.tensor1d([0]), refRejected: tf.tensor1d([0]) }, opts)); // options checked now
  return {
    loss(model, batch, { training }) {
      check(model);
      const pol = policyLogps(model, batch, training);
      const ref = pairReference(opts.reference, model, batch, pol.count);
      const p = split(ipo ? pol.mean : pol.sum, batch.pairs);
      const r = split(ipo ? ref.mean : ref.sum, batch.pairs);
      return dpoLoss({ policyChosen: p.chosen, policyRejected: p.rejected, refChosen: r.chosen, refRejected: r.rejected }, opts);
    },
    tokens,
  };
}

/** IPO = DPO with lossType 'ipo' (TRL: mean log-probs, (Δ − 1/(2β))²). */
export function ipoObjective(opts: Omit<DpoObjectiveOptions, 'lossType' | 'labelSmoothing'> = {}): Objective<PairBatch> {
  return dpoObjective({ ...opts, lossType: 'ipo' });
}

/** Mean next-token cross-entropy over the chosen responses' tokens (TRL's policy_nll_loss). sums [B], counts [B]. */
function chosenNll(chosenSums: tf.Tensor1D, counts: Float32Array, B: number): tf.Scalar {
  let n = 0;
  for (let i = 0; i < B; i++) n += counts[i]!;
  return chosenSums.sum().neg().div(Math.max(n, 1)) as tf.Scalar;
}

/** ORPO: reference-free; loss = NLL(chosen) − β·mean logσ(log odds ratio) on mean logps. */
export function orpoObjective(opts: { beta?: number } = {}): Objective<PairBatch> {
  return {
    loss(model, batch, { training }) {
      const pol = policyLogps(model, batch, training);
      const m = split(pol.mean, batch.pairs);
      const nll = chosenNll(split(pol.sum, batch.pairs).chosen, pol.count, batch.pairs);
      return orpoLoss({ chosenMeanLogps: m.chosen, rejectedMeanLogps: m.rejected, chosenNll: nll }, opts);
    },
    tokens,
  };
}

export interface SimpoObjectiveOptions extends SimpoOptions {
  /** Weight of the NLL term TRL's CPOTrainer adds (cpo_alpha; CPOConfig default 1). Default 0: pure SimPO. */
  cpoAlpha?: number;
}

/** SimPO: reference-free, length-normalized margin loss (TRL CPOTrainer loss_type "simpo"). */
export function simpoObjective(opts: SimpoObjectiveOptions = {}): Objective<PairBatch> {
  const alpha = opts.cpoAlpha ?? 0;
  if (!(Number.isFinite(alpha) && alpha >= 0)) throw new AlignError('CONFIG_INVALID', `cpoAlpha must be ≥ 0, got ${alpha}.`);
  return {
    loss(model, batch, { training }) {
      const pol = policyLogps(model, batch, training);
      const m = split(pol.mean, batch.pairs);
      const out = simpoLoss({ chosenMeanLogps: m.chosen, rejectedMeanLogps: m.rejected }, opts);
      if (alpha === 0) return out;
      const nll = chosenNll(split(pol.sum, batch.pairs).chosen, pol.count, batch.pairs);
      return { loss: out.loss.add(nll.mul(alpha)) as tf.Scalar, metrics: { ...out.metrics, nll_loss: nll } };
    },
    tokens,
  };
}
