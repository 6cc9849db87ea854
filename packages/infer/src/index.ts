// @llm/infer — the inference engine: a CausalLM over packed weights in WebAssembly.
export { InferError, type InferErrorCode } from './errors.js';
