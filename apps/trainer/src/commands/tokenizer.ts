/**
 * `llm-train tokenizer`: train a byte-level BPE tokenizer on text files.
 *
 *   llm-train tokenizer --data corpus.txt --vocab-size 4096 --out tokenizer.json
 */
import { createReadStream } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { Command } from 'commander';
import { trainBpe, saveTokenizer, type TokenizerDefinition } from '@llm/tokenizer-bpe';
import { addOptions, resolveOptions, CliError, type OptSpec } from '../options.js';

export const TOKENIZER_SPECS: OptSpec[] = [
  { name: 'data', flag: 'data', kind: 'paths', help: 'text files to learn merges from' },
  { name: 'vocabSize', flag: 'vocab-size', kind: 'int', min: 257, def: 4096, help: 'vocabulary size (256 bytes + merges + specials)' },
  { name: 'out', flag: 'out', kind: 'string', def: 'out/tokenizer.json', help: 'output file (HF tokenizer.json format); pretrain --out out uses out/tokenizer.json by default' },
  { name: 'special', flag: 'special', kind: 'string', def: '<|endoftext|>', help: 'special token to add (document separator)' },
];

async function* lines(files: string[]): AsyncGenerator<string> {
  for (const f of files) for await (const l of createInterface({ input: createReadStream(f, 'utf8'), crlfDelay: Infinity })) yield `${l}\n`;
}

export function tokenizerCommand(): Command {
  return addOptions(new Command('tokenizer').description('train a BPE tokenizer on text files'), TOKENIZER_SPECS).action(async (_o, cmd: Command) => {
    const o = await resolveOptions(cmd, TOKENIZER_SPECS);
    if (!o.data) throw new CliError('--data is required');
    for (const f of o.data as string[]) if (!(await stat(f).catch(() => null))?.isFile()) throw new CliError(`data file ${f} does not exist`);
    const t0 = performance.now();
    const def = await trainBpe(lines(o.data as string[]), { vocabSize: o.vocabSize as number, specialTokens: [o.special as string], name: 'llm-train' });
    await mkdir(dirname(o.out as string), { recursive: true });
    await saveTokenizer(o.out as string, def, 'hf');
    process.stderr.write(`tokenizer: ${describeVocab(def, o.vocabSize as number)} in ${((performance.now() - t0) / 1000).toFixed(1)} s → ${String(o.out)}\n`);
  });
}

/**
 * "N symbols", and — when training stopped short of the size asked for (no pair left, or too rare)
 * — that it did, so nobody takes a 2,188-symbol vocabulary for the 8,192 they asked for.
 *
 *   describeVocab(def, 8192)  // '2188 symbols (of 8192 asked: the data has no more pairs to merge)'
 */
export function describeVocab(def: TokenizerDefinition, asked: number): string {
  const n = def.ranks.size + def.specialTokens.size;
  return n < asked ? `${n} symbols (of ${asked} asked: the data has no more pairs to merge)` : `${n} symbols`;
}
