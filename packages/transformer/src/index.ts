// @llm/transformer — decoder-only models (GPT-2, Llama, Mixtral-style MoE) with KV cache and
// HF-compatible checkpoints. Public surface (named exports only).
export { TransformerError, type TransformerErrorCode } from './errors.js';
export { resolveConfig, type ModelConfig, type ModelConfigInput, type ModelFamily, type Activation } from './config.js';
export { toHfConfig, fromHfConfig } from './hf-config.js';
export {
  TransformerLM,
  type CausalLM,
  type ForwardOptions,
  type RunOptions,
  type ModelOutput,
  type AttentionMaskInput,
} from './model.js';
export { KVCache } from './cache.js';
export type { PastKeyValues, PrefixOptions } from './prefix.js';
export { Linear, type LinearModule, type LinearOptions, type WeightLayout } from './modules/linear.js';
export { modelLayout, checkpointShapes, type ModelLayout, type LinearSpec, type ParamSpec } from './layout.js';
export { loadModel, readCheckpoint, checkpointFile, type Checkpoint, type LoadOptions } from './checkpoint.js';
export { MODEL_LIMITS, type ModelLimits, type LimitOptions } from './limits.js';
export { findModelDir, type FindModelDirOptions } from './model-dir.js';
export { saveModel, type SaveOptions, type SavableModel } from './save.js';
export { fromHfGenerationConfig, toHfGenerationConfig, type ModelGenerationConfig } from './generation-config.js';
export { SequenceClassifier, ValueHead, loadSequenceClassifier, poolLastToken, type ClassifierOptions } from './heads.js';
export { countParameters, summarize, formatCount, type CountOptions } from './summary.js';
export { loadLlama2c, readLlama2c, llama2cConfig } from './llama2c.js';
