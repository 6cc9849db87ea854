// @llm/sample — generation over any CausalLM: logits processors, greedy/sampling with seeds,
// streaming, stop conditions, beam search, speculative decoding, constrained decoding, scoring.
// Public surface (named exports only).
export { SampleError, type SampleErrorCode } from './errors.js';
export { SAMPLE_LIMITS, type SampleLimits, type ConstraintLimits } from './limits.js';
export type { CausalLMLike, CacheLike, TokenizerLike } from './model.js';
export {
  resolveGenerationConfig,
  generationConfigFor,
  modelGenerationDefaults,
  GENERATION_DEFAULTS,
  type GenerationConfig,
  type GenerationOptions,
  type ModelGenerationDefaults,
  type ResolveContext,
} from './config.js';
export type { LogitsProcessor, SampleContext, Constraint, TokenVocab } from './types.js';
export * from './processors/index.js';
export { argmax, softmax, logSoftmax, sampleToken, checkModelLogits } from './sampling.js';
export { rowRng } from './rng.js';
export { generate, stream, cutAtStop, type GenerateOptions, type GenerateResult, type FinishReason, type StepEvent } from './generate.js';
export { beamSearch, type BeamSearchOptions, type BeamSearchResult } from './beam.js';
export { speculativeGenerate, sampleResidual, type SpeculativeOptions, type SpeculativeResult, type SpeculativeStats } from './speculative.js';
export { scoreContinuation, type ContinuationScore } from './score.js';
export { promptRoom } from './prompt.js';
export * from './constrained/index.js';
// A test double: a CausalLM whose logits are a function of the context.
export { FunctionLM } from './function-lm.js';
