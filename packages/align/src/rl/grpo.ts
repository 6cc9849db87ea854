/**
 * GRPO (Shao et al. 2024, DeepSeekMath) after TRL's GRPOTrainer (trl/trainer/grpo_trainer.py;
 * defaults from grpo_config.py):
 *
 *   1. each step takes `promptsPerStep` prompts and samples G = `numGenerations` completions of each
 *      (GRPOTrainer._generate_and_score_completions);
 *   2. rewards: a list of reward functions and/or reward models, summed with `rewardWeights`;
 *   3. group-normalized advantages A = (r − mean_group) / (std_group + 1e-4) (scale_rewards "group");
 *   4. no value model; the loss is the clipped surrogate per token plus β·k3 KL to the reference,
 *      aggregated as TRL's default loss_type "dapo" (Σ over tokens / active tokens in the batch) —
 *      "grpo", "dr_grpo" and "bnpo" are options (GRPOTrainer._compute_loss);
 *   5. `numIterations` (TRL num_iterations μ, default 1) updates on each generated batch; log π_old
 *      is that of the sampling policy, so at μ = 1 the ratio is 1 and the clip never binds.
 *
 * β defaults to TRL's 0.0 (no reference needed); then `kl` is logged only when `logKl` is set.
 *
 *   const { history } = await grpoTrain(policy, { prompts, reward: [fnA, fnB], rewardWeights: [1, 0.5], steps: 30, beta: 0.04 });
 *
 * Dimension legend: B = promptsPerStep·G rows, R completion positions.
 */
import { tf, hashSeed } from '@llm/tensor-gpu';
import { AdamW } from '@llm/train';
import { AlignError } from '../errors.js';
import { grpoLoss, groupAdvantages, type GrpoLossType } from './core.js';
import {
  batchRows,
  checkRewardSources,
  completionForward,
  encodePrompts,
  lrAt,
  mean,
  num,
  optimizerStep,
  posInt,
  PromptSampler,
  resolveReference,
  rollout,
  scoreBatch,
  yieldToEvents,
  type OptimOptions,
  type Prompt,
  type RewardFunction,
  type RewardModel,
  type RlPolicy,
  type RlReference,
  type RlTokenizer,
  type ResolvedReference,
} from './rollout.js';
import type { RlMetrics, RlResult } from './ppo.js';

export interface GrpoConfig extends OptimOptions {
  prompts: readonly Prompt[];
  /** One reward source or a list (functions and reward models), summed with rewardWeights. */
  reward: RewardFunction | RewardModel | ReadonlyArray<RewardFunction | RewardModel>;
  /** Weights of the reward sources (TRL reward_weights, default all 1). */
  rewardWeights?: readonly number[];
  /** The frozen reference (used when beta ≠ 0 or logKl); default a PeftModel with its adapter off, or a frozen copy of the initial policy. */
  reference?: RlReference;
  tokenizer?: RlTokenizer;
  /** Generation batches. */
  steps: number;
  /** Distinct prompts per step (default 2). */
  promptsPerStep?: number;
  /** Completions per prompt G (TRL num_generations 8). */
  numGenerations?: number;
  /** TRL max_completion_length 512 (capped by the model's context). */
  maxNewTokens?: number;
  /** TRL temperature 1. */
  temperature?: number;
  eosTokenId?: number | number[] | null;
  /** KL coefficient β (TRL beta 0.0; DeepSeek-R1 used 0.001, DeepSeekMath 0.04). */
  beta?: number;
  /** Clip ε (TRL epsilon 0.2) and its upper side (TRL epsilon_high, default ε). */
  epsilon?: number;
  epsilonHigh?: number;
  /** TRL loss_type, default "dapo". */
  lossType?: GrpoLossType;
  /** TRL scale_rewards, default "group". */
  scaleRewards?: 'group' | 'batch' | 'none';
  /** Updates per generated batch (TRL num_iterations 1). */
  numIterations?: number;
  /** Compute and log `kl` even when beta is 0. */
  logKl?: boolean;
  seed?: number;
  signal?: AbortSignal;
  onStep?: (metrics: RlMetrics, step: number) => void | Promise<void>;
}

/** GRPO defaults (TRL GRPOConfig unless noted). */
export const GRPO_DEFAULTS = {
  promptsPerStep: 2,
  numGenerations: 8,
  maxNewTokens: 512,
  temperature: 1,
  beta: 0,
  epsilon: 0.2,
  lossType: 'dapo' as GrpoLossType,
  scaleRewards: 'group' as const,
  numIterations: 1,
  learningRate: 1e-6,
  maxGradNorm: 1,
} as const;

