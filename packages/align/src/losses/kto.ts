/**
 * KTO (TRL `KTOTrainer.kto_loss`, trl/trainer/kto_trainer.py; Ethayarajh et al. 2024, eq. 7) on
 * unpaired examples: Nc desirable and Nr undesirable completions (either may be 0), plus M
 * mismatched (prompt, completion) pairs for the KL estimate (TRL's KL dataset):
 *
 *   kl       = max(0, mean(policyKL − refKL))   detached (0 when M = 0, TRL's calculate_KL off)
 *   chosen   = desirableWeight   · (1 − σ(β((πc − refc) − kl)))
 *   rejected = undesirableWeight · (1 − σ(β(kl − (πr − refr))))
 *   loss     = mean over all Nc + Nr rows of [chosen; rejected]
 *
 * Metrics: kl; and for a side with rows, rewards/chosen (mean β(πc − refc)), logps/chosen, count/chosen
 * (likewise /rejected), and rewards/margins = rewards/chosen − rewards/rejected when both sides have
 * rows. TRL logs `*_sum` and `count/*` and divides at log time (`KTOTrainer.log`), which gives these
 * means; a side with no rows logs nothing, as TRL.
 *
 *   ktoLoss({ policyChosen, policyRejected, refChosen, refRejected, policyKL, refKL }, { beta: 0.1 });
 *
 * Dimension legend: Nc desirable rows, Nr undesirable rows, M KL rows.
 */
import { tf } from '@llm/tensor-gpu';
import { AlignError } from '../errors.js';
import { checkPositive } from './dpo.js';
import { detach, type LossOutput } from './types.js';

export interface KtoInputs {
  policyChosen: tf.Tensor1D; // [Nc]
  policyRejected: tf.Tensor1D; // [Nr]
  refChosen: tf.Tensor1D; // [Nc]
  refRejected: tf.Tensor1D; // [Nr]
  policyKL: tf.Tensor1D; // [M]
  refKL: tf.Tensor1D; // [M]
}

export interface KtoOptions {
  beta?: number;
  desirableWeight?: number;
  undesirableWeight?: number;
}

export function ktoLoss(inputs: KtoInputs, opts: KtoOptions = {}): LossOutput {
  const { beta = 0.1, desirableWeight = 1, undesirableWeight = 1 } = opts;
  checkPositive('beta', beta);
  checkPositive('desirableWeight', desirableWeight);
  checkPositive('undesirableWeight', undesirableWeight);
  const same = (a: tf.Tensor, b: tf.Tensor, what: string) => {
    if (a.rank !== 1 || b.rank !== 1 || a.shape[0] !== b.shape[0]) throw new AlignError('INVALID_ARGUMENT', `ktoLoss: policy and reference ${what} must both be [N] with the same N, got [${a.shape}] and [${b.shape}].`);
  };
  same(inputs.policyChosen, inputs.refChosen, 'chosen');
  same(inputs.policyRejected, inputs.refRejected, 'rejected');
  same(inputs.policyKL, inputs.refKL, 'KL');
  const Nc = inputs.policyChosen.shape[0];
  const Nr = inputs.policyRejected.shape[0];
  if (Nc + Nr === 0) throw new AlignError('INVALID_ARGUMENT', 'ktoLoss: no desirable and no undesirable rows.');
  return tf.tidy(() => {
    const kl = inputs.policyKL.shape[0] === 0 ? tf.scalar(0) : tf.maximum(detach(tf.mean(inputs.policyKL.sub(detach(inputs.refKL)))), 0); // []
    const parts: tf.Tensor[] = [];
    const metrics: Record<string, tf.Scalar> = { kl: kl as tf.Scalar };
    if (Nc > 0) {
      const ratio = inputs.policyChosen.sub(detach(inputs.refChosen)); // [Nc]
      parts.push(tf.sub(1, tf.sigmoid(ratio.sub(kl).mul(beta))).mul(desirableWeight));
      metrics['rewards/chosen'] = tf.mean(detach(ratio)).mul(beta) as tf.Scalar;
      metrics['logps/chosen'] = tf.mean(detach(inputs.policyChosen)) as tf.Scalar;
      metrics['count/chosen'] = tf.scalar(Nc);
    }
    if (Nr > 0) {
      const ratio = inputs.policyRejected.sub(detach(inputs.refRejected)); // [Nr]
      parts.push(tf.sub(1, tf.sigmoid(tf.sub(kl, ratio).mul(beta))).mul(undesirableWeight));
      metrics['rewards/rejected'] = tf.mean(detach(ratio)).mul(beta) as tf.Scalar;
      metrics['logps/rejected'] = tf.mean(detach(inputs.policyRejected)) as tf.Scalar;
      metrics['count/rejected'] = tf.scalar(Nr);
    }
    if (Nc > 0 && Nr > 0) metrics['rewards/margins'] = metrics['rewards/chosen']!.sub(metrics['rewards/rejected']!) as tf.Scalar; // KTOTrainer.log
    const losses = parts.length === 1 ? parts[0]! : tf.concat(parts); // [Nc + Nr]
    return { loss: tf.mean(losses) as tf.Scalar, metrics };
  });
}
