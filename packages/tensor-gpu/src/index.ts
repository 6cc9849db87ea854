// @llm/tensor-gpu — the tensor layer of llm-ts. Public surface (named exports only).
export { tf } from './tf.js';
export { TensorGpuError, type TensorGpuErrorCode } from './errors.js';
export {
  initBackend,
  resolveBackendRequest,
  describe as describeBackend,
  type BackendName,
  type BackendRequest,
  type BackendInfo,
  type BackendAttempt,
  type InitBackendOptions,
} from './backend.js';
export { installKernels, uninstallKernels, registerMissingKernels, hasKernel } from './kernels/install.js';
export { registerWasmMatMul, unregisterWasmMatMul, isWasmMatMulRegistered } from './kernels/matmul-wasm.js';
export { causalSelfAttention, type AttentionOptions } from './ops/attention.js';
export { crossEntropy, IGNORE_INDEX, type CrossEntropyOptions } from './ops/cross-entropy.js';
export { layerNorm, rmsNorm } from './ops/norms.js';
export { gelu, silu, swiglu, type GeluApproximation } from './ops/activations.js';
export { ropeTables, applyRope, type RopeConfig } from './ops/rope.js';
export { trackTensors, ownedVariable, type TrackOptions, type TrackResult } from './memory.js';
export { Rng, hashSeed } from './random.js';
export {
  parseSafetensors,
  readSafetensors,
  readSafetensorsHeader,
  serializeSafetensors,
  writeSafetensors,
  rawToFloat32,
  rawToTensor,
  tensorToRaw,
  float32ToFloat16Bits,
  float16BitsToFloat32,
  float32ToBfloat16Bits,
  bfloat16BitsToFloat32,
  isSafetensorsDtype,
  DTYPE_INFO,
  DEFAULT_MAX_HEADER_BYTES,
  type SafetensorsDtype,
  type DtypeInfo,
  type RawTensor,
  type SafetensorsFile,
  type SafetensorsEntry,
  type SafetensorsHeader,
  type ParseSafetensorsOptions,
  type TensorInput,
  type TensorsInput,
} from './safetensors/index.js';
export { writeFileAtomic, type AtomicWriteData } from './atomic-write.js';
export { parseUntrustedJson, DEFAULT_MAX_JSON_DEPTH, type UntrustedJsonOptions } from './json.js';
