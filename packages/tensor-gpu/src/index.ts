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
export { causalSelfAttention, type AttentionOptions } from './ops/attention.js';
export { crossEntropy, type CrossEntropyOptions } from './ops/cross-entropy.js';
export { layerNorm, rmsNorm } from './ops/norms.js';
export { gelu, silu, swiglu, type GeluApproximation } from './ops/activations.js';
export { ropeTables, applyRope, type RopeConfig } from './ops/rope.js';
export { trackTensors, type TrackOptions, type TrackResult } from './memory.js';
