/**
 * The reference model of DPO-style losses, three ways (TRL's DPOTrainer):
 *
 *   reference: refModel            a frozen copy (its log-probs are detached: no gradient reaches it)
 *   reference: 'adapters-disabled' the policy is a PeftModel: the base with the adapter off, through
 *                                  `policy.withAdaptersDisabled(...)` (TRL's `use_adapter(model, None)`),
 *                                  no second copy of the weights
 *   reference: 'precomputed'       log-probs computed once before training and carried by the batches
 *                                  (TRL's precompute_ref_log_probs / `_precompute_ref_logps`)
 *
 *   const pairs2 = precomputeReferenceLogps(refModel, pairs, { padId: 0, batchSize: 8 });
 *   const src = pairSource(pairs2, { batchSize: 4, seed: 1, padId: 0 });   // batches carry refChosen/refRejected
 *
 * A reference with another vocabulary than the policy, or token ids outside its vocabulary, is
 * AlignError VOCAB_MISMATCH before any work.
 */
import { tf } from '@llm/tensor-gpu';
import type { ModelConfig } from '@llm/transformer';
import { AlignError } from './errors.js';
import { modelLogps, type Runnable, type SequenceLogps } from './logps.js';
import { detach } from './losses/types.js';
import { collatePairs, type PairExample } from './data/batches.js';
import { maskRows, type Rows } from './data/collate.js';

/** A model with a config (vocabSize) and run(): TransformerLM, PeftModel. */
export type ReferenceModel = Runnable & { readonly config: Pick<ModelConfig, 'vocabSize'> };

export type ReferenceSpec = ReferenceModel | 'adapters-disabled' | 'precomputed';

/** Something with PEFT's adapter switch. */
export interface AdapterSwitch {
  withAdaptersDisabled<T>(fn: () => T): T;
}

export const hasAdapters = (m: unknown): m is AdapterSwitch => typeof (m as AdapterSwitch | null)?.withAdaptersDisabled === 'function';

/** VOCAB_MISMATCH unless both models have the same vocabulary size. */
export function checkSameVocab(policy: { config: Pick<ModelConfig, 'vocabSize'> }, reference: { config: Pick<ModelConfig, 'vocabSize'> }, what = 'reference model'): void {
  if (policy.config.vocabSize !== reference.config.vocabSize) {
    throw new AlignError('VOCAB_MISMATCH', `the ${what} has a vocabulary of ${reference.config.vocabSize} tokens and the policy ${policy.config.vocabSize}: log-probs of the same token ids would mean different tokens. Use a ${what} with the policy's tokenizer (usually the SFT checkpoint the policy starts from).`);
  }
}

/** VOCAB_MISMATCH for an id ≥ vocabSize in the batch. */
export function checkIds(ids: Int32Array, vocabSize: number, what: string): void {
  for (const id of ids) {
    if (id >= vocabSize || id < 0) throw new AlignError('VOCAB_MISMATCH', `${what}: token id ${id} is outside the model's vocabulary of ${vocabSize}; the data was tokenized with another tokenizer.`);
  }
}

/**
 * Reference log-probs of a batch's rows, detached. `policy` is the model being trained (for
 * 'adapters-disabled'). inputs/targets [N, T].
 */
export function referenceLogps(spec: Exclude<ReferenceSpec, 'precomputed'>, policy: Runnable, batch: Rows): SequenceLogps {
  const run = (m: Runnable) => {
    const inputs = tf.tensor2d(batch.inputs, [batch.rows, batch.length], 'int32'); // [N, T]
    const targets = tf.tensor2d(batch.targets, [batch.rows, batch.length], 'int32'); // [N, T]
    const r = modelLogps(m, inputs, targets, maskRows(batch), false);
    // intermediates are left to the caller's scope (the loop's tape / tidy): a tape may still hold them
    return { sum: detach(r.sum) as tf.Tensor1D, mean: detach(r.mean) as tf.Tensor1D, count: r.count };
  };
  if (spec === 'adapters-disabled') {
    if (!hasAdapters(policy)) throw new AlignError('CONFIG_INVALID', "reference 'adapters-disabled' needs a PeftModel policy (withAdaptersDisabled); pass a frozen reference model or 'precomputed' instead.");
    return policy.withAdaptersDisabled(() => run(policy));
  }
  return run(spec);
}

/**
 * Runs the reference once over every pair and returns the examples with refChosen / refRejected
 * (response log-prob sums) filled in. Batches in file order; no gradients; frees what it makes.
 */
export function precomputeReferenceLogps(reference: ReferenceModel, examples: readonly PairExample[], opts: { padId: number; batchSize?: number; policy?: { config: Pick<ModelConfig, 'vocabSize'> } }): PairExample[] {
  if (opts.policy) checkSameVocab(opts.policy, reference);
  const bs = opts.batchSize ?? 8;
  if (!(Number.isInteger(bs) && bs >= 1)) throw new AlignError('CONFIG_INVALID', `batchSize must be a positive integer, got ${bs}.`);
  const out: PairExample[] = [];
  for (let s = 0; s < examples.length; s += bs) {
    const chunk = examples.slice(s, s + bs);
    const batch = collatePairs(chunk, opts.padId);
    checkIds(batch.inputs, reference.config.vocabSize, `pairs ${s}…${s + chunk.length - 1} (${chunk[0]!.source})`);
    const sums = tf.tidy(() => {
      const r = referenceLogps(reference, reference, batch);
      return Array.from(r.sum.dataSync());
    });
    chunk.forEach((e, i) => out.push({ ...e, refChosen: sums[i]!, refRejected: sums[chunk.length + i]! }));
  }
  return out;
}
