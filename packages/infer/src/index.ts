// @llm/infer — the inference engine: a CausalLM over packed weights in WebAssembly.
export { InferError, type InferErrorCode } from './errors.js';
export { compileForInference, type CompileOptions, type WeightFormat } from './compile.js';
export { KERNEL_FORMATS, formatInfo, formatOfId, rowBytes, isKernelFormat, type KernelFormat, type FormatInfo } from './kernels/format.js';
// Low level: the engine's wasm module on a shared memory (kernels by byte offset; see README "Kernels").
export { createMemory, instantiate, type EngineExports } from './wasm/module.js';
export { InferenceModel, type StepInput, type StepOptions, type CacheStats } from './engine/model.js';
export { Sequence } from './engine/sequence.js';
export { PagedCache } from './engine/cache.js';
export { autoThreads, AUTO_THREADS_MIN_BYTES, type EngineOptions } from './engine/build.js';
export { loadGgufForInference } from './gguf.js';
export { compileOrFallback, type CompiledOrFallback } from './or-fallback.js';
