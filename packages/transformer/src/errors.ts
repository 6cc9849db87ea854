/**
 * Every error @llm/transformer throws on purpose is a TransformerError with a stable `code`.
 *
 *   try { await loadModel('ckpt') } catch (e) {
 *     if (e instanceof TransformerError && e.code === 'CHECKPOINT_MISSING_TENSOR') ...
 *   }
 */
export type TransformerErrorCode =
  | 'CONFIG_INVALID' // a config value has the wrong type, range, or contradicts another
  | 'CONFIG_UNKNOWN_KEY' // a config key this package does not know (typo?)
  | 'UNSUPPORTED_MODEL_TYPE' // config.json names a model_type / feature we do not implement
  | 'CHECKPOINT_INVALID' // a checkpoint directory or file is unreadable or malformed
  | 'CHECKPOINT_MISSING_TENSOR' // a weight the config needs is absent from model.safetensors
  | 'CHECKPOINT_UNEXPECTED_TENSOR' // model.safetensors holds a weight the config does not use
  | 'CHECKPOINT_SHAPE_MISMATCH' // a weight has the wrong shape for the config
  | 'SHAPE_MISMATCH' // a tensor argument has the wrong rank, shape or dtype
  | 'CONTEXT_OVERFLOW' // more positions than the model or the cache holds
  | 'MODULE_NOT_FOUND' // replaceModule / getModule with a name the model does not have
  | 'INVALID_ARGUMENT'; // any other argument out of its allowed range

export class TransformerError extends Error {
  readonly code: TransformerErrorCode;
  constructor(code: TransformerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TransformerError';
    this.code = code;
  }
}
