/**
 * Small shape checks for reading JSON tokenizer files; each failure is a TokenizerError that
 * names the offending field.
 *
 *   const root = parseJsonObject(text, 'tokenizer.json');
 *   const ver = field(root, 'version', 'tokenizer.json');   // unknown
 */
import { TokenizerError } from '../errors.js';
import { TOKENIZER_LIMITS, type TokenizerLimits, limitExceeded, parseJsonLimited } from '../limits.js';

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

/**
 * Parses `input` if it is a string (its length ≤ maxFileBytes, its nesting ≤ maxJsonDepth), then
 * requires a JSON object.
 */
export function parseJsonObject(input: unknown, where: string, limits: TokenizerLimits = TOKENIZER_LIMITS): JsonObject {
  let value = input;
  if (typeof input === 'string') {
    if (input.length > limits.maxFileBytes) throw limitExceeded(`${where}: ${input.length} characters of JSON`, limits.maxFileBytes, 'maxFileBytes');
    value = parseJsonLimited(input, where, limits);
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

/**
 * A token id: a non-negative safe integer (INVALID_FORMAT naming `what` otherwise) below
 * `limits.maxVocabSize` (LIMIT_EXCEEDED otherwise: decoding tables are that long).
 */
export function checkId(v: unknown, what: string, where: string, limits: TokenizerLimits = TOKENIZER_LIMITS): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw invalidFormat(where, `${what} must be a non-negative integer, got ${preview(v)}`);
  }
  if (v >= limits.maxVocabSize) throw limitExceeded(`${where}: ${what} is id ${v}`, limits.maxVocabSize, 'maxVocabSize');
  return v;
}

/** An object with no prototype, safe for arbitrary keys such as "__proto__". */
export function dict<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

/** A short JSON preview of a value for error messages (never the whole of a huge value). */
export function preview(v: unknown, max = 80): string {
  let s: string;
  try {
    s = typeof v === 'string' ? JSON.stringify(v.length > max ? v.slice(0, max) : v) : JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  return s.length > max ? `${s.slice(0, max)}…` : s;
}
