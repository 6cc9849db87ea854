/**
 * `llm-train start` (what `npm start` runs): learn a small BPE vocabulary and train a small GPT on
 * text this project generates itself (short stories and dialogues, apps/trainer/src/corpus) — or on
 * `--data FILE` — for a few minutes with a progress bar, then print a sample.
 *
 *   npm start                          # generated corpus, ~4 minutes → out/
 *   npm start -- --resume              # continue that run for another 4 minutes, same settings
 *   npm start -- --data my.txt --minutes 10 --force   # start over in out/ on your own text
 */
import { mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Command } from 'commander';
import { writeFileAtomic } from '@llm/tensor-gpu';
import { trainBpe, saveTokenizer } from '@llm/tokenizer-bpe';
import { resolveTokenizer } from '@llm/train';
import { addOptions, resolveOptions, CliError, type OptSpec } from '../options.js';
import { generateCorpus } from '../corpus/generator.js';
import { checkFreshRun, pretrain, PRETRAIN_SPECS } from './pretrain.js';
import { readRunSettings } from '../run-settings.js';
import { describeVocab } from './tokenizer.js';
import { writeSample } from './sample.js';

export const START_SPECS: OptSpec[] = [
  { name: 'data', flag: 'data', kind: 'paths', help: 'train on these files instead of the generated corpus' },
  { name: 'minutes', flag: 'minutes', kind: 'number', min: 0.05, def: 4, help: 'wall-clock training budget (of this invocation; --resume gets a new one)' },
  { name: 'out', flag: 'out', kind: 'string', def: 'out', help: 'output directory (llm-chat, llm-train sample and eval read it by default)' },
  { name: 'maxIters', flag: 'max-iters', kind: 'int', min: 1, def: 600, help: 'upper bound on steps' },
  { name: 'vocabSize', flag: 'vocab-size', kind: 'int', min: 257, def: 1024, help: 'BPE vocabulary learned from the data' },
  { name: 'prompt', flag: 'prompt', kind: 'string', def: 'Once upon a time', help: 'sample prompt' },
  { name: 'seed', flag: 'seed', kind: 'int', min: 0, def: 1337, help: 'seed' },
  { name: 'resume', flag: 'resume', kind: 'bool', def: false, help: 'continue the run in --out with its saved settings (a time-limited run stops with a resumable checkpoint)' },
  { name: 'force', flag: 'force', kind: 'bool', def: false, help: 'start over in an --out that already holds a run' },
];

export function startCommand(): Command {
  return addOptions(new Command('start').description('train a small model on a generated corpus (or --data) for a few minutes, then sample'), START_SPECS).action(async (_o, cmd: Command) => {
    const o = await resolveOptions(cmd, START_SPECS);
    const out = o.out as string;
    const log = (s: string) => void process.stderr.write(`${s}\n`);
    const how = flagPrefix(out);
    const opts = o.resume ? await resumedOptions(cmd, o) : await freshOptions(o, log, how);
    const model = await pretrain(opts, { log, maxMs: (o.minutes as number) * 60_000, command: 'start', resumeHint: `${how}--resume` });
    const tok = await resolveTokenizer(opts.tokenizer as string);
    log('\nsample:');
    await writeSample(model, tok.tokenizer, o.prompt as string, { maxTokens: 300, temperature: 0.8, topK: 20, seed: o.seed as number });
    model.dispose();
  });
}

/** How the user passes flags to this command: `npm start -- ` under npm, else `llm-train start [--out X] `. */
function flagPrefix(out: string): string {
  const outFlag = out === 'out' ? '' : `--out ${out} `;
  return process.env.npm_lifecycle_event === 'start' ? `npm start -- ${outFlag}` : `llm-train start ${outFlag}`;
}

/** A fresh run: the corpus (generated unless --data), a BPE learned from it, nanoGPT's CPU model with a faster schedule. */
async function freshOptions(o: Record<string, unknown>, log: (s: string) => void, how: string): Promise<Record<string, unknown>> {
  const out = o.out as string;
  let data = o.data as string[] | undefined;
  for (const f of data ?? []) {
    const st = await stat(f).catch(() => null);
    if (!st?.isFile()) throw new CliError(`data file ${f} does not exist`);
    if (st.size === 0) throw new CliError(`data file ${f} is empty`);
  }
  await checkFreshRun(o, how);
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
  log(`tokenizer: ${describeVocab(def, o.vocabSize as number)} learned from ${data[0]} in ${((performance.now() - t0) / 1000).toFixed(1)} s → ${tokPath}`);
  const defaults = Object.fromEntries(PRETRAIN_SPECS.map((s) => [s.name, s.def]));
  return {
    ...defaults, data, out, tokenizer: tokPath, blockSize: 64, batchSize: 12, lr: 3e-3, minLr: 3e-4, warmupIters: 30,
    maxIters: o.maxIters, evalInterval: 100, evalIters: 8, seed: o.seed, resume: false, force: o.force,
  };
}

/** --resume: the settings the run in --out was started with (run.json); a --max-iters given now wins. */
async function resumedOptions(cmd: Command, o: Record<string, unknown>): Promise<Record<string, unknown>> {
  const saved = await readRunSettings(o.out as string);
  if (!saved) throw new CliError(`--resume: ${o.out as string} holds no run to continue (no run.json); start one without --resume`);
  const explicit = cmd.getOptionValueSource('maxIters') === 'cli' ? { maxIters: o.maxIters } : {};
  return { ...saved.options, ...explicit, resume: true, force: o.force };
}
