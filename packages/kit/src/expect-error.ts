/**
 * Asserting that code fails the way it should: the error's `code`, fragments (strings or RegExps)
 * of its message, and optionally its class. Returns the caught error for further checks. Failures
 * throw node's `AssertionError`, which vitest reports like its own (with the caught error as `cause`).
 *
 *   const e = expectError(() => JSON.parse('{'), undefined, /JSON/, SyntaxError);   // e: SyntaxError
 *   expectError(() => tok.decode([-1]), 'UNKNOWN_TOKEN', 'unknown token', TokenizerError);
 *   await expectErrorAsync(() => loadModel('/nope'), 'CHECKPOINT_NOT_FOUND', [/config\.json/, '/nope']);
 *   await expectErrorAsync(readFile('/nope'), 'ENOENT');   // a promise works too
 *
 * A package may wrap these in a one-line typed helper (its error class and code union).
 */
import { AssertionError } from 'node:assert';

/** A class of errors, for the optional class check (abstract classes are fine). */
export type ErrorClass<E extends Error> = abstract new (...args: never[]) => E;

/** What the message must contain: a substring, a RegExp, or several (all must match). */
export type MessageMatch = string | RegExp | ReadonlyArray<string | RegExp>;

/** Calls `fn` and returns the error it throws, after checking `code`, `message` and `type` (each only when given). */
export function expectError<E extends Error = Error>(
  fn: () => unknown,
  code?: string,
  message?: MessageMatch,
  type?: ErrorClass<E>,
): E {
  let result: unknown;
  try {
    result = fn();
  } catch (e) {
    return checkError(e, code, message, type);
  }
  if (isThenable(result)) {
    result.then(undefined, () => undefined); // a rejection must not go unhandled
    throw new AssertionError({ message: 'expectError: fn returned a promise; use expectErrorAsync for async code' });
  }
  throw notThrown(code, type);
}

/** The async twin of `expectError`: awaits `fn()` (or the promise given) and returns the error it throws or rejects with. */
export async function expectErrorAsync<E extends Error = Error>(
  fn: PromiseLike<unknown> | (() => unknown),
  code?: string,
  message?: MessageMatch,
  type?: ErrorClass<E>,
): Promise<E> {
  try {
    await (typeof fn === 'function' ? fn() : fn);
  } catch (e) {
    return checkError(e, code, message, type);
  }
  throw notThrown(code, type);
}

function checkError<E extends Error>(e: unknown, code?: string, message?: MessageMatch, type?: ErrorClass<E>): E {
  const expected = describe(code, type);
  const name = (e as { constructor?: { name?: string } } | null)?.constructor?.name ?? typeof e;
  if (type !== undefined && !(e instanceof type)) {
    throw fail(`expected ${expected}, got ${name}: ${String((e as Error)?.message ?? e)}`, name, type.name, e);
  }
  if (!(e instanceof Error)) throw fail(`expected ${expected}, got a thrown ${name}: ${String(e)}`, e, expected, e);
  const actualCode = (e as Error & { code?: unknown }).code;
  if (code !== undefined && actualCode !== code) {
    throw fail(`expected ${expected}, got code ${String(actualCode)}: ${e.message}`, actualCode, code, e);
  }
  for (const m of message === undefined ? [] : typeof message === 'string' || message instanceof RegExp ? [message] : message) {
    const ok = typeof m === 'string' ? e.message.includes(m) : e.message.search(m) >= 0;
    if (!ok) throw fail(`expected ${expected} with a message matching ${String(m)}, got: ${e.message}`, e.message, m, e);
  }
  return e as E;
}

function describe(code: string | undefined, type: ErrorClass<Error> | undefined): string {
  return `${type?.name ?? 'an error'}${code === undefined ? '' : `(${code})`}`;
}

function notThrown(code: string | undefined, type: ErrorClass<Error> | undefined): AssertionError {
  return new AssertionError({ message: `expected ${describe(code, type)} to be thrown, but nothing was thrown` });
}

function fail(message: string, actual: unknown, expected: unknown, cause: unknown): AssertionError {
  const err = new AssertionError({ message, actual, expected, operator: 'expectError' });
  (err as Error & { cause?: unknown }).cause = cause;
  return err;
}

function isThenable(x: unknown): x is PromiseLike<unknown> {
  return typeof (x as { then?: unknown } | null)?.then === 'function';
}
