/**
 * The arithmetic of online RL, as pure functions (host math on Float32Arrays for what TRL computes
 * under `torch.no_grad()`, tensor math for the differentiable losses), so each one can be checked
 * against hand-computed numbers and numerical gradients.
 *
 *   const { advantages, returns } = gae(rewards, values, mask, B, R, { gamma: 1, lam: 0.95 });
 *   const adv = maskedWhiten(advantages, mask);                      // TRL masked_whiten
 *   const { loss } = ppoPolicyLoss(newLogps, oldLogps, advTensor, maskTensor, 0.2);
 *
 * Sources (huggingface/trl, read for the formulas; no code copied):
 *   trl/experimental/ppo/ppo_trainer.py — masked_mean, masked_var, masked_whiten, PPOTrainer.train
 *     (k1/k3 KL, GAE loop, clipped policy and value losses, metrics)
 *   trl/trainer/grpo_trainer.py — GRPOTrainer._generate_and_score_completions (group-normalized
 *     advantages), GRPOTrainer._compute_loss (k3 KL, clipped surrogate, loss_type aggregation)
 *   trl/trainer/utils.py — nanstd (Bessel-corrected std)
 *   trl/core.py (TRL ≤ 0.11) — AdaptiveKLController / FixedKLController (Ziegler et al. 2019, §2.2)
 *
 * Dimension legend: B rows (sequences), R response positions (padded), flat arrays are row-major [B·R].
 */
import { tf } from '@llm/tensor-gpu';
import { AlignError } from '../errors.js';

export type KlEstimator = 'k1' | 'k3';

/**
 * Per-token KL estimate of the policy to the reference from the sampled token's log-probs
 * (http://joschu.net/blog/kl-approx.html, as TRL's PPOTrainer.train): with logr = ref − logp,
 * k1 = −logr (unbiased, can be negative), k3 = (exp(logr) − 1) − logr (unbiased, ≥ 0, lower variance).
 */
export function klEstimate(logp: number, refLogp: number, estimator: KlEstimator): number {
  const logr = refLogp - logp;
  return estimator === 'k1' ? -logr : Math.expm1(logr) - logr;
}

/** The k3 estimator on tensors (differentiable in logp): exp(ref − logp) − (ref − logp) − 1 (GRPOTrainer._compute_loss). */
export function k3Tensor(logp: tf.Tensor, refLogp: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const d = refLogp.sub(logp);
    return tf.exp(d).sub(d).sub(1);
  });
}

/** Σ mask·x / Σ mask (TRL masked_mean); 0 when the mask is empty. */
export function maskedMean(x: ArrayLike<number>, mask: ArrayLike<number>): number {
  let s = 0;
  let n = 0;
  for (let i = 0; i < x.length; i++) if (mask[i]) {
    s += x[i]!;
    n++;
  }
  return n ? s / n : 0;
}

/** Masked variance with Bessel's correction (TRL masked_var, unbiased=True). */
export function maskedVar(x: ArrayLike<number>, mask: ArrayLike<number>): number {
  const mean = maskedMean(x, mask);
  let s = 0;
  let n = 0;
  for (let i = 0; i < x.length; i++) if (mask[i]) {
    s += (x[i]! - mean) ** 2;
    n++;
  }
  if (n < 2) throw new AlignError('CONFIG_INVALID', `whitening needs at least 2 unmasked values, got ${n} (use a larger batch or longer completions).`);
  return (s / n) * (n / (n - 1));
}

/**
 * TRL masked_whiten: (x − mean) / √(var + 1e-8) over the masked entries (var unbiased); with
 * shiftMean false the mean is added back. Masked-out entries come back 0 (TRL masked_fill after).
 */
export function maskedWhiten(x: ArrayLike<number>, mask: ArrayLike<number>, shiftMean = true): Float32Array {
  const mean = maskedMean(x, mask);
  const inv = 1 / Math.sqrt(maskedVar(x, mask) + 1e-8);
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = mask[i] ? (x[i]! - mean) * inv + (shiftMean ? 0 : mean) : 0;
  return out;
}

