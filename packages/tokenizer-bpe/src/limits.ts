/**
 * Every size this package accepts from untrusted input (tokenizer files, pre-tokenization patterns,
 * chat templates, text and ids), in one place, checked before anything of that size is allocated.
 * The defaults are far above what real tokenizers use; raise one with the `limits` option of the
 * loader, Tokenizer or template that needs it.
 *
 *   TOKENIZER_LIMITS.maxVocabSize                                   // 2097152
 *   await loadTokenizer('big/tokenizer.json', { limits: { maxFileBytes: 512 * 2 ** 20 } });
 *   new Tokenizer(def, { limits: { maxPieceBytes: 2 ** 24 } });
 *   applyChatTemplate(messages, { template, limits: { maxTemplateSteps: 10_000_000 } });
 *
 * Going over a limit is a TokenizerError('LIMIT_EXCEEDED') naming the limit (or UNSAFE_PATTERN /
 * TEMPLATE_BUDGET for patterns and templates).
 */
import { constants, type Stats } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { TokenizerError } from './errors.js';

export interface TokenizerLimits {
  /** Largest tokenizer / template / config file read, in bytes (read stops there: a growing file cannot pass it). */
  maxFileBytes: number;
  /** Deepest nesting of arrays and objects in a JSON file (and of message / tool objects given to a template). */
  maxJsonDepth: number;
  /** Largest token id + 1, ordinary and special tokens alike (the decoder allocates tables of this length). */
  maxVocabSize: number;
  /** Longest token, in bytes. */
  maxTokenBytes: number;
  /** All tokens' bytes together. */
  maxTotalTokenBytes: number;
  /** Most merges in a tokenizer file. */
  maxMerges: number;
  /** Most special (added) tokens. */
  maxSpecialTokens: number;
  /** Longest special token, in UTF-16 code units. */
  maxSpecialTokenLength: number;
  /** Longest pre-tokenization pattern, in characters. */
  maxPatternLength: number;
  /** Deepest group nesting in a pattern. */
  maxPatternDepth: number;
  /** Largest count in a pattern's `{n,m}`. */
  maxPatternRepeat: number;
  /** Most instructions a pattern compiles to (counted repetitions multiply). */
  maxPatternProgram: number;
  /** Most distinct characters / classes in a pattern (each learns its membership as text reaches it). */
  maxPatternSets: number;
  /** Most pending alternatives while matching one piece (group repetitions need one per iteration). */
  maxPatternFrames: number;
  /** Most memo pages (512 bytes each) alive while matching one text. */
  maxPatternMemoPages: number;
  /** Safety net: a match over n characters may take patternStepFactor × (n + 1) × (program size + 8) steps. */
  patternStepFactor: number;
  /** Longest pre-tokenized piece, in UTF-8 bytes (merging one costs ~60 bytes of memory per byte). */
  maxPieceBytes: number;
  /** Most bytes one decode may produce. */
  maxDecodeBytes: number;
  /** Longest chat template source, in characters. */
  maxTemplateLength: number;
  /** Most named chat templates in one checkpoint (`chat_template` list, additional_chat_templates/). */
  maxChatTemplates: number;
  /** Most evaluation steps of one template render (≈ 1 µs each: a node evaluated, a third of a loop iteration, a KiB of string handled). */
  maxTemplateSteps: number;
  /** Longest string (or list) a template may build, the rendered text included, in characters (elements). */
  maxTemplateOutput: number;
  /** Deepest nesting while rendering: expressions within statements, and macro calls within macro calls. */
  maxTemplateDepth: number;
}

/** The defaults (frozen). Real tokenizers: vocabularies ≤ 262k, tokens ≤ ~1 KB, files ≤ ~40 MB, patterns ≤ ~1 KB. */
export const TOKENIZER_LIMITS: Readonly<TokenizerLimits> = Object.freeze({
  maxFileBytes: 64 * 2 ** 20,
  maxJsonDepth: 64,
  maxVocabSize: 2 ** 21,
  maxTokenBytes: 4096,
  maxTotalTokenBytes: 64 * 2 ** 20,
  maxMerges: 2 ** 21,
  maxSpecialTokens: 16_384,
  maxSpecialTokenLength: 1024,
  maxPatternLength: 16_384,
  maxPatternDepth: 32,
  maxPatternRepeat: 1000,
  maxPatternProgram: 100_000,
  maxPatternSets: 256,
  maxPatternFrames: 2 ** 22,
  maxPatternMemoPages: 2 ** 18,
  patternStepFactor: 16,
  maxPieceBytes: 2 ** 20,
  maxDecodeBytes: 256 * 2 ** 20,
  maxTemplateLength: 2 ** 20,
  maxChatTemplates: 64,
  maxTemplateSteps: 1_000_000,
  maxTemplateOutput: 8 * 2 ** 20,
  maxTemplateDepth: 256,
});

const KEYS = Object.keys(TOKENIZER_LIMITS) as (keyof TokenizerLimits)[];

/**
 * TOKENIZER_LIMITS with `overrides` applied; each override must be a known name with a positive
 * integer value (INVALID_ARGUMENT otherwise).
 *
 *   resolveLimits({ maxFileBytes: 2 ** 30 }).maxFileBytes   // 1073741824
 */
