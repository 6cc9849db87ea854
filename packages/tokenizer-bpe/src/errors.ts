/**
 * Every error @llm/tokenizer-bpe throws on purpose is a TokenizerError with a stable `code`.
 *
 *   try { tok.encode('<|endoftext|>') } catch (e) {
 *     if (e instanceof TokenizerError && e.code === 'DISALLOWED_SPECIAL') ...
 *   }
 */
export type TokenizerErrorCode =
  | 'DISALLOWED_SPECIAL' // special-token text found in input that is not allowed to contain it
  | 'UNKNOWN_TOKEN' // an id that is not in the vocabulary (decode, tokenToBytes)
  | 'INVALID_FORMAT' // a rank file / JSON / tokenizer.json that is malformed or inconsistent
  | 'INVALID_ARGUMENT' // bad options (vocab size too small, unknown encoding name, bad pattern)
  | 'UNSUPPORTED' // well-formed input for a feature we do not handle (e.g. a non-BPE HF model)
  | 'TEMPLATE_INVALID' // a chat template that does not parse, or fails while rendering (raise_exception)
  | 'TEMPLATE_MISSING' // no chat template where one was looked for, or none by the name asked for
  | 'TEMPLATE_BUDGET' // a chat template went over its step, output or nesting budget while rendering
  | 'TEMPLATE_UNSAFE' // a chat template construct refused before rendering: its cost could not be bounded
  | 'UNSAFE_PATTERN' // a pre-tokenization pattern outside what the linear-time matcher runs (see README)
  | 'LIMIT_EXCEEDED'; // an input over a size limit (TOKENIZER_LIMITS: file, vocabulary, token, piece, …)

export class TokenizerError extends Error {
  readonly code: TokenizerErrorCode;
  constructor(code: TokenizerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TokenizerError';
    this.code = code;
  }
}
