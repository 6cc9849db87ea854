import { AssertionError } from 'node:assert';
import { describe, expect, it } from 'vitest';
import { expectError, expectErrorAsync } from './expect-error.js';

class CodedError extends Error {
  constructor(message: string, readonly code: string) {
    super(message);
  }
}
const throwsCoded = (): never => {
  throw new CodedError('shape [2, 3] does not match [3, 2]', 'SHAPE');
};

describe('expectError', () => {
  it('returns the error when code, message fragments and class all match', () => {
    const e = expectError(throwsCoded, 'SHAPE', 'does not match', CodedError);
    expect(e.code).toBe('SHAPE');
    expect(expectError(throwsCoded, 'SHAPE', [/\[2, 3\]/, '[3, 2]'])).toBeInstanceOf(CodedError);
    expect(expectError(throwsCoded)).toBeInstanceOf(CodedError);
  });

  it('fails on no error, another code, another message, another class, or a promise', () => {
    const fails = (f: () => unknown, why: RegExp): void => {
      expect(f).toThrow(AssertionError);
      expect(f).toThrow(why);
    };
    fails(() => expectError(() => 1, 'SHAPE'), /expected an error\(SHAPE\) to be thrown, but nothing was thrown/);
    fails(() => expectError(throwsCoded, 'DTYPE'), /got code SHAPE/);
    fails(() => expectError(throwsCoded, 'SHAPE', /dtype/), /with a message matching \/dtype\//);
    fails(() => expectError(throwsCoded, 'SHAPE', ['shape', 'dtype']), /matching dtype/);
    fails(() => expectError(throwsCoded, undefined, undefined, RangeError), /expected RangeError, got CodedError/);
    fails(() => expectError(() => Promise.reject(new Error('x'))), /use expectErrorAsync/);
  });
});

describe('expectErrorAsync', () => {
  it('awaits a function or a promise', async () => {
    const e = await expectErrorAsync(async () => throwsCoded(), 'SHAPE', 'match', CodedError);
    expect(e.message).toMatch(/shape/);
    await expectErrorAsync(Promise.reject(new CodedError('gone', 'MISSING')), 'MISSING', /gone/);
    await expectErrorAsync(throwsCoded, 'SHAPE'); // a synchronous throw counts too
  });

  it('fails when nothing is thrown', async () => {
    await expect(expectErrorAsync(async () => 1, 'SHAPE')).rejects.toThrow(/nothing was thrown/);
  });
});
