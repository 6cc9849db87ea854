/**
 * The `llm-train` command line, as a function so tests can run it in-process.
 *
 *   process.exitCode = await main(process.argv.slice(2));
 *
 * Exit codes: 0 success (also after SIGINT/SIGTERM, which save a checkpoint first); 1 a failure
 * while working; 2 bad usage or config (one line on stderr, nothing done).
 */
import { Command, CommanderError } from 'commander';
import { TransformerError } from '@llm/transformer';
import { TokenizerError } from '@llm/tokenizer-bpe';
import { SampleError } from '@llm/sample';
import { TrainError } from '@llm/train';
import { PeftError } from '@llm/peft';
import { AlignError } from '@llm/align';
import { CliError } from './options.js';
import { pretrainCommand } from './commands/pretrain.js';
import { sftCommand } from './commands/sft.js';
import { evalCommand } from './commands/eval.js';
import { sampleCommand } from './commands/sample.js';
import { tokenizerCommand } from './commands/tokenizer.js';
import { startCommand } from './commands/start.js';
import { mergeCommand } from './commands/merge.js';
import { alignCommands } from './commands/align.js';
import { rlCommands } from './commands/rl.js';
import { rlaifCommand } from './commands/rlaif.js';
import { planCommand } from './commands/plan.js';

export function program(): Command {
  const p = new Command('llm-train')
    .description('Train, fine-tune, evaluate and sample small language models (llm-ts).')
    .showHelpAfterError(false)
    .exitOverride();
  for (const c of [tokenizerCommand(), pretrainCommand(), sftCommand(), ...alignCommands(), ...rlCommands(), rlaifCommand(), evalCommand(), planCommand(), sampleCommand(), mergeCommand(), startCommand()]) {
    p.addCommand(c.exitOverride().configureOutput({ writeErr: () => undefined }));
  }
  p.configureOutput({ writeErr: () => undefined });
  return p;
}

export async function main(argv: readonly string[]): Promise<number> {
  try {
    await program().parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (e) {
    return report(e);
  }
}

function report(e: unknown): number {
  const say = (msg: string) => void process.stderr.write(`llm-train: ${msg}\n`);
  if (e instanceof CommanderError) {
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.exitCode === 0) return 0;
    say(`${e.message.replace(/^error: /, '')} (see llm-train --help)`);
    return 2;
  }
  if (e instanceof CliError) {
    say(e.message);
    return e.exitCode;
  }
  if (e instanceof TrainError) {
    // the library says how to override a refusal in its own terms; here that is a flag
    say(oneLine(e.message.replace(/pass `force: true`/g, 'pass --force')));
    return USAGE_CODES.has(e.code) ? 2 : 1;
  }
  if (e instanceof TransformerError || e instanceof TokenizerError || e instanceof SampleError) {
    say(oneLine(e.message));
    return e.code.startsWith('CONFIG') ? 2 : 1;
  }
  if (e instanceof PeftError) {
    // an adapter config or file the method cannot take (commands turn most into CliErrors first)
    say(oneLine(e.message));
    return e.code === 'CONFIG_INVALID' || e.code === 'INVALID_ARGUMENT' ? 2 : 1;
  }
  if (e instanceof AlignError) {
    // bad data (names file:line), a reference / tokenizer with another vocabulary: 1; a bad option combination: 2
    say(oneLine(e.message));
    return e.code === 'CONFIG_INVALID' || e.code === 'INVALID_ARGUMENT' ? 2 : 1;
  }
  const fs = fsErrorLine(e);
  if (fs !== null) {
    say(fs);
    return 1;
  }
  // anything else is a bug: one line (the stack with LLM_DEBUG=1)
  say(e instanceof Error ? `internal error: ${e.name}: ${oneLine(e.message)}${process.env.LLM_DEBUG ? `\n${e.stack ?? ''}` : ' (set LLM_DEBUG=1 for the stack)'}` : String(e));
  return 1;
}

/** TrainError codes that mean "nothing was done: fix the command" (exit 2). */
const USAGE_CODES = new Set(['CONFIG_INVALID', 'CONFIG_UNKNOWN_KEY', 'DATA_MISSING', 'DATA_EMPTY', 'CHECKPOINT_MISMATCH', 'CHECKPOINT_EXISTS']);

const oneLine = (m: string) => m.replace(/\s*\n\s*/g, ' ');

/**
 * A file-system error (Node's ErrnoException: --out under a file, a read-only folder, a full disk)
 * as one line naming the path, or null for other errors.
 *
 *   fsErrorLine(Object.assign(new Error(), { code: 'ENOTDIR', path: 'out/x' }))   // 'out/x: a part of this path is a file, not a folder (ENOTDIR)'
 */
function fsErrorLine(e: unknown): string | null {
  const { code, path, syscall } = (e ?? {}) as NodeJS.ErrnoException;
  const why: Record<string, string> = {
    ENOTDIR: 'a part of this path is a file, not a folder',
    EISDIR: 'is a folder, not a file',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EROFS: 'the file system is read-only',
    ENOSPC: 'no space left on the device',
    EDQUOT: 'disk quota exceeded',
    ENOENT: 'does not exist',
    EEXIST: 'already exists',
    EMFILE: 'too many open files',
    ENAMETOOLONG: 'the name is too long',
  };
  if (typeof code !== 'string' || !(code in why)) return null;
  return `${path ?? '(a file)'}: ${why[code]}${syscall ? ` (${syscall}, ${code})` : ` (${code})`}`;
}
