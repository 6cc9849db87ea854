/**
 * The one error type of @llm/infer, with a stable `code`.
 *
 *   throw new InferError('UNSUPPORTED_FORMAT', 'weights "q3_k" are not supported; use f32, f16, q8_0, q4_0, q4_1, q4_k or q6_k.');
 */
export type InferErrorCode =
  | 'INVALID_ARGUMENT'
  | 'UNSUPPORTED_MODEL'
  | 'UNSUPPORTED_FORMAT'
  | 'BAD_WEIGHTS'
  | 'OUT_OF_MEMORY'
  | 'CONTEXT_OVERFLOW'
  | 'CACHE_FULL'
  | 'WORKER_FAILED'
  | 'DISPOSED';

export class InferError extends Error {
  readonly code: InferErrorCode;
  constructor(code: InferErrorCode, message: string) {
    super(message);
    this.name = 'InferError';
    this.code = code;
  }
}
