/**
 * Every error @llm/align throws on purpose is an AlignError with a stable `code`.
 *
 *   try { readPreferenceJsonl('prefs.jsonl') } catch (e) {
 *     if (e instanceof AlignError && e.code === 'DATA_INVALID') console.error(e.message); // names the line and field
 *   }
 */
export type AlignErrorCode =
  | 'DATA_INVALID' // a data row that is malformed, empty, or has identical chosen/rejected (names the file, line and field)
  | 'SEQUENCE_TOO_LONG' // a prompt that leaves no room for a response within the length limits
  | 'VOCAB_MISMATCH' // a reference / reward model or tokenizer with another vocabulary than the policy
  | 'CONFIG_INVALID' // an option out of range or a combination the method does not allow
  | 'UNSUPPORTED' // an operation this package does not do (says which and what to do instead)
  | 'INVALID_ARGUMENT'; // any other argument out of its allowed range

export class AlignError extends Error {
  readonly code: AlignErrorCode;
  constructor(code: AlignErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AlignError';
    this.code = code;
  }
}
