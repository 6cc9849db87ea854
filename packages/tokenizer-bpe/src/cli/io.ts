/**
 * The streams a CLI command talks to, injectable so `main()` can be tested in-process.
 *
 *   const io = captureIo('some stdin text');   // in tests
 *   await main(['count', '-t', 'tok.json'], io);
 *   io.out()   // '3\n'
 */
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

/**
 * Reads all of stdin as UTF-8 text.
 *
 *   await readAllText(io.stdin)   // 'hello\n'
 */
export async function readAllText(input: AsyncIterable<string | Uint8Array>): Promise<string> {
  const decoder = new TextDecoder();
  let text = '';
  for await (const chunk of input)
    text += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
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
