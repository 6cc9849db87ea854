/**
 * Checks of what callers pass to applyChatTemplate, so a bad conversation is an INVALID_ARGUMENT
 * that names the field, not a confusing render.
 *
 *   checkMessages([{ role: 'user' }])   // throws: messages[0].content must be a string, got nothing
 */
import { TokenizerError } from '../errors.js';
import { type TokenizerLimits, valueDepth } from '../limits.js';
import type { ChatMessage } from './types.js';

/** Each message is an object with a non-empty string `role` and a string `content`. */
export function checkMessages(messages: unknown): asserts messages is readonly ChatMessage[] {
  if (!Array.isArray(messages)) throw invalid(`messages must be an array of { role, content }, got ${kind(messages)}`);
  messages.forEach((m: unknown, i) => {
    if (m === null || typeof m !== 'object' || Array.isArray(m)) throw invalid(`messages[${i}] must be an object { role, content }, got ${kind(m)}`);
    const { role, content } = m as Record<string, unknown>;
    if (typeof role !== 'string' || role === '') throw invalid(`messages[${i}].role must be a non-empty string (e.g. "user"), got ${kind(role)}`);
    if (typeof content !== 'string') {
      throw invalid(`messages[${i}].content must be a string (use "" for an assistant message that only calls tools), got ${kind(content)}`);
    }
  });
}

/** `tools` / `documents`: absent, null, or an array of objects. */
export function checkObjectList(value: unknown, field: 'tools' | 'documents'): void {
  if (value === undefined || value === null) return;
  if (!Array.isArray(value)) throw invalid(`${field} must be an array of objects, got ${kind(value)}`);
  value.forEach((v: unknown, i) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw invalid(`${field}[${i}] must be an object (a JSON schema), got ${kind(v)}`);
  });
}

/**
 * Template variables (messages, tools, documents, extra variables) nest at most `maxJsonDepth`
 * deep and hold no cycles: the renderer converts and prints them recursively.
 */
export function checkVariableDepth(vars: Record<string, unknown>, limits: TokenizerLimits): void {
  for (const [name, value] of Object.entries(vars)) {
    if (valueDepth(value, limits.maxJsonDepth) > limits.maxJsonDepth) {
      throw new TokenizerError(
        'LIMIT_EXCEEDED',
        `the template variable "${name}" nests deeper than ${limits.maxJsonDepth} levels (or refers to itself); limits.maxJsonDepth bounds it.`,
      );
    }
  }
}

/** addGenerationPrompt: absent or a boolean. */
export function checkFlag(value: unknown, field: string): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw invalid(`${field} must be true or false, got ${kind(value)}`);
  return value;
}

function invalid(message: string): TokenizerError {
  return new TokenizerError('INVALID_ARGUMENT', `${message}.`);
}

/** A short description of a value's type for error messages. */
export function kind(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `${typeof v} ${JSON.stringify(v)}`;
}