export interface GaeOptions {
  /** Discount γ (TRL PPOConfig.gamma, default 1). */
  gamma: number;
  /** GAE λ (TRL PPOConfig.lam, default 0.95). */
  lam: number;
}

/**
 * Generalized advantage estimation over [B, R] rewards and values, as the loop of TRL's
 * PPOTrainer.train ("6. compute advantages and returns"): backwards over t,
 *   δ_t = r_t + γ·V_{t+1} − V_t,  A_t = δ_t + γλ·A_{t+1},  returns = A + V,
 * with V = 0 and r = 0 outside the mask (so a row ends at its last real token; V after the end is 0).
 */
export function gae(rewards: ArrayLike<number>, values: ArrayLike<number>, mask: ArrayLike<number>, B: number, R: number, o: GaeOptions): { advantages: Float32Array; returns: Float32Array } {
  const advantages = new Float32Array(B * R);
  const returns = new Float32Array(B * R);
  for (let b = 0; b < B; b++) {
    let last = 0;
    for (let t = R - 1; t >= 0; t--) {
      const i = b * R + t;
      const v = mask[i] ? values[i]! : 0;
      const next = t < R - 1 && mask[i + 1] ? values[i + 1]! : 0;
      const r = mask[i] ? rewards[i]! : 0;
      const delta = r + o.gamma * next - v;
      last = delta + o.gamma * o.lam * last;
      advantages[i] = mask[i] ? last : 0;
      returns[i] = mask[i] ? last + v : 0;
    }
  }
  return { advantages, returns };
}

/**
 * Group-normalized advantages of GRPO (GRPOTrainer._generate_and_score_completions, multi-objective
 * aggregation "sum_then_normalize"): rows are grouped G at a time (each prompt's G completions in a
 * row); A = r − mean_group, divided by (std + 1e-4) for scale "group" (std Bessel-corrected, TRL
 * nanstd), by the batch std for "batch", not at all for "none".
 */
export function groupAdvantages(rewards: ArrayLike<number>, G: number, scale: 'group' | 'batch' | 'none' = 'group'): { advantages: Float32Array; std: Float32Array } {
  const n = rewards.length;
  if (!Number.isInteger(G) || G < 1 || n % G !== 0) throw new AlignError('CONFIG_INVALID', `groupAdvantages: ${n} rewards do not split into groups of ${G}.`);
  const std = (xs: number[]) => {
    if (xs.length < 2) return 0;
    const m = xs.reduce((a, c) => a + c, 0) / xs.length;
    return Math.sqrt(xs.reduce((a, c) => a + (c - m) ** 2, 0) / (xs.length - 1));
  };
  const all = Array.from(rewards);
  const batchStd = std(all);
  const advantages = new Float32Array(n);
  const stds = new Float32Array(n);
  for (let g = 0; g < n / G; g++) {
    const xs = all.slice(g * G, (g + 1) * G);
    const mean = xs.reduce((a, c) => a + c, 0) / G;
    const s = scale === 'batch' ? batchStd : std(xs);
    for (let k = 0; k < G; k++) {
      const i = g * G + k;
      stds[i] = s;
      advantages[i] = scale === 'none' ? all[i]! - mean : (all[i]! - mean) / (s + 1e-4);
    }
  }
  return { advantages, std: stds };
}

/** A KL coefficient controller: `value` is the current coefficient, update once per rollout batch. */
export interface KlController {
  value: number;
  update(currentKl: number, nSteps: number): void;
}

export class FixedKLController implements KlController {
  constructor(public value: number) {}
  update(): void {}
}

/**
 * Ziegler et al. (2019, §2.2) adaptive KL coefficient (TRL ≤ 0.11 trl/core.py AdaptiveKLController,
 * from openai/lm-human-preferences): e = clip(KL/target − 1, −0.2, 0.2); β ← β·(1 + e·n_steps/horizon).
 * TRL calls it once per batch with n_steps = the batch size.
 */
