/**
 * `llm-tokenizer encode | decode | count`: use a tokenizer file (or a built-in encoding) on text.
 *
 *   echo 'hello world' | llm-tokenizer encode -t tok.json          # 31373 995 198
 *   echo '31373 995' | llm-tokenizer decode -t tok.json            # hello world
 *   llm-tokenizer count --encoding cl100k_base README.md            # 1234
 */
import { createReadStream } from 'node:fs';
import { parseArgs } from 'node:util';
import { Tokenizer, type EncodeOptions } from '../encoder.js';
import { getEncoding, type EncodingName } from '../encodings.js';
import { loadTokenizer, type LoadTokenizerOptions } from '../formats/save-load.js';
import { patternOption, specialIdOptions, withUsageErrors } from './args.js';
import { InputError, checkInputFile, readAllText, type CliIo } from './io.js';
import { COMMAND_USAGE, UsageError } from './usage.js';

const OPTIONS = {
  tokenizer: { type: 'string', short: 't' },
  encoding: { type: 'string' },
  pattern: { type: 'string' },
  special: { type: 'string', multiple: true },
  json: { type: 'boolean' },
  'allow-special': { type: 'boolean' },
  'special-as-text': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Command = 'encode' | 'decode' | 'count';

export async function encodeCommand(command: Command, args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = withUsageErrors(command, () =>
    parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true }),
  );
  if (values.help) {
    io.stdout.write(`${COMMAND_USAGE[command]}\n`);
    return 0;
  }
  if (command === 'decode' && (values.json || values['allow-special'] || values['special-as-text'])) {
    throw new UsageError(
      'decode: --json, --allow-special and --special-as-text apply to encode and count only',
    );
  }
  if (values['allow-special'] && values['special-as-text']) {
    throw new UsageError(`${command}: --allow-special and --special-as-text exclude each other`);
  }
  const fileOptions: LoadTokenizerOptions = {
    pattern: values.pattern === undefined ? undefined : patternOption(values.pattern),
    specialTokens: values.special === undefined ? undefined : specialIdOptions(command, values.special),
  };
  const tokenizer = await openTokenizer(command, values.tokenizer, values.encoding, fileOptions);
  const input = await readInputs(positionals, io);
  const options: EncodeOptions = values['allow-special']
    ? { allowedSpecial: 'all' }
    : values['special-as-text']
    ? { disallowedSpecial: [] }
    : {};
  if (command === 'decode') {
    io.stdout.write(tokenizer.decodeBytes(parseIds(input)));
  } else if (command === 'count') {
    io.stdout.write(`${tokenizer.countTokens(input, options)}\n`);
  } else {
    const ids = tokenizer.encode(input, options);
    io.stdout.write(values.json ? `${JSON.stringify(ids)}\n` : `${ids.join(' ')}\n`);
  }
  return 0;
}

async function openTokenizer(
  command: Command,
  path: string | undefined,
  encoding: string | undefined,
  fileOptions: LoadTokenizerOptions,
): Promise<Tokenizer> {
  if ((path === undefined) === (encoding === undefined)) {
    throw new UsageError(`${command}: give exactly one of -t/--tokenizer FILE and --encoding NAME`);
  }
  if (path === undefined) {
    if (fileOptions.pattern !== undefined || fileOptions.specialTokens !== undefined) {
      throw new UsageError(`${command}: --pattern and --special apply to .tiktoken files, not to --encoding`);
    }
    return getEncoding(encoding as EncodingName); // unknown names: INVALID_ARGUMENT (exit 2)
  }
  return new Tokenizer(await loadTokenizer(path, fileOptions));
}

/**
 * The concatenated text of the files, or stdin when there are none ('-' is stdin too). Regular
 * files, pipes and sockets are read (at most MAX_INPUT_CHARS each); devices such as /dev/zero and
 * directories are refused before reading.
 */
async function readInputs(files: string[], io: CliIo): Promise<string> {
  if (files.length === 0) return readAllText(io.stdin);
  const texts: string[] = [];
  for (const f of files) texts.push(f === '-' ? await readAllText(io.stdin) : await readInputFile(f));
  return texts.join('');
}

async function readInputFile(path: string): Promise<string> {
  await checkInputFile(path);
  return readAllText(createReadStream(path), path);
}


/**
 * Token ids from text: a JSON array, or integers separated by whitespace and/or commas.
 *
 *   parseIds('[1, 2]')   // [1, 2]        parseIds('1 2,3\n')  // [1, 2, 3]
 */
export function parseIds(text: string): number[] {
  const trimmed = text.trim();
  const items: unknown[] = trimmed.startsWith('[')
    ? parseJsonArray(trimmed)
    : trimmed === ''
    ? []
    : trimmed.split(/[\s,]+/);
  return items.map((item) => {
    const n =
      typeof item === 'number' ? item : typeof item === 'string' && /^\d+$/.test(item) ? Number(item) : NaN;
    if (!Number.isSafeInteger(n) || n < 0)
      throw new InputError(`decode: not a token id: ${JSON.stringify(item)}`);
    return n;
  });
}

function parseJsonArray(text: string): unknown[] {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new InputError(`decode: input starts with '[' but is not a JSON array (${(err as Error).message})`);
  }
  if (!Array.isArray(v)) throw new InputError('decode: expected a JSON array of ids');
  return v;
}
