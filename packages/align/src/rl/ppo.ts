/**
 * PPO for language models with a KL penalty to a reference (RLHF), after TRL's PPOTrainer
 * (trl/experimental/ppo/ppo_trainer.py, PPOTrainer.train; defaults from ppo_config.py):
 *
 *   1. rollout: B prompts → completions sampled with @llm/sample (seeded, temperature 1 by default);
 *   2. no-grad forwards: log π (policy), log π_ref (reference), values V (value head), the score
 *      (a reward model or a JS function);
 *   3. per-token reward r_t = −β·KL_t (k1 or k3 estimator), plus the score at the last real token;
 *   4. GAE(γ, λ) → advantages (whitened over the batch) and returns;
 *   5. `numPpoEpochs` passes over shuffled minibatches: clipped policy loss + vfCoef · clipped value loss,
 *      one AdamW update per minibatch;
 *   6. the KL coefficient is fixed, or Ziegler et al.'s adaptive controller (target, horizon).
 *
 *   const { history } = await ppoTrain(policy, { prompts, reward: (p, ids) => …, steps: 50, learningRate: 1e-3 });
 *   history.at(-1)['objective/scores'];
 *
 * The value function is a `ValueHead` on the policy's own backbone (one forward gives logits and
 * values; TRL ≤ 0.11's AutoModelForCausalLMWithValueHead), not the separate value model of the
 * current TRL PPOTrainer. With a PeftModel policy only the adapter (and the value head) train and
 * the reference is the same model with the adapter off (no second copy of the weights).
 *
 * Dimension legend: B rows, R completion positions.
 */
import { tf, Rng, hashSeed } from '@llm/tensor-gpu';
import { ValueHead } from '@llm/transformer';
import { AdamW } from '@llm/train';
import { AlignError } from '../errors.js';
import { AdaptiveKLController, FixedKLController, gae, klEstimate, maskedWhiten, ppoPolicyLoss, ppoValueLoss, type KlController, type KlEstimator } from './core.js';
import {
  backboneOf,
  batchRows,
  checkRewardSources,
  completionForward,
  encodePrompts,
  lrAt,
  mean,
  num,
  optimizerStep,
  permutation,
  posInt,
  PromptSampler,
  resolveReference,
  rollout,
  rowSums,
  scoreBatch,
  yieldToEvents,
  type OptimOptions,
  type Prompt,
  type RewardFunction,
  type RewardModel,
  type RlPolicy,
  type RlReference,
  type RlTokenizer,
} from './rollout.js';

/** One step's metrics, with TRL PPOTrainer's names (plus `objective/kl_coef`, `lr`, `episode`, `grad_norm`). */
export type RlMetrics = Record<string, number>;

export interface PpoConfig extends OptimOptions {
  /** Prompts (text needs `tokenizer`), walked in a seeded shuffled order. */
  prompts: readonly Prompt[];
  /** A reward function or a reward model (one scalar per sequence). */
  reward: RewardFunction | RewardModel;
  /** The frozen reference; default: a PeftModel with its adapter off, or a frozen copy of the initial policy. */
  reference?: RlReference;
  /** Value head on the policy's backbone; default a new one (disposed at the end). */
  valueHead?: ValueHead;
  tokenizer?: RlTokenizer;
  /** Rollout batches (TRL num_total_batches). */
  steps: number;
  /** Rows per rollout batch B (default 8). */
  batchSize?: number;
  /** Rows per PPO update (default batchSize: TRL num_mini_batches 1). */
  miniBatchSize?: number;
  /** PPO epochs per batch (TRL num_ppo_epochs 4). */
  numPpoEpochs?: number;
  /** Completion length (TRL response_length 53). */
  maxNewTokens?: number;
  /** Sampling temperature (1 here; TRL's PPOConfig default is 0.7); log-probs use logits / temperature as TRL. */
  temperature?: number;
  /** EOS id(s) for generation (default the model's). */
  eosTokenId?: number | number[] | null;
  /** Subtracted from the score of a completion without EOS (TRL missing_eos_penalty, default none). */
  missingEosPenalty?: number;
  /** KL coefficient β (TRL kl_coef 0.05); the initial value when adaptive. */
  klCoef?: number;
  /** k1 = log π − log π_ref (TRL default) or k3 = (r − 1) − log r, r = π_ref/π. */
  klEstimator?: KlEstimator;
  /** Ziegler et al.'s adaptive coefficient (TRL ≤ 0.11 defaults target 6, horizon 10000); false = fixed. */
  adaptiveKl?: { target?: number; horizon?: number } | false;
  /** Policy ratio clip ε (TRL cliprange 0.2). */
  cliprange?: number;
  /** Value clip (TRL cliprange_value 0.2). */
  cliprangeValue?: number;
  /** Value-loss coefficient (TRL vf_coef 0.1). */
  vfCoef?: number;
  /** GAE discount (TRL gamma 1). */
  gamma?: number;
  /** GAE λ (TRL lam 0.95). */
  lam?: number;
  /** Whiten the per-token rewards before GAE (TRL whiten_rewards, default false). */
  whitenRewards?: boolean;
  seed?: number;
  signal?: AbortSignal;
  /** Called after each step with its metrics (awaited). */
  onStep?: (metrics: RlMetrics, step: number) => void | Promise<void>;
}

