/**
 * The streams a CLI command talks to, injectable so `main()` can be tested in-process.
 *
 *   const io = captureIo('some stdin text');   // in tests
 *   await main(['count', '-t', 'tok.json'], io);
 *   io.out()   // '3\n'
 */
import { stat } from 'node:fs/promises';
import { TokenizerError } from '../errors.js';
import type { TextSink } from './progress.js';

export interface CliIo {
  stdin: AsyncIterable<string | Uint8Array>;
  stdout: TextSink;
  stderr: TextSink;
  /** Whether stderr is a terminal (progress rewrites one line in place). */
  stderrIsTTY: boolean;
}

/** The real process streams. */
export function processIo(): CliIo {
  return {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    stderrIsTTY: process.stderr.isTTY === true,
  };
}

/** Bad data on stdin or in a file (exit code 1, not a usage error). */
export class InputError extends Error {}

/** Input text must come from a regular file or a pipe: a device (/dev/zero) or a directory is refused before reading. */
export async function checkInputFile(path: string): Promise<void> {
  const info = await stat(path);
  if (!info.isFile() && !info.isFIFO() && !info.isSocket()) {
    throw new InputError(`${path}: ${info.isDirectory() ? 'is a directory' : 'is not a regular file or a pipe (a device?)'}; give a text file`);
  }
}

/** Most text the CLI reads from one input (stdin or a file): about what one JavaScript string holds. */
export const MAX_INPUT_CHARS = 2 ** 29 - 64;

/**
 * Reads all of stdin as UTF-8 text; more than MAX_INPUT_CHARS characters is LIMIT_EXCEEDED
 * (`cat /dev/zero | llm-tokenizer count` ends with an error, not with the heap).
 *
 *   await readAllText(io.stdin)   // 'hello\n'
 */
export async function readAllText(input: AsyncIterable<string | Uint8Array>, what = 'stdin'): Promise<string> {
  const decoder = new TextDecoder();
  let text = '';
  for await (const chunk of input) {
    const part = typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    if (text.length + part.length > MAX_INPUT_CHARS) {
      throw new TokenizerError('LIMIT_EXCEEDED', `${what} holds more than ${MAX_INPUT_CHARS} characters; split the input into smaller files`);
    }
    text += part;
  }
  return text + decoder.decode();
}

/** A CliIo over a fixed stdin string that records everything written (for tests). */
export function captureIo(stdin = ''): CliIo & { out(): string; err(): string } {
  const out: string[] = [];
  const err: string[] = [];
  const text = (c: string | Uint8Array) => (typeof c === 'string' ? c : Buffer.from(c).toString('utf8'));
  return {
    stdin: (async function* () {
      if (stdin) yield stdin;
    })(),
    stdout: { write: (c) => out.push(text(c)) },
    stderr: { write: (c) => err.push(text(c)) },
    stderrIsTTY: false,
    out: () => out.join(''),
    err: () => err.join(''),
  };
}
