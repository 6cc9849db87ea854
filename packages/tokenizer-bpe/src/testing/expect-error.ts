/** Test helper: `fn` throws a TokenizerError with `code` and (when given) a message matching `message` (the kit's expectError, typed). */
import { expectError as expectErrorOf } from '@llm/kit';
import { TokenizerError, type TokenizerErrorCode } from '../errors.js';

export const expectError = (fn: () => unknown, code: TokenizerErrorCode, message?: string | RegExp): TokenizerError => expectErrorOf(fn, code, message, TokenizerError);