export function resolveLimits(overrides?: Partial<TokenizerLimits> | TokenizerLimits): TokenizerLimits {
  if (overrides === undefined || overrides === TOKENIZER_LIMITS) return TOKENIZER_LIMITS;
  if (overrides === null || typeof overrides !== 'object') {
    throw new TokenizerError('INVALID_ARGUMENT', `limits must be an object of limit names → numbers (see TOKENIZER_LIMITS)`);
  }
  const out: TokenizerLimits = { ...TOKENIZER_LIMITS };
  for (const [key, value] of Object.entries(overrides)) {
    if (!(KEYS as string[]).includes(key)) {
      throw new TokenizerError('INVALID_ARGUMENT', `unknown limit ${JSON.stringify(key)} (known: ${KEYS.join(', ')})`);
    }
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
      throw new TokenizerError('INVALID_ARGUMENT', `limits.${key} must be a positive integer, got ${String(value)}`);
    }
    out[key as keyof TokenizerLimits] = value;
  }
  return out;
}

/** A TokenizerError('LIMIT_EXCEEDED') naming the limit and how to raise it. */
export function limitExceeded(what: string, limit: number, name: keyof TokenizerLimits): TokenizerError {
  return new TokenizerError(
    'LIMIT_EXCEEDED',
    `${what}, over the limit of ${limit} (limits.${name}); if the input is trusted, raise it with the \`limits\` option`,
  );
}

/**
 * Reads a whole file as UTF-8 text, refusing before reading anything that is not a regular file
 * (a directory, /dev/zero, a FIFO, a socket) or is larger than `maxFileBytes`, and reading at most
 * `maxFileBytes` + 1 bytes (a file that grows while being read cannot pass the limit). Bytes that
 * are not UTF-8 are INVALID_FORMAT; an unreadable path is the file system's error.
 *
 *   const text = await readTextFileLimited('tokenizer.json', limits, 'tokenizer file');
 */
export async function readTextFileLimited(path: string, limits: TokenizerLimits, what: string): Promise<string> {
  const bytes = await readFileLimited(path, limits.maxFileBytes, what, 'maxFileBytes', false);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new TokenizerError('INVALID_FORMAT', `${path}: the ${what} is not valid UTF-8 text`);
  }
}

/**
 * The bytes of `path`, at most `maxBytes` (LIMIT_EXCEEDED past it, named after `limitName`).
 * Non-regular files are refused unless `allowStreams` (then FIFOs and sockets are read as
 * streams; devices and directories are still refused).
 */
export async function readFileLimited(
  path: string,
  maxBytes: number,
  what: string,
  limitName: keyof TokenizerLimits,
  allowStreams: boolean,
): Promise<Uint8Array> {
  // Check the type before opening (opening a FIFO would wait for a writer), then again on the
  // open descriptor, in case the path was swapped in between.
  const refuse = (info: Stats): void => {
    const stream = info.isFIFO() || info.isSocket();
    if (info.isFile() || (allowStreams && stream)) return;
    const kind = info.isDirectory() ? 'a directory' : stream ? 'a pipe or socket' : 'not a regular file (a device?)';
    throw new TokenizerError('INVALID_FORMAT', `${path}: the ${what} is ${kind}; give the path of a regular file`);
  };
  const before = await stat(path);
  refuse(before);
  const fh = await open(path, before.isFile() ? constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) : constants.O_RDONLY);
  try {
    const info = await fh.stat();
    refuse(info);
    if (info.isFile() && info.size > maxBytes) {
      throw limitExceeded(`${path}: the ${what} is ${info.size} bytes`, maxBytes, limitName);
    }
    const chunks: Uint8Array[] = [];
    let total = 0;
    const chunkSize = info.isFile() ? Math.min(maxBytes + 1, Math.max(info.size + 1, 1 << 16)) : 1 << 16;
    for (;;) {
      const buf = new Uint8Array(Math.min(chunkSize, maxBytes + 1 - total));
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      chunks.push(bytesRead === buf.length ? buf : buf.subarray(0, bytesRead));
      total += bytesRead;
      if (total > maxBytes) throw limitExceeded(`${path}: the ${what} has more than ${maxBytes} bytes`, maxBytes, limitName);
    }
    if (chunks.length === 1) return chunks[0]!;
    const out = new Uint8Array(total);
    let at = 0;
    for (const c of chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  } finally {
    await fh.close();
  }
}

/**
 * The deepest nesting of `[`/`{` in JSON text (strings skipped), in one pass without recursion:
 * checked before JSON.parse so that no later recursive walk (or error message) can overflow.
 *
 *   jsonDepth('{"a": [1, {"b": "[["}]}')   // 3
 */
export function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c /* \ */) i++;
        else if (d === 0x22) break;
      }
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) max = depth;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}

/**
 * JSON.parse with the nesting limit checked first; INVALID_FORMAT (prefixed with `where`) for
 * text that does not parse, LIMIT_EXCEEDED for nesting deeper than `maxJsonDepth`.
 */
export function parseJsonLimited(text: string, where: string, limits: TokenizerLimits, notJson = 'not valid JSON'): unknown {
  const depth = jsonDepth(text);
  if (depth > limits.maxJsonDepth) throw limitExceeded(`${where}: JSON nested ${depth} deep`, limits.maxJsonDepth, 'maxJsonDepth');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new TokenizerError('INVALID_FORMAT', `${where}: ${notJson} (${(err as Error).message})`, { cause: err });
  }
}

/**
 * The nesting depth of a JS value (arrays and plain objects), stopping at `max` + 1 — so cycles
 * and absurd nesting are found without deep recursion.
 *
 *   valueDepth({ a: [1, { b: 2 }] }, 64)   // 3
 */
export function valueDepth(value: unknown, max: number): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (d > deepest) deepest = d;
    if (deepest > max) return deepest;
    const children = Array.isArray(v) ? v : Object.values(v as Record<string, unknown>);
    for (const child of children) if (child !== null && typeof child === 'object') stack.push([child, d + 1]);
  }
  return deepest;
}