export interface RlResult {
  /** Metrics of each completed step. */
  history: RlMetrics[];
  /** True when the signal stopped the run (the steps before it are in history). */
  aborted: boolean;
}

export interface PpoResult extends RlResult {
  /** The KL coefficient after the last step. */
  klCoef: number;
}

/** PPO defaults (TRL PPOConfig unless noted). */
export const PPO_DEFAULTS = {
  batchSize: 8,
  numPpoEpochs: 4,
  maxNewTokens: 53,
  temperature: 1,
  klCoef: 0.05,
  klEstimator: 'k1' as KlEstimator,
  adaptiveTarget: 6,
  adaptiveHorizon: 10000,
  cliprange: 0.2,
  cliprangeValue: 0.2,
  vfCoef: 0.1,
  gamma: 1,
  lam: 0.95,
  learningRate: 3e-6,
  maxGradNorm: 1,
} as const;

/** Run PPO on `policy` (a TransformerLM, or a PeftModel: then only the adapter trains). */
export async function ppoTrain(policy: RlPolicy, cfg: PpoConfig): Promise<PpoResult> {
  const steps = posInt('steps', cfg.steps, 1);
  const B = posInt('batchSize', cfg.batchSize, PPO_DEFAULTS.batchSize);
  const mb = posInt('miniBatchSize', cfg.miniBatchSize, B);
  const epochs = posInt('numPpoEpochs', cfg.numPpoEpochs, PPO_DEFAULTS.numPpoEpochs);
  const maxNewTokens = posInt('maxNewTokens', cfg.maxNewTokens, PPO_DEFAULTS.maxNewTokens);
  const temperature = num('temperature', cfg.temperature, PPO_DEFAULTS.temperature, 0);
  if (temperature === 0) throw new AlignError('CONFIG_INVALID', 'PPO samples its rollouts: temperature must be > 0.');
  const klCoef = num('klCoef', cfg.klCoef, PPO_DEFAULTS.klCoef, 0);
  const estimator = cfg.klEstimator ?? PPO_DEFAULTS.klEstimator;
  if (estimator !== 'k1' && estimator !== 'k3') throw new AlignError('CONFIG_INVALID', `klEstimator must be "k1" or "k3", got ${JSON.stringify(estimator)}.`);
  const cliprange = num('cliprange', cfg.cliprange, PPO_DEFAULTS.cliprange, 0);
  const cliprangeValue = num('cliprangeValue', cfg.cliprangeValue, PPO_DEFAULTS.cliprangeValue, 0);
  const vfCoef = num('vfCoef', cfg.vfCoef, PPO_DEFAULTS.vfCoef, 0);
  const gamma = num('gamma', cfg.gamma, PPO_DEFAULTS.gamma, 0);
  const lam = num('lam', cfg.lam, PPO_DEFAULTS.lam, 0);
  const lr = num('learningRate', cfg.learningRate, PPO_DEFAULTS.learningRate, 0);
  const maxGradNorm = num('maxGradNorm', cfg.maxGradNorm, PPO_DEFAULTS.maxGradNorm, 0);
  const seed = cfg.seed ?? 0;
  if (B < 2) throw new AlignError('CONFIG_INVALID', 'batchSize must be ≥ 2 (advantages are whitened over the batch).');
  checkRewardSources(policy, [cfg.reward]);
  const promptIds = encodePrompts(cfg.prompts, policy, cfg.tokenizer);
  const ctl: KlController = cfg.adaptiveKl ? new AdaptiveKLController(klCoef, cfg.adaptiveKl.target ?? PPO_DEFAULTS.adaptiveTarget, cfg.adaptiveKl.horizon ?? PPO_DEFAULTS.adaptiveHorizon) : new FixedKLController(klCoef);

  const reference = resolveReference(policy, cfg.reference);
  const ownHead = !cfg.valueHead;
  let valueHead: ValueHead | undefined;
  let opt: AdamW | undefined;
  const history: RlMetrics[] = [];
  let aborted = false;
  try {
    valueHead = cfg.valueHead ?? new ValueHead(backboneOf(policy));
    const params: Array<[string, tf.Variable]> = [...policy.trainableParameters(), ...valueHead.namedParameters()];
    opt = new AdamW(params, { beta1: cfg.beta1 ?? 0.9, beta2: cfg.beta2 ?? 0.999, eps: cfg.eps ?? 1e-8, weightDecay: cfg.weightDecay ?? 0 });
    const sampler = new PromptSampler(promptIds.length, seed);
    const t0 = Date.now();
    for (let step = 0; step < steps; step++) {
      if (cfg.signal?.aborted) {
        aborted = true;
        break;
      }
      const rows = Array.from({ length: B }, () => sampler.next());
      const prompts = rows.map((i) => promptIds[i]!);
      const batch = rollout(policy, prompts, { maxNewTokens, temperature, seed: hashSeed(seed, `rollout:${step}`), ...(cfg.eosTokenId !== undefined ? { eosTokenId: cfg.eosTokenId } : {}), ...(cfg.signal ? { signal: cfg.signal } : {}) });
      if (!batch) {
        aborted = true;
        break;
      }
      const { R, P, mask } = batch;
      const all = Array.from({ length: B }, (_, b) => b);

      // 2. log π, log π_ref, V on the sampled batch (no gradients)
      let logps = new Float32Array(0);
      let refLogps = new Float32Array(0);
      let values = new Float32Array(0);
      tf.tidy(() => {
        const t = batchRows(batch, all);
        const pol = completionForward(policy, t, P, { temperature, valueHead });
        logps = Float32Array.from(pol.logps.dataSync());
        values = Float32Array.from(pol.values!.dataSync());
        refLogps = reference.run((m) => Float32Array.from(completionForward(m, t, P, { temperature }).logps.dataSync()));
      });
      for (let i = 0; i < B * R; i++) if (!mask[i]) values[i] = 0;
      const { total: scores } = scoreBatch(batch, [cfg.reward], [1], (b) => cfg.prompts[rows[b]!]!, cfg.tokenizer);
      if (cfg.missingEosPenalty !== undefined) batch.endedWithEos.forEach((e, b) => (scores[b]! -= e ? 0 : cfg.missingEosPenalty!));

      // 3. per-token rewards: −β·KL, plus the score at each row's last real token (Ziegler et al.; TRL ≤ 0.11
      //    compute_rewards). The current PPOTrainer.train adds it at `sequence_lengths_p1`, one position past
      //    the last token when the row is padded (a step inside its value mask but outside its policy mask);
      //    here a row's trajectory ends at its last generated token.
      const beta = ctl.value;
      const kl = new Float32Array(B * R);
      const nonScore = new Float32Array(B * R);
      let rewards: Float32Array = new Float32Array(B * R);
      for (let i = 0; i < B * R; i++) if (mask[i]) {
        kl[i] = klEstimate(logps[i]!, refLogps[i]!, estimator);
        nonScore[i] = -beta * kl[i]!;
        rewards[i] = nonScore[i]!;
      }
      for (let b = 0; b < B; b++) rewards[b * R + batch.completions[b]!.length - 1]! += scores[b]!;
      if (cfg.whitenRewards) rewards = maskedWhiten(rewards, mask, false);

      // 4. GAE, whitened advantages
      const g = gae(rewards, values, mask, B, R, { gamma, lam });
      const advantages = maskedWhiten(g.advantages, mask);
      const returns = g.returns;

      // 5. PPO epochs over minibatches
      const stats: Record<string, number[]> = {};
      const push = (k: string, v: number) => (stats[k] ??= []).push(v);
      const rate = lrAt(step, lr, cfg.schedule);
      for (let epoch = 0; epoch < epochs; epoch++) {
        const order = permutation(B, new Rng(hashSeed(seed, `ppo:${step}:${epoch}`)));
        for (let s = 0; s < B; s += mb) {
          const idx = order.slice(s, s + mb);
          const pick = (src: Float32Array) => {
            const out = new Float32Array(idx.length * R);
            idx.forEach((b, k) => out.set(src.subarray(b * R, (b + 1) * R), k * R));
            return tf.tensor2d(out, [idx.length, R]);
          };
          const r = optimizerStep(opt, params, rate, maxGradNorm, () => {
            const t = batchRows(batch, idx);
            const f = completionForward(policy, t, P, { temperature, entropy: true, valueHead });
            const pg = ppoPolicyLoss(f.logps, pick(logps), pick(advantages), t.mask, cliprange);
            const vf = ppoValueLoss(f.values!, pick(values), pick(returns), t.mask, cliprangeValue);
            const loss = pg.loss.add(vf.loss.mul(vfCoef)) as tf.Scalar;
            const entropy = f.entropy!.mul(t.mask).sum().div(tf.maximum(t.mask.sum(), 1)) as tf.Scalar;
            return { loss, metrics: { pg: pg.loss, vf: vf.loss, clipfrac: pg.clipfrac, approxkl: pg.approxkl, vfClipfrac: vf.clipfrac, ratio: pg.ratio, entropy } };
          });
          push('policy/approxkl_avg', r.metrics.approxkl!);
          push('policy/clipfrac_avg', r.metrics.clipfrac!);
          push('loss/policy_avg', r.metrics.pg!);
          push('loss/value_avg', r.metrics.vf!);
          push('val/clipfrac_avg', r.metrics.vfClipfrac!);
          push('policy/entropy_avg', r.metrics.entropy!);
          push('val/ratio', r.metrics.ratio!);
          push('grad_norm', r.gradNorm);
        }
      }

      // 6. metrics (TRL names) and the KL controller
      const seqKl = rowSums(kl, mask, B, R);
      const meanKl = mean(seqKl);
      const meanNonScore = mean(rowSums(nonScore, mask, B, R));
      const negLogp = rowSums(logps.map((x) => -x), mask, B, R);
      const ratios = stats['val/ratio']!;
      const ratioMean = mean(ratios);
      const metrics: RlMetrics = {
        'objective/kl': meanKl,
        'objective/entropy': mean(negLogp),
        'objective/non_score_reward': meanNonScore,
        'objective/rlhf_reward': meanNonScore + mean(scores),
        'objective/scores': mean(scores),
        'objective/kl_coef': beta,
        ...Object.fromEntries(Object.entries(stats).filter(([k]) => k !== 'val/ratio').map(([k, v]) => [k, mean(v)])),
        'val/ratio': ratioMean,
        'val/ratio_var': ratios.length > 1 ? ratios.reduce((a, c) => a + (c - ratioMean) ** 2, 0) / (ratios.length - 1) : 0,
        'val/num_eos_tokens': batch.endedWithEos.filter(Boolean).length,
        'completions/mean_length': mean(batch.completions.map((c) => c.length)),
        lr: rate,
        episode: (step + 1) * B,
        elapsed_s: (Date.now() - t0) / 1000,
      };
      ctl.update(meanKl, B);
      history.push(metrics);
      await cfg.onStep?.(metrics, step);
      await yieldToEvents();
    }
    return { history, aborted, klCoef: ctl.value };
  } finally {
    opt?.dispose();
    if (ownHead) valueHead?.dispose();
    reference.dispose();
  }
}
