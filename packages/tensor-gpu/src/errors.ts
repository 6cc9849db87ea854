/**
 * Every error @llm/tensor-gpu throws on purpose is a TensorGpuError with a stable `code`, so
 * callers can branch on `err.code` instead of parsing messages.
 *
 *   try { readSafetensors(buf) } catch (e) {
 *     if (e instanceof TensorGpuError && e.code === 'SAFETENSORS_INVALID') ...
 *   }
 */
export type TensorGpuErrorCode =
  | 'BACKEND_UNAVAILABLE' // a requested backend is not installed or does not run
  | 'BACKEND_UNKNOWN' // an unknown backend name was requested
  | 'SAFETENSORS_INVALID' // a safetensors file/buffer is malformed or hostile
  | 'SAFETENSORS_UNSUPPORTED' // valid file, but a dtype/feature we do not handle
  | 'SAFETENSORS_WRITE' // bad input to writeSafetensors
  | 'JSON_INVALID' // untrusted JSON text (parseUntrustedJson) is malformed, too deep or has duplicate keys
  | 'SHAPE_MISMATCH' // tensors of the wrong rank/shape were passed to an op
  | 'DTYPE_MISMATCH' // tensors of the wrong dtype were passed to an op
  | 'INVALID_ARGUMENT' // an option or argument out of its allowed range
  | 'TENSOR_LEAK'; // trackTensors found tensors that outlived the tracked function

export class TensorGpuError extends Error {
  readonly code: TensorGpuErrorCode;
  constructor(code: TensorGpuErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TensorGpuError';
    this.code = code;
  }
}
