// Online RL for @llm/align: PPO (RLHF with a KL penalty) and GRPO, after TRL's PPOTrainer and GRPOTrainer.
export { ppoTrain, PPO_DEFAULTS, type PpoConfig, type PpoResult, type RlMetrics, type RlResult } from './ppo.js';
export { grpoTrain, GRPO_DEFAULTS, type GrpoConfig } from './grpo.js';
export {
  klEstimate,
  k3Tensor,
  maskedMean,
  maskedVar,
  maskedWhiten,
  gae,
  groupAdvantages,
  AdaptiveKLController,
  FixedKLController,
  ppoPolicyLoss,
  ppoValueLoss,
  grpoLoss,
  entropyFromLogits,
  type KlEstimator,
  type KlController,
  type GaeOptions,
  type GrpoLossType,
  type GrpoLossOptions,
  type GrpoLoss,
  type PpoPolicyLoss,
} from './core.js';
export type { RlPolicy, RlReference, RewardFunction, RewardModel, RlTokenizer, Prompt, OptimOptions } from './rollout.js';
