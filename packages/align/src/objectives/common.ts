/**
 * What the objectives share: batch tensors, the policy's log-probs of a [2B, T] pair batch and the
 * reference's, split into chosen (rows 0…B−1) and rejected (rows B…2B−1).
 *
 * Dimension legend: B pairs, T positions.
 */
import { tf } from '@llm/tensor-gpu';
import type { TrainableModel } from '@llm/train';
import { AlignError } from '../errors.js';
import { modelLogps, type SequenceLogps } from '../logps.js';
import { maskRows } from '../data/collate.js';
import type { PairBatch } from '../data/batches.js';
import { checkIds, checkSameVocab, hasAdapters, referenceLogps, type ReferenceSpec } from '../reference.js';

export interface ReferenceOptions {
  /**
   * The reference: a frozen model, 'adapters-disabled' (PeftModel policy), or 'precomputed' (batches carry
   * it). Default: 'precomputed' when the batch carries reference log-probs, else 'adapters-disabled' for a
   * policy with adapters, else CONFIG_INVALID.
   */
  reference?: ReferenceSpec;
  /** The policy, to check the reference's vocabulary when the objective is made (else at the first batch). */
  policy?: TrainableModel;
}

export interface Split {
  chosen: tf.Tensor1D; // [B]
  rejected: tf.Tensor1D; // [B]
}

export const split = (t: tf.Tensor1D, B: number): Split => ({ chosen: t.slice(0, B) as tf.Tensor1D, rejected: t.slice(B, B) as tf.Tensor1D });

/** Policy log-probs of the batch rows (with gradient when training). */
export function policyLogps(model: TrainableModel, batch: { inputs: Int32Array; targets: Int32Array; mask: Uint8Array; rows: number; length: number }, training: boolean): SequenceLogps {
  checkIds(batch.inputs, model.config.vocabSize, 'batch');
  const inputs = tf.tensor2d(batch.inputs, [batch.rows, batch.length], 'int32'); // [2B, T]
  const targets = tf.tensor2d(batch.targets, [batch.rows, batch.length], 'int32'); // [2B, T]
  return modelLogps(model, inputs, targets, maskRows(batch), training);
}

/** Checks a reference spec against a policy (vocabulary), once. */
export function makeReferenceCheck(opts: ReferenceOptions): (policy: TrainableModel) => void {
  const ref = opts.reference;
  const checked = new WeakSet<object>();
  const check = (policy: TrainableModel) => {
    if (checked.has(policy)) return;
    if (ref !== undefined && typeof ref === 'object') checkSameVocab(policy, ref);
    if (ref === 'adapters-disabled' && !hasAdapters(policy)) throw new AlignError('CONFIG_INVALID', "reference 'adapters-disabled' needs a PeftModel policy (withAdaptersDisabled); pass a frozen reference model or 'precomputed'.");
    checked.add(policy);
  };
  if (opts.policy) check(opts.policy);
  return check;
}

/**
 * Reference log-prob sums [2B] of a pair batch, and means [2B] (sum / response tokens, for IPO),
 * detached. `counts` are the policy's response-token counts (the same rows).
 */
export function pairReference(spec: ReferenceSpec | undefined, policy: TrainableModel, batch: PairBatch, counts: Float32Array): { sum: tf.Tensor1D; mean: tf.Tensor1D } {
  const mode = spec ?? (batch.refChosen ? 'precomputed' : hasAdapters(policy) ? 'adapters-disabled' : null);
  if (mode === null) throw new AlignError('CONFIG_INVALID', "this objective needs a reference: pass `reference` (a frozen model, 'adapters-disabled' for a PeftModel policy) or precompute it (precomputeReferenceLogps).");
  if (mode === 'precomputed') {
    if (!batch.refChosen || !batch.refRejected) throw new AlignError('CONFIG_INVALID', "reference 'precomputed': the batch carries no reference log-probs; run precomputeReferenceLogps on the examples first.");
    const sum = tf.tensor1d(Float32Array.from([...batch.refChosen, ...batch.refRejected])); // [2B]
    return { sum, mean: sum.div(tf.tensor1d(Float32Array.from(counts, (c) => Math.max(c, 1)))) as tf.Tensor1D };
  }
  const r = referenceLogps(mode, policy, batch);
  return { sum: r.sum, mean: r.mean };
}
