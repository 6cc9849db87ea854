/**
 * Every error @llm/peft throws on purpose is a PeftError with a stable `code`.
 *
 *   try { await loadAdapter(model, 'out/adapter') } catch (e) {
 *     if (e instanceof PeftError && e.code === 'SHAPE_MISMATCH') console.error(e.message);
 *   }
 */
export type PeftErrorCode =
  | 'TARGET_NOT_FOUND' // target_modules / modules_to_save / a saved tensor name that matches no module of the model
  | 'SHAPE_MISMATCH' // an adapter tensor whose shape does not fit the module (another architecture or size)
  | 'UNSUPPORTED_PEFT_TYPE' // an adapter_config.json whose peft_type this package does not implement
  | 'ADAPTER_NOT_FOUND' // a missing adapter file or an unknown adapter name
  | 'ADAPTER_EXISTS' // addAdapter with a name already in use
  | 'ADAPTER_INVALID' // an adapter file that is unreadable, malformed, or lacks a tensor its config implies
  | 'CONFIG_INVALID' // a config field of the wrong type or out of range
  | 'UNSUPPORTED' // an operation or option this package does not support (say which, and what to do)
  | 'INVALID_ARGUMENT'; // any other argument out of its allowed range

export class PeftError extends Error {
  readonly code: PeftErrorCode;
  constructor(code: PeftErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PeftError';
    this.code = code;
  }
}