const sourceName = (s: RewardFunction | RewardModel, k: number) => (typeof s === 'function' && s.name ? s.name : `reward_${k}`);

/** Run GRPO on `policy` (a TransformerLM, or a PeftModel: then only the adapter trains). */
export async function grpoTrain(policy: RlPolicy, cfg: GrpoConfig): Promise<RlResult> {
  const steps = posInt('steps', cfg.steps, 1);
  const N = posInt('promptsPerStep', cfg.promptsPerStep, GRPO_DEFAULTS.promptsPerStep);
  const G = posInt('numGenerations', cfg.numGenerations, GRPO_DEFAULTS.numGenerations);
  if (G < 2) throw new AlignError('CONFIG_INVALID', 'numGenerations must be ≥ 2 (advantages are normalized within each group).');
  const maxNewTokens = posInt('maxNewTokens', cfg.maxNewTokens, GRPO_DEFAULTS.maxNewTokens);
  const temperature = num('temperature', cfg.temperature, GRPO_DEFAULTS.temperature, 0);
  if (temperature === 0) throw new AlignError('CONFIG_INVALID', 'GRPO samples its groups: temperature must be > 0.');
  const beta = num('beta', cfg.beta, GRPO_DEFAULTS.beta, 0);
  const epsilon = num('epsilon', cfg.epsilon, GRPO_DEFAULTS.epsilon, 0);
  const epsilonHigh = num('epsilonHigh', cfg.epsilonHigh, epsilon, 0);
  const lossType = cfg.lossType ?? GRPO_DEFAULTS.lossType;
  if (!['dapo', 'grpo', 'dr_grpo', 'bnpo'].includes(lossType)) throw new AlignError('CONFIG_INVALID', `lossType must be "dapo", "grpo", "dr_grpo" or "bnpo", got ${JSON.stringify(lossType)}.`);
  const scale = cfg.scaleRewards ?? GRPO_DEFAULTS.scaleRewards;
  if (!['group', 'batch', 'none'].includes(scale)) throw new AlignError('CONFIG_INVALID', `scaleRewards must be "group", "batch" or "none", got ${JSON.stringify(scale)}.`);
  const iterations = posInt('numIterations', cfg.numIterations, GRPO_DEFAULTS.numIterations);
  const lr = num('learningRate', cfg.learningRate, GRPO_DEFAULTS.learningRate, 0);
  const maxGradNorm = num('maxGradNorm', cfg.maxGradNorm, GRPO_DEFAULTS.maxGradNorm, 0);
  const seed = cfg.seed ?? 0;
  const sources = (Array.isArray(cfg.reward) ? cfg.reward : [cfg.reward]) as ReadonlyArray<RewardFunction | RewardModel>;
  checkRewardSources(policy, sources);
  const weights = cfg.rewardWeights ?? sources.map(() => 1);
  if (weights.length !== sources.length || weights.some((w) => !Number.isFinite(w))) throw new AlignError('CONFIG_INVALID', `rewardWeights must be ${sources.length} finite numbers (one per reward source), got ${JSON.stringify(weights)}.`);
  const names = sources.map(sourceName);
  const promptIds = encodePrompts(cfg.prompts, policy, cfg.tokenizer);
  const needRef = beta !== 0 || cfg.logKl === true;

  const reference: ResolvedReference | null = needRef ? resolveReference(policy, cfg.reference) : null;
  let opt: AdamW | undefined;
  const history: RlMetrics[] = [];
  let aborted = false;
  try {
    const params = policy.trainableParameters();
    if (params.length === 0) throw new AlignError('CONFIG_INVALID', 'the policy has no trainable weights.');
    opt = new AdamW(params, { beta1: cfg.beta1 ?? 0.9, beta2: cfg.beta2 ?? 0.999, eps: cfg.eps ?? 1e-8, weightDecay: cfg.weightDecay ?? 0 });
    const sampler = new PromptSampler(promptIds.length, seed);
    const t0 = Date.now();
    for (let step = 0; step < steps; step++) {
      if (cfg.signal?.aborted) {
        aborted = true;
        break;
      }
      const chosen = Array.from({ length: N }, () => sampler.next());
      const rows = chosen.flatMap((i) => new Array<number>(G).fill(i)); // each prompt's G completions side by side
      const batch = rollout(policy, rows.map((i) => promptIds[i]!), { maxNewTokens, temperature, seed: hashSeed(seed, `grpo-rollout:${step}`), ...(cfg.eosTokenId !== undefined ? { eosTokenId: cfg.eosTokenId } : {}), ...(cfg.signal ? { signal: cfg.signal } : {}) });
      if (!batch) {
        aborted = true;
        break;
      }
      const B = batch.B;
      const { R, P } = batch;
      const all = Array.from({ length: B }, (_, b) => b);
      const { total, perSource } = scoreBatch(batch, sources, weights, (b) => cfg.prompts[rows[b]!]!, cfg.tokenizer);
      const { advantages, std } = groupAdvantages(total, G, scale);

      // log π_old (the sampling policy) and log π_ref, no gradients
      let oldLogps = new Float32Array(0);
      let refLogps: Float32Array | null = null;
      let entropy = 0;
      tf.tidy(() => {
        const t = batchRows(batch, all);
        const f = completionForward(policy, t, P, { temperature, entropy: true });
        oldLogps = Float32Array.from(f.logps.dataSync());
        entropy = f.entropy!.mul(t.mask).sum().div(tf.maximum(t.mask.sum(), 1)).dataSync()[0]!;
        if (reference) refLogps = reference.run((m) => Float32Array.from(completionForward(m, t, P, { temperature }).logps.dataSync()));
      });
      const activeTokens = batch.mask.reduce((a, c) => a + c, 0);

      const stats: Record<string, number[]> = {};
      const push = (k: string, v: number) => (stats[k] ??= []).push(v);
      const rate = lrAt(step, lr, cfg.schedule);
      for (let it = 0; it < iterations; it++) {
        const r = optimizerStep(opt, params, rate, maxGradNorm, () => {
          const t = batchRows(batch, all);
          const f = completionForward(policy, t, P, { temperature });
          const ref = refLogps ? tf.tensor2d(refLogps, [B, R]) : null;
          const l = grpoLoss(f.logps, tf.tensor2d(oldLogps, [B, R]), ref, tf.tensor1d(advantages), t.mask, { epsilon, epsilonHigh, beta, lossType, tokenNormalizer: activeTokens, maxCompletionLength: maxNewTokens });
          return { loss: l.loss, metrics: { kl: l.kl, low: l.clipLow, high: l.clipHigh, region: l.clipRegion } };
        });
        push('loss', r.loss);
        push('grad_norm', r.gradNorm);
        if (needRef) push('kl', r.metrics.kl!);
        push('clip_ratio/low_mean', r.metrics.low!);
        push('clip_ratio/high_mean', r.metrics.high!);
        push('clip_ratio/region_mean', r.metrics.region!);
      }

      const lengths = batch.completions.map((c) => c.length);
      const rewardMean = mean(total);
      const rewardStd = B > 1 ? Math.sqrt(Array.from(total).reduce((a, c) => a + (c - rewardMean) ** 2, 0) / (B - 1)) : 0;
      const metrics: RlMetrics = {
        reward: rewardMean,
        reward_std: rewardStd,
        ...Object.fromEntries(perSource.flatMap((col, k) => {
          const m = mean(col);
          const s = col.length > 1 ? Math.sqrt(Array.from(col).reduce((a, c) => a + (c - m) ** 2, 0) / (col.length - 1)) : 0;
          return [[`rewards/${names[k]}/mean`, m], [`rewards/${names[k]}/std`, s]];
        })),
        frac_reward_zero_std: mean(Array.from(std, (s) => (Math.abs(s) < 1e-8 ? 1 : 0))),
        'completions/mean_length': mean(lengths),
        'completions/min_length': Math.min(...lengths),
        'completions/max_length': Math.max(...lengths),
        'completions/clipped_ratio': mean(batch.endedWithEos.map((e) => (e ? 0 : 1))),
        entropy,
        ...Object.fromEntries(Object.entries(stats).map(([k, v]) => [k, mean(v)])),
        learning_rate: rate,
        elapsed_s: (Date.now() - t0) / 1000,
      };
      metrics.clip_ratio = metrics['clip_ratio/region_mean']!;
      history.push(metrics);
      await cfg.onStep?.(metrics, step);
      await yieldToEvents();
    }
    return { history, aborted };
  } finally {
    opt?.dispose();
    reference?.dispose();
  }
}
