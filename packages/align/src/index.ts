// @llm/align — preference data, reward / classifier / regressor heads, DPO / IPO / ORPO / KTO / SimPO
// objectives for @llm/train's loop, PPO and GRPO, RLAIF / Constitutional AI data pipelines, with
// TRL's metric names. Public surface (named exports only).
export { AlignError, type AlignErrorCode } from './errors.js';
export { sequenceLogps, tokenLogps, modelLogps, type SequenceLogps, type Runnable } from './logps.js';
export * from './losses/index.js';
export * from './data/index.js';
export * from './objectives/index.js';
export * from './heads/index.js';
export { precomputeReferenceLogps, referenceLogps, checkSameVocab, type ReferenceSpec, type ReferenceModel } from './reference.js';
export * from './rl/index.js';
export * from './rlaif/index.js';
