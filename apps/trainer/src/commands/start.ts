/**
 * `llm-train start` (what `npm start` runs): learn a small BPE vocabulary and train a small GPT on
 * text this project generates itself (short stories and dialogues, apps/trainer/src/corpus) — or on
 * `--data FILE` — for a few minutes with a progress bar, then print a sample.
 *
 *   npm start                          # generated corpus, ~4 minutes
 *   npm start -- --data my.txt --minutes 10
 */
import { mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Command } from 'commander';
import { writeFileAtomic } from '@llm/tensor-gpu';
import { trainBpe, saveTokenizer } from '@llm/tokenizer-bpe';
import { resolveTokenizer } from '@llm/train';
import { addOptions, resolveOptions, CliError, type OptSpec } from '../options.js';
import { generateCorpus } from '../corpus/generator.js';
import { pretrain, PRETRAIN_SPECS } from './pretrain.js';
import { writeSample } from './sample.js';

export const START_SPECS: OptSpec[] = [
  { name: 'data', flag: 'data', kind: 'paths', help: 'train on these files instead of the generated corpus' },
  { name: 'minutes', flag: 'minutes', kind: 'number', min: 0.05, def: 4, help: 'wall-clock training budget' },
  { name: 'out', flag: 'out', kind: 'string', def: 'out/start', help: 'output directory' },
  { name: 'maxIters', flag: 'max-iters', kind: 'int', min: 1, def: 600, help: 'upper bound on steps' },
  { name: 'vocabSize', flag: 'vocab-size', kind: 'int', min: 257, def: 1024, help: 'BPE vocabulary learned from the data' },
  { name: 'prompt', flag: 'prompt', kind: 'string', def: 'Once upon a time', help: 'sample prompt' },
  { name: 'seed', flag: 'seed', kind: 'int', min: 0, def: 1337, help: 'seed' },
];

export function startCommand(): Command {
  return addOptions(new Command('start').description('train a small model on a generated corpus (or --data) for a few minutes, then sample'), START_SPECS).action(async (_o, cmd: Command) => {
    const o = await resolveOptions(cmd, START_SPECS);
    const out = o.out as string;
    const log = (s: string) => void process.stderr.write(`${s}\n`);
    let data = o.data as string[] | undefined;
    for (const f of data ?? []) {
      const st = await stat(f).catch(() => null);
      if (!st?.isFile()) throw new CliError(`data file ${f} does not exist`);
      if (st.size === 0) throw new CliError(`data file ${f} is empty`);
    }
    await mkdir(out, { recursive: true });
    if (!data) {
      const path = join(out, 'corpus.txt');
      const text = generateCorpus({ seed: 1, bytes: 2_000_000 });
      await writeFileAtomic(path, new TextEncoder().encode(text));
      log(`corpus: ${text.length.toLocaleString('en-US')} characters of generated stories and dialogues → ${path}`);
      data = [path];
    }
    // a small BPE vocabulary learned from the data first: each step then sees ~3× more text than
    // with bytes, and samples are made of word pieces from the start
    const tokPath = join(out, 'tokenizer.json');
    const t0 = performance.now();
    const def = await trainBpe(await readFile(data[0]!, 'utf8'), { vocabSize: o.vocabSize as number, specialTokens: ['<|endoftext|>'], name: 'start' });
    await saveTokenizer(tokPath, def, 'hf');
    log(`tokenizer: ${def.ranks.size + def.specialTokens.size} symbols learned from ${data[0]} in ${((performance.now() - t0) / 1000).toFixed(1)} s → ${tokPath}`);
    // the nanoGPT CPU model with a faster schedule (a few hundred steps fit in a few minutes here)
    const defaults = Object.fromEntries(PRETRAIN_SPECS.map((s) => [s.name, s.def]));
    const opts = {
      ...defaults, data, out, tokenizer: tokPath, blockSize: 64, batchSize: 12, lr: 3e-3, minLr: 3e-4, warmupIters: 30,
      maxIters: o.maxIters, evalInterval: 100, evalIters: 8, seed: o.seed, resume: false,
    };
    const model = await pretrain(opts, { log, maxMs: (o.minutes as number) * 60_000 });
    const tok = await resolveTokenizer(tokPath);
    log('\nsample:');
    await writeSample(model, tok.tokenizer, o.prompt as string, { maxTokens: 300, temperature: 0.8, topK: 20, seed: o.seed as number });
    model.dispose();
  });
}
