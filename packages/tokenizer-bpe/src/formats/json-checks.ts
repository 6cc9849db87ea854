/**
 * Small shape checks for reading JSON tokenizer files; each failure is a TokenizerError that
 * names the offending field.
 *
 *   const root = parseJsonObject(text, 'tokenizer.json');
 *   const ver = field(root, 'version', 'tokenizer.json');   // unknown
 */
import { TokenizerError } from '../errors.js';

export type JsonObject = Record<string, unknown>;

/** A TokenizerError('INVALID_FORMAT') with `where` prefixed. */
export function invalidFormat(where: string, message: string): TokenizerError {
  return new TokenizerError('INVALID_FORMAT', `${where}: ${message}`);
}

/** A TokenizerError('UNSUPPORTED') with `where` prefixed. */
export function unsupported(where: string, message: string): TokenizerError {
  return new TokenizerError('UNSUPPORTED', `${where}: ${message}`);
}

export function isObject(x: unknown): x is JsonObject {
  return x !== null && typeof x === 'object' && !Array.isArray(x);
}

/** Parses `input` if it is a string, then requires a JSON object. */
export function parseJsonObject(input: unknown, where: string): JsonObject {
  let value = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch (err) {
      throw new TokenizerError('INVALID_FORMAT', `${where}: not valid JSON (${(err as Error).message})`, {
        cause: err,
      });
    }
  }
  if (!isObject(value)) throw invalidFormat(where, 'expected a JSON object at the top level');
  return value;
}

/** An own property (never one inherited from Object.prototype). */
export function field(obj: JsonObject, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(obj, key) ? obj[key] : undefined;
}

/** A required string field. */
export function stringField(obj: JsonObject, key: string, where: string): string {
  const v = field(obj, key);
  if (typeof v !== 'string') throw invalidFormat(where, `"${key}" must be a string`);
  return v;
}

/** A non-negative safe integer, or an INVALID_FORMAT error naming `what`. */
export function checkId(v: unknown, what: string, where: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw invalidFormat(
      where,
      `${what} must be a non-negative integer, got ${JSON.stringify(v) ?? String(v)}`,
    );
  }
  return v;
}

/** An object with no prototype, safe for arbitrary keys such as "__proto__". */
export function dict<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}
