/**
 * The `llm-quant` command line, as a function so tests can run it in-process.
 *
 *   llm-quant export-gguf <model-dir> -o model.gguf --type q8_0
 *   llm-quant import-gguf model.gguf -o <model-dir>
 *   llm-quant quantize <model-dir> -o <out-dir> --scheme nf4
 *   llm-quant inspect model.gguf
 *
 * Exit codes: 0 success; 1 a failure while working (unreadable or hostile file…); 2 bad usage.
 * Errors are one `llm-quant: …` line on stderr.
 */
import { Command, CommanderError } from 'commander';
import { QuantError } from './errors.js';
import { exportGgufCommand } from './cli/export-gguf.js';
import { importGgufCommand } from './cli/import-gguf.js';
import { inspectCommand } from './cli/inspect.js';
import { quantizeCommand } from './cli/quantize.js';

/** Each command module adds itself here (one file per command in src/cli/). */
const COMMANDS: Array<() => Command> = [exportGgufCommand, importGgufCommand, inspectCommand, quantizeCommand];

export function program(): Command {
  const p = new Command('llm-quant').description('Quantize llm-ts models, and convert them to and from GGUF (llama.cpp).').exitOverride();
  for (const make of COMMANDS) p.addCommand(make().exitOverride().configureOutput({ writeErr: () => undefined }));
  return p.configureOutput({ writeErr: () => undefined });
}

export async function main(argv: readonly string[]): Promise<number> {
  const say = (m: string) => void process.stderr.write(`llm-quant: ${m}\n`);
  try {
    await program().parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.exitCode === 0) return 0;
      say(`${e.message.replace(/^error: /, '')} (see llm-quant --help)`);
      return 2;
    }
    if (e instanceof QuantError) {
      say(e.message);
      return e.code === 'INVALID_ARGUMENT' ? 2 : 1;
    }
    say(e instanceof Error ? e.message : String(e));
    return 1;
  }
}
