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
  | 'CHECKPOINT_INVALID' // a checkpoint directory or file is unreadable or malformed (NaN/Inf weights included)
  | 'CHECKPOINT_UNSAFE_PATH' // a checkpoint file names a file outside its directory (absolute, "..", backslash…)
  | 'LIMIT_EXCEEDED' // a size from a file or an argument is above a limit (MODEL_LIMITS; raise it with the limits option)
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

/**
 * A short rendering of a value from an untrusted file for an error message: JSON of a scalar, a
 * short flat list or a small flat object, else its kind — bounded in length and never recursive.
 *
 *   showValue('32')        // '"32"'
 *   showValue([2, 500])    // '[2,500]'
 *   showValue(Infinity)    // 'Infinity'
 *   showValue([[[[]]]])    // 'an array of 1'
 */
export function showValue(v: unknown): string {
  const MAX = 80;
  const flat = (xs: unknown[]) => xs.length <= 8 && xs.every((x) => x === null || typeof x !== 'object');
  let s: string;
  if (typeof v === 'string') s = JSON.stringify(v.length > MAX ? `${v.slice(0, MAX)}…` : v);
  else if (typeof v === 'number' || typeof v === 'bigint' || v === undefined) s = String(v);
  else if (Array.isArray(v)) s = flat(v) ? JSON.stringify(v.map((x) => (typeof x === 'string' ? x.slice(0, 20) : x))) : `an array of ${v.length}`;
  else if (typeof v === 'object' && v !== null) s = flat(Object.values(v)) && Object.keys(v).every((k) => k.length <= 40) ? JSON.stringify(v, (_, x: unknown) => (typeof x === 'string' ? x.slice(0, 20) : x)) : 'an object';
  else s = JSON.stringify(v) ?? String(v);
  return s.length > MAX + 10 ? `${s.slice(0, MAX)}…` : s;
}
