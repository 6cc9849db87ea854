/**
 * KTO as an @llm/train Objective over KtoBatches: one [2B, T] forward (the B examples, then their B
 * KL rows), the reference's log-probs of the same rows (a frozen model or 'adapters-disabled'), ktoLoss.
 *
 *   await train(policy, { train: unpairedSource(rows, …) }, config, { objective: ktoObjective({ reference: refModel }) });
 *
 * Precomputed reference log-probs are not offered for KTO: its KL rows pair each prompt with another
 * row of the same batch, which changes every epoch (UNSUPPORTED). Dimension legend: B examples.
 */
import { tf } from '@llm/tensor-gpu';
import type { Objective } from '@llm/train';
import type { KtoBatch } from '../data/batches.js';
import { AlignError } from '../errors.js';
import { ktoLoss, type KtoOptions } from '../losses/kto.js';
import { hasAdapters, referenceLogps } from '../reference.js';
import { makeReferenceCheck, policyLogps, type ReferenceOptions } from './common.js';

export function ktoObjective(opts: KtoOptions & ReferenceOptions = {}): Objective<KtoBatch> {
  if (opts.reference === 'precomputed') throw new AlignError('UNSUPPORTED', "ktoObjective: reference 'precomputed' is not supported (the KL rows change with each batch); pass a frozen reference model or 'adapters-disabled'.");
  const check = makeReferenceCheck(opts);
  return {
    loss(model, batch, { training }) {
      check(model);
      const spec = opts.reference ?? (hasAdapters(model) ? 'adapters-disabled' : null);
      if (spec === null || spec === 'precomputed') throw new AlignError('CONFIG_INVALID', "ktoObjective needs a reference: a frozen model, or 'adapters-disabled' for a PeftModel policy.");
      const B = batch.examples;
      const pol = policyLogps(model, batch, training).sum; // [2B]
      const ref = referenceLogps(spec, model, batch).sum; // [2B]
      const want = (label: number) => tf.tensor1d(Int32Array.from([...batch.labels.keys()].filter((i) => batch.labels[i] === label)), 'int32');
      const c = want(1);
      const r = want(0);
      const pick = (t: tf.Tensor1D, idx: tf.Tensor1D) => (idx.size === 0 ? tf.tensor1d([]) : tf.gather(t, idx)) as tf.Tensor1D;
      return ktoLoss({
        policyChosen: pick(pol, c),
        policyRejected: pick(pol, r),
        refChosen: pick(ref, c),
        refRejected: pick(ref, r),
        policyKL: pol.slice(B, B) as tf.Tensor1D,
        refKL: ref.slice(B, B) as tf.Tensor1D,
      }, opts);
    },
    tokens: (b) => b.tokens,
  };
}
