/** Test helper: `fn` throws a TensorGpuError with `code` and a message matching `fragment` (the kit's expectError, typed). */
import { expectError as expectErrorOf } from '@llm/kit';
import { TensorGpuError, type TensorGpuErrorCode } from '../errors.js';

export const expectError = (fn: () => unknown, code: TensorGpuErrorCode, fragment?: string | RegExp): TensorGpuError => expectErrorOf(fn, code, fragment, TensorGpuError);
