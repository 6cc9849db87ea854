/**
 * The `llm-tokenizer` command line, as a function so it can run in-process (tests, other CLIs).
 *
 *   process.exitCode = await main(process.argv.slice(2));
 *   await main(['count', '-t', 'tok.json', 'file.txt'], captureIo());   // in tests
 *
 * Exit codes: 0 success; 1 an error while working (unreadable or malformed file, bad input,
 * a TokenizerError such as DISALLOWED_SPECIAL); 2 bad usage (unknown command or option, missing
 * or bad option value, INVALID_ARGUMENT from the library such as a bad --pattern).
 */
import { TokenizerError } from './errors.js';
import { encodeCommand } from './cli/encode-commands.js';
import { InputError, processIo, type CliIo } from './cli/io.js';
import { trainCommand } from './cli/train-command.js';
import { USAGE, UsageError } from './cli/usage.js';

export type { CliIo } from './cli/io.js';

/** Runs one command line (`argv` without node and the script); resolves to the exit code. */
export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'train':
        return await trainCommand(rest, io);
      case 'encode':
      case 'decode':
      case 'count':
        return await encodeCommand(command, rest, io);
      case 'help':
      case '--help':
      case '-h':
        io.stdout.write(`${USAGE}\n`);
        return 0;
      case undefined:
        throw new UsageError('missing command');
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    }
  } catch (err) {
    return report(err, io);
  }
}

function report(err: unknown, io: CliIo): number {
  if (err instanceof UsageError || (err instanceof TokenizerError && err.code === 'INVALID_ARGUMENT')) {
    io.stderr.write(`llm-tokenizer: ${err.message}\nRun 'llm-tokenizer --help' for usage.\n`);
    return 2;
  }
  if (err instanceof TokenizerError && err.code === 'DISALLOWED_SPECIAL') {
    io.stderr.write(
      `llm-tokenizer: ${err.message}\n(use --allow-special to encode it as a special token, or --special-as-text)\n`,
    );
    return 1;
  }
  if (err instanceof TokenizerError || err instanceof InputError || isNodeFsError(err)) {
    io.stderr.write(`llm-tokenizer: ${(err as Error).message}\n`);
    return 1;
  }
  // One line, like every other error (set LLM_DEBUG=1 for the stack).
  const line = err instanceof Error ? `${err.name}: ${err.message.split('\n')[0]}` : String(err);
  io.stderr.write(`llm-tokenizer: unexpected error: ${line}\n`);
  if (process.env.LLM_DEBUG && err instanceof Error && err.stack) io.stderr.write(`${err.stack}\n`);
  return 1;
}

function isNodeFsError(err: unknown): boolean {
  return err instanceof Error && typeof (err as { code?: unknown }).code === 'string' && 'syscall' in err;
}
