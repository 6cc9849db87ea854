/**
 * Every error @llm/sample throws on purpose is a SampleError with a stable `code`.
 *
 *   try { new TopPProcessor(1.5) } catch (e) {
 *     if (e instanceof SampleError && e.code === 'INVALID_ARGUMENT') ...   // "topP must be in (0, 1] ..."
 *   }
 */
export type SampleErrorCode =
  | 'INVALID_ARGUMENT' // an option or argument out of its allowed range (topP = 1.5, NaN in logits, ...)
  | 'SHAPE_MISMATCH' // logits / ids of the wrong length or shape
  | 'CONSTRAINT_INVALID' // a constraint (regex, JSON schema) that cannot be built or satisfied, or is past its limits
  | 'NON_FINITE_LOGITS' // the model produced NaN / +Infinity logits (broken or diverged weights)
  | 'ABORTED'; // generation stopped by an AbortSignal

export class SampleError extends Error {
  readonly code: SampleErrorCode;
  constructor(code: SampleErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SampleError';
    this.code = code;
  }
}
