// The losses of @llm/align: pure functions on tensors, TRL's formulas and metric names.
export { type LossOutput, detach } from './types.js';
export { dpoLoss, type DpoInputs, type DpoLossOptions, type DpoLossType } from './dpo.js';
export { orpoLoss, log1mexp, type OrpoInputs } from './orpo.js';
export { simpoLoss, type SimpoOptions } from './simpo.js';
export { ktoLoss, type KtoInputs, type KtoOptions } from './kto.js';
export { rewardLoss, type RewardInputs } from './reward.js';
export { classificationLoss, regressionLoss, accuracyAndMacroF1 } from './classification.js';
