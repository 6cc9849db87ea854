/**
 * Every error @llm/quant throws on purpose is a QuantError with a stable `code`.
 *
 *   try { await readGguf('model.gguf') } catch (e) {
 *     if (e instanceof QuantError && e.code === 'GGUF_INVALID') console.error(e.message);
 *   }
 */
export type QuantErrorCode =
  | 'GGUF_INVALID' // a GGUF file that is truncated, malformed or lies about its sizes
  | 'GGUF_UNSUPPORTED' // a GGUF feature (tensor type, architecture, key) we do not implement
  | 'CHECKPOINT_INVALID' // a quantized checkpoint that is unreadable or malformed
  | 'UNSUPPORTED' // a model, layer or scheme that cannot be quantized or exported as asked
  | 'LIMIT_EXCEEDED' // a size above a documented limit
  | 'INVALID_ARGUMENT'; // any other argument out of its allowed range

export class QuantError extends Error {
  readonly code: QuantErrorCode;
  constructor(code: QuantErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'QuantError';
    this.code = code;
  }
}