export class AdaptiveKLController implements KlController {
  value: number;
  readonly target: number;
  readonly horizon: number;
  constructor(initKlCoef: number, target: number, horizon: number) {
    if (!(target > 0) || !(horizon > 0)) throw new AlignError('CONFIG_INVALID', `adaptive KL needs target > 0 and horizon > 0, got ${target} and ${horizon}.`);
    this.value = initKlCoef;
    this.target = target;
    this.horizon = horizon;
  }
  update(currentKl: number, nSteps: number): void {
    const e = Math.min(0.2, Math.max(-0.2, currentKl / this.target - 1));
    this.value *= 1 + (e * nSteps) / this.horizon;
  }
}

const maskedMeanT = (x: tf.Tensor, mask: tf.Tensor) => x.mul(mask).sum().div(tf.maximum(mask.sum(), 1)) as tf.Scalar;

export interface PpoPolicyLoss {
  /** masked mean of max(−A·ρ, −A·clip(ρ, 1 − ε, 1 + ε)) (differentiable in newLogps). */
  loss: tf.Scalar;
  /** Fraction of tokens where the clipped term is the larger (TRL pg_clipfrac). */
  clipfrac: tf.Scalar;
  /** ½·mean((new − old)²) over the mask (TRL approxkl; TRL's mean also counts padding, where the difference is 0). */
  approxkl: tf.Scalar;
  /** mean ρ over the mask. */
  ratio: tf.Scalar;
}

/** PPO's clipped surrogate on per-token log-probs [B, R] (TRL PPOTrainer.train: pg_losses, pg_losses2, pg_loss_max). */
export function ppoPolicyLoss(newLogps: tf.Tensor, oldLogps: tf.Tensor, advantages: tf.Tensor, mask: tf.Tensor, cliprange: number): PpoPolicyLoss {
  return tf.tidy(() => {
    const diff = newLogps.sub(oldLogps);
    const ratio = tf.exp(diff);
    const pg1 = advantages.neg().mul(ratio);
    const pg2 = advantages.neg().mul(tf.clipByValue(ratio, 1 - cliprange, 1 + cliprange));
    const loss = maskedMeanT(tf.maximum(pg1, pg2), mask);
    const clipfrac = maskedMeanT(tf.cast(tf.greater(pg2, pg1), 'float32'), mask);
    const approxkl = maskedMeanT(diff.square(), mask).mul(0.5) as tf.Scalar;
    return { loss, clipfrac, approxkl, ratio: maskedMeanT(ratio, mask) };
  });
}

/** PPO's clipped value loss (TRL PPOTrainer.train: vf_losses1/2): ½·masked mean of max((V − G)², (clip(V, V_old ± ε_v) − G)²). */
export function ppoValueLoss(vpred: tf.Tensor, oldValues: tf.Tensor, returns: tf.Tensor, mask: tf.Tensor, cliprangeValue: number): { loss: tf.Scalar; clipfrac: tf.Scalar } {
  return tf.tidy(() => {
    const clipped = tf.minimum(tf.maximum(vpred, oldValues.sub(cliprangeValue)), oldValues.add(cliprangeValue));
    const l1 = vpred.sub(returns).square();
    const l2 = clipped.sub(returns).square();
    return { loss: maskedMeanT(tf.maximum(l1, l2), mask).mul(0.5) as tf.Scalar, clipfrac: maskedMeanT(tf.cast(tf.greater(l2, l1), 'float32'), mask) };
  });
}

/** TRL GRPOConfig.loss_type values implemented here (TRL's default is "dapo"). */
export type GrpoLossType = 'dapo' | 'grpo' | 'dr_grpo' | 'bnpo';

export interface GrpoLossOptions {
  /** ε (low) of the clip (TRL epsilon, default 0.2). */
  epsilon: number;
  /** ε high (TRL epsilon_high, default = epsilon). */
  epsilonHigh: number;
  /** KL coefficient (TRL beta, default 0.0); > 0 needs refLogps. */
  beta: number;
  lossType: GrpoLossType;
  /** "dapo": the active tokens of the whole optimizer batch (TRL num_items_in_batch); default the mask's own count. */
  tokenNormalizer?: number;
  /** "dr_grpo": max completion length (TRL max_completion_length). */
  maxCompletionLength?: number;
}

