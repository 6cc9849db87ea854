/** Test helper: assert fn throws a TensorGpuError with `code` and a message matching `fragment`. */
import { expect } from 'vitest';
import { TensorGpuError, type TensorGpuErrorCode } from '../errors.js';

export function expectError(fn: () => unknown, code: TensorGpuErrorCode, fragment: string | RegExp): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(TensorGpuError);
  expect((err as TensorGpuError).code).toBe(code);
  expect((err as Error).message).toMatch(fragment);
}
