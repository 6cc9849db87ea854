/**
 * Usage text and the error type for bad command lines (exit code 2).
 *
 *   throw new UsageError('train: --vocab-size is required');
 */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export const USAGE = `Usage: llm-tokenizer <command> [options]

Commands:
  train   --vocab-size N -o OUT [--pattern gpt2|cl100k|o200k|REGEX] [--special TOKEN]...
          [--format compact|hf|tiktoken] [--min-frequency N] [--name NAME] [--quiet] FILE...
          Train a byte-level BPE vocabulary on the text files (- reads stdin).
  encode  (-t TOKENIZER | --encoding NAME) [--json] [--allow-special | --special-as-text] [FILE...]
          Print the token ids of the text (stdin if no FILE), space-separated.
  decode  (-t TOKENIZER | --encoding NAME) [FILE...]
          Read token ids (whitespace/comma separated or a JSON array) and print the text.
  count   (-t TOKENIZER | --encoding NAME) [--allow-special | --special-as-text] [FILE...]
          Print the number of tokens in the text.

TOKENIZER is a file in any supported format (compact JSON, HF tokenizer.json, .tiktoken; a
.tiktoken file stores only ranks, so also give --pattern and --special TEXT=ID unless it is named
after a built-in encoding); NAME is a built-in encoding: r50k_base, p50k_base, cl100k_base,
o200k_base (needs the tiktoken package). Exit codes: 0 ok, 1 error, 2 bad usage.
Run 'llm-tokenizer <command> --help' for one command.`;

export const COMMAND_USAGE: Readonly<Record<string, string>> = {
  train: `Usage: llm-tokenizer train --vocab-size N -o OUT [options] FILE...

  --vocab-size N        total vocabulary: 256 bytes + merges + special tokens (required)
  -o, --output OUT      where to write the tokenizer (required)
  --pattern P           pre-tokenization: gpt2 (default), cl100k, o200k, or a JS regex source
  --special TOKEN       a special token (repeatable); ids follow the last merge
  --format F            compact (default; .tiktoken outputs default to tiktoken), hf, tiktoken
  --min-frequency N     stop when the best pair occurs fewer than N times (default 1)
  --name NAME           tokenizer name (default: OUT's file name without extension)
  -q, --quiet           no progress on stderr
FILE... are UTF-8 text files; '-' reads stdin.`,
  encode: `Usage: llm-tokenizer encode (-t TOKENIZER | --encoding NAME) [options] [FILE...]

  -t, --tokenizer PATH  tokenizer file (compact JSON, tokenizer.json or .tiktoken)
  --encoding NAME       built-in encoding (e.g. cl100k_base) instead of a file
  --json                print a JSON array instead of space-separated ids
  --allow-special       encode special-token text as special tokens (otherwise it is an error)
  --special-as-text     encode special-token text as ordinary text
  --pattern P           .tiktoken files: gpt2, cl100k, o200k or a JS regex source
  --special TEXT=ID     .tiktoken files: a special token (repeatable)
Reads stdin when no FILE is given.`,
  decode: `Usage: llm-tokenizer decode (-t TOKENIZER | --encoding NAME) [--pattern P] [--special TEXT=ID]... [FILE...]

Reads token ids (separated by spaces, commas or newlines, or a JSON array) from the files or
stdin and prints the decoded text.`,
  count: `Usage: llm-tokenizer count (-t TOKENIZER | --encoding NAME) [options] [FILE...]

Prints the number of tokens in the text of the files (or stdin). Options as for encode.`,
};
