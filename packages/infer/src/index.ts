// @llm/infer — the inference engine: a CausalLM over packed weights in WebAssembly.
export { InferError, type InferErrorCode } from './errors.js';
export { compileForInference, WEIGHT_FORMATS, type CompileOptions, type WeightFormat } from './compile.js';
export { InferenceModel, type StepInput, type StepOptions, type CacheStats } from './engine/model.js';
export { Sequence } from './engine/sequence.js';
export { PagedCache } from './engine/cache.js';
export type { EngineOptions } from './engine/build.js';
export { loadGgufForInference } from './gguf.js';
