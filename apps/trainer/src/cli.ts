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
import { TrainError } from '@llm/train';
import { CliError } from './options.js';
import { pretrainCommand } from './commands/pretrain.js';
import { sftCommand } from './commands/sft.js';
import { evalCommand } from './commands/eval.js';
import { sampleCommand } from './commands/sample.js';
import { tokenizerCommand } from './commands/tokenizer.js';
import { startCommand } from './commands/start.js';

export function program(): Command {
  const p = new Command('llm-train')
    .description('Train, fine-tune, evaluate and sample small language models (llm-ts).')
    .showHelpAfterError(false)
    .exitOverride();
  for (const c of [tokenizerCommand(), pretrainCommand(), sftCommand(), evalCommand(), sampleCommand(), startCommand()]) {
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
  if (e instanceof TrainError || e instanceof TransformerError) {
    say(e.message);
    return e.code.startsWith('CONFIG') || e.code === 'DATA_MISSING' || e.code === 'DATA_EMPTY' ? 2 : 1;
  }
  say(e instanceof Error ? (e.stack ?? e.message) : String(e));
  return 1;
}
