/**
 * JSON from untrusted files (safetensors headers, a checkpoint's config.json): nesting depth is
 * checked before parsing, duplicate keys are refused (JSON.parse keeps the last one silently, so
 * two readers could see two different files), and errors never quote the text — a syntax error
 * says where, not what it found there.
 *
 *   parseUntrustedJson('{"a":1}');                          // { a: 1 }
 *   parseUntrustedJson('{"a":1,"a":2}', { what: 'config.json' });
 *   // TensorGpuError JSON_INVALID: duplicate key "a" in config.json at the top level
 */
import { TensorGpuError } from './errors.js';
import { describeValue } from './safetensors/dtypes.js';

export interface UntrustedJsonOptions {
  /** Deepest nesting of arrays and objects accepted. Default 64. */
  maxDepth?: number;
  /** What the text is, for messages (a file name). Default "JSON text". */
  what?: string;
}

/** The default `maxDepth` of parseUntrustedJson. */
export const DEFAULT_MAX_JSON_DEPTH = 64;

/**
 * Parses JSON text from an untrusted source. Throws TensorGpuError 'JSON_INVALID' for text nested
 * deeper than `maxDepth`, a syntax error (with its position, never the text) or a key that occurs
 * twice in one object.
 */
export function parseUntrustedJson(text: string, opts: UntrustedJsonOptions = {}): unknown {
  const what = opts.what ?? 'JSON text';
  const maxDepth = opts.maxDepth ?? DEFAULT_MAX_JSON_DEPTH;
  const scan = scanJson(text, maxDepth);
  if (scan.tooDeep !== undefined) {
    throw jsonError(`${what} nests arrays/objects deeper than ${maxDepth} levels (at character ${scan.tooDeep})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw jsonError(`${what} is not valid JSON (${syntaxProblem(err)})`, err);
  }
  if (scan.duplicate) throw jsonError(`duplicate key ${describeValue(scan.duplicate.key)} in ${what} ${scan.duplicate.where}`);
  return value;
}

function jsonError(message: string, cause?: unknown): TensorGpuError {
  return new TensorGpuError('JSON_INVALID', message, cause === undefined ? undefined : { cause });
}

/** V8's SyntaxError without the excerpt of the text it quotes: where, or what kind. */
function syntaxProblem(err: unknown): string {
  const msg = err instanceof Error ? err.message : '';
  const at = /at position (\d+)/.exec(msg);
  if (at) return `syntax error at character ${at[1]}`;
  if (/Unexpected end of JSON input/.test(msg)) return 'the text ends early';
  return 'unexpected character';
}

/**
 * Finds a key that occurs twice in one object of an already-validated JSON text (JSON.parse keeps
 * the last one silently). Keys compare after unescaping, so "a" and "\u0061" collide.
 *
 *   findDuplicateKey('{"a":1,"a":2}')  // { key: 'a', where: 'at the top level' }
 */
export function findDuplicateKey(json: string): { key: string; where: string } | undefined {
  return scanJson(json, Infinity).duplicate;
}

/**
 * One pass over the structure of a JSON text (strings skipped): the first position nested deeper
 * than `maxDepth`, and the first duplicate key. Safe on invalid text (it only counts brackets).
 */
function scanJson(json: string, maxDepth: number): { tooDeep?: number; duplicate?: { key: string; where: string } } {
  const stack: { keys: Set<string> | null; owner: string | undefined }[] = [];
  let expectKey = false;
  let lastKey: string | undefined;
  let duplicate: { key: string; where: string } | undefined;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (stack.length >= maxDepth) return { tooDeep: i };
      // The owner of a nested value is the top-level key it sits under.
      const owner = stack.length === 1 ? lastKey : stack.at(-1)?.owner;
      stack.push({ keys: c === 0x7b && !duplicate ? new Set() : null, owner });
      expectKey = c === 0x7b;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
      expectKey = false;
    } else if (c === 0x2c /* , */) {
      expectKey = stack.at(-1)?.keys != null;
    } else if (c === 0x22 /* " */) {
      const end = endOfString(json, i);
      const top = stack.at(-1);
      if (expectKey && top?.keys && !duplicate) {
        const key = unquote(json.slice(i, end + 1));
        if (key !== undefined && top.keys.has(key)) {
          duplicate = { key, where: top.owner === undefined ? 'at the top level' : `in entry ${describeValue(top.owner)}` };
        }
        if (key !== undefined) top.keys.add(key);
        lastKey = key;
        expectKey = false;
      }
      i = end;
    }
  }
  return duplicate ? { duplicate } : {};
}

/** The value of a JSON string literal, or undefined when it is not a valid one. */
function unquote(literal: string): string | undefined {
  try {
    return JSON.parse(literal) as string;
  } catch {
    return undefined;
  }
}

/** Index of the closing quote of the JSON string that opens at `start`. */
function endOfString(json: string, start: number): number {
  let i = start + 1;
  while (i < json.length) {
    const c = json.charCodeAt(i);
    if (c === 0x5c /* \ */) i += 2;
    else if (c === 0x22) return i;
    else i++;
  }
  return json.length;
}