export interface GrpoLoss {
  loss: tf.Scalar;
  /** Σ mask·k3 / Σ mask (TRL "kl"), 0 when beta is 0 and no refLogps. */
  kl: tf.Scalar;
  /** Fraction of tokens with ρ < 1 − ε and A < 0 / ρ > 1 + ε_h and A > 0 / either (TRL clip_ratio/low_mean, high_mean, region_mean). */
  clipLow: tf.Scalar;
  clipHigh: tf.Scalar;
  clipRegion: tf.Scalar;
}

/**
 * GRPO's per-token loss and its aggregation (TRL GRPOTrainer._compute_loss, token-level importance
 * sampling): ρ = exp(logp − old), per_token = −min(ρ·A, clip(ρ, 1 − ε, 1 + ε_h)·A) + β·k3(ref, logp);
 * "grpo": mean over rows of the per-row token mean; "bnpo": Σ/Σmask of this batch; "dapo": Σ / the
 * batch's active tokens; "dr_grpo": Σ / (B·max_completion_length). advantages are [B] (one per row).
 */
export function grpoLoss(logps: tf.Tensor2D, oldLogps: tf.Tensor2D, refLogps: tf.Tensor2D | null, advantages: tf.Tensor1D, mask: tf.Tensor2D, o: GrpoLossOptions): GrpoLoss {
  if (o.beta !== 0 && !refLogps) throw new AlignError('CONFIG_INVALID', 'grpoLoss: beta ≠ 0 needs the reference log-probs.');
  return tf.tidy(() => {
    const [B] = logps.shape;
    const A = advantages.reshape([B, 1]);
    const coef1 = tf.exp(logps.sub(oldLogps));
    const coef2 = tf.clipByValue(coef1, 1 - o.epsilon, 1 + o.epsilonHigh);
    let perToken = tf.minimum(coef1.mul(A), coef2.mul(A)).neg();
    const kl = refLogps ? k3Tensor(logps, refLogps) : null;
    if (kl && o.beta !== 0) perToken = perToken.add(kl.mul(o.beta));
    const masked = perToken.mul(mask);
    let loss: tf.Scalar;
    if (o.lossType === 'grpo') loss = masked.sum(1).div(tf.maximum(mask.sum(1), 1)).mean() as tf.Scalar;
    else if (o.lossType === 'bnpo') loss = masked.sum().div(tf.maximum(mask.sum(), 1)) as tf.Scalar;
    else if (o.lossType === 'dr_grpo') {
      if (!o.maxCompletionLength) throw new AlignError('CONFIG_INVALID', 'grpoLoss: loss_type "dr_grpo" needs maxCompletionLength.');
      loss = masked.sum().div(B * o.maxCompletionLength) as tf.Scalar;
    } else if (o.lossType === 'dapo') {
      loss = (o.tokenNormalizer !== undefined ? masked.sum().div(Math.max(o.tokenNormalizer, 1)) : masked.sum().div(tf.maximum(mask.sum(), 1))) as tf.Scalar;
    } else throw new AlignError('CONFIG_INVALID', `unknown GRPO loss_type ${JSON.stringify(o.lossType)} (dapo, grpo, dr_grpo, bnpo).`);
    const low = tf.logicalAnd(tf.less(coef1, 1 - o.epsilon), tf.less(A, 0));
    const high = tf.logicalAnd(tf.greater(coef1, 1 + o.epsilonHigh), tf.greater(A, 0));
    const f = (x: tf.Tensor) => maskedMeanT(tf.cast(x, 'float32'), mask);
    return { loss, kl: kl ? maskedMeanT(kl, mask) : tf.scalar(0), clipLow: f(low), clipHigh: f(high), clipRegion: f(tf.logicalOr(low, high)) };
  });
}

/** Entropy of softmax(logits) per position: logsumexp − Σ p·logits (TRL PPOTrainer.train / entropy_from_logits). */
export function entropyFromLogits(logits: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const axis = logits.rank - 1;
    return tf.logSumExp(logits, axis).sub(tf.softmax(logits, axis).mul(logits).sum(axis));
  });
}
