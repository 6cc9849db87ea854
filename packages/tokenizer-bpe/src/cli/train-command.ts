/**
 * `llm-tokenizer train`: train on text files and save the tokenizer.
 *
 *   llm-tokenizer train --vocab-size 8192 --special '<|endoftext|>' -o tok.json corpus/*.txt
 */
import { basename, extname } from 'node:path';
import { parseArgs } from 'node:util';
import type { TokenizerDefinition } from '../definition.js';
import { saveTokenizer, TOKENIZER_FILE_FORMATS, type TokenizerFileFormat } from '../formats/save-load.js';
import { trainBpe, type TrainOptions } from '../train/train.js';
import { oneOf, patternOption, positiveInt, withUsageErrors } from './args.js';
import { checkInputFile, type CliIo } from './io.js';
import { progressPrinter } from './progress.js';
import { readTextChunks } from './read-text.js';
import { COMMAND_USAGE, UsageError } from './usage.js';

const OPTIONS = {
  'vocab-size': { type: 'string' },
  output: { type: 'string', short: 'o' },
  pattern: { type: 'string' },
  special: { type: 'string', multiple: true },
  format: { type: 'string' },
  'min-frequency': { type: 'string' },
  name: { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
  help: { type: 'boolean', short: 'h' },
} as const;

interface TrainArgs {
  files: string[];
  output: string;
  format: TokenizerFileFormat;
  quiet: boolean;
  patternArg: string;
  options: Omit<TrainOptions, 'onProgress'>;
}

export async function trainCommand(args: string[], io: CliIo): Promise<number> {
  const parsed = parseTrainArgs(args);
  if (parsed === 'help') {
    io.stdout.write(`${COMMAND_USAGE.train}\n`);
    return 0;
  }
  const t0 = performance.now();
  const onProgress = parsed.quiet ? undefined : progressPrinter(io.stderr, io.stderrIsTTY);
  const def = await trainBpe(chunksOf(parsed.files, io), { ...parsed.options, onProgress });
  await saveTokenizer(parsed.output, def, parsed.format);
  const seconds = ((performance.now() - t0) / 1000).toFixed(1);
  io.stderr.write(
    `trained ${def.ranks.size + def.specialTokens.size} tokens (256 bytes + ${
      def.ranks.size - 256
    } merges + ` +
      `${def.specialTokens.size} special) in ${seconds} s → ${parsed.output} (${parsed.format})\n`,
  );
  if (parsed.format === 'tiktoken') io.stderr.write(tiktokenNote(def, parsed.patternArg));
  return 0;
}

/** Checks the command line; library-level checks (vocab size vs specials, regex) come later. */
function parseTrainArgs(args: string[]): TrainArgs | 'help' {
  const { values, positionals } = withUsageErrors('train', () =>
    parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true }),
  );
  if (values.help) return 'help';
  if (values['vocab-size'] === undefined) throw new UsageError('train: --vocab-size is required');
  const vocabSize = positiveInt('train', '--vocab-size', values['vocab-size']);
  const output = values.output;
  if (output === undefined) throw new UsageError('train: -o/--output is required');
  if (positionals.length === 0) throw new UsageError('train: give at least one text FILE (or - for stdin)');
  const format =
    values.format === undefined
      ? defaultFormat(output)
      : oneOf('train', '--format', values.format, TOKENIZER_FILE_FORMATS);
  const minFrequency =
    values['min-frequency'] === undefined
      ? undefined
      : positiveInt('train', '--min-frequency', values['min-frequency']);
  return {
    files: positionals,
    output,
    format,
    quiet: values.quiet === true,
    patternArg: values.pattern ?? 'gpt2',
    options: {
      vocabSize,
      pattern: values.pattern === undefined ? undefined : patternOption(values.pattern),
      specialTokens: values.special ?? [],
      minFrequency,
      name: values.name ?? basename(output, extname(output)),
    },
  };
}

/** What to pass when loading a .tiktoken file, which stores only ranks. */
function tiktokenNote(def: TokenizerDefinition, pattern: string): string {
  const specials = [...def.specialTokens].map(([t, id]) => ` --special ${shellQuote(`${t}=${id}`)}`).join('');
  return `note: a .tiktoken file stores only ranks; load it with --pattern ${shellQuote(
    pattern,
  )}${specials}\n`;
}

function shellQuote(s: string): string {
  return /^[\w.=\/-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`;
}

function defaultFormat(output: string): TokenizerFileFormat {
  return output.endsWith('.tiktoken') ? 'tiktoken' : 'compact';
}

async function* chunksOf(files: string[], io: CliIo): AsyncGenerator<string> {
  for (const file of files) {
    if (file !== '-') await checkInputFile(file);
    yield* readTextChunks(file === '-' ? io.stdin : file);
  }
}
