/**
 * `llm-train rlaif`: AI-feedback data (@llm/align's RLAIF / Constitutional AI pipelines).
 *
 *   llm-train rlaif critique --init out/sft/best --prompts prompts.txt --out cai-sft.jsonl [--principles p.jsonl] [--rounds 2]
 *       → SFT rows {prompt, response} (the final revisions) that `llm-train sft --data` reads
 *   llm-train rlaif judge --init out/sft/best --judge big-model/ --prompts prompts.txt --out prefs.jsonl
 *       → preference rows {prompt, chosen, rejected, confidence} for `llm-train dpo --data`
 *
 * Output files are written atomically once everything succeeded; an existing one needs --force.
 */
import { join } from 'node:path';
import { stat } from 'node:fs/promises';
import { Command } from 'commander';
import { initBackend } from '@llm/tensor-gpu';
import { loadModel, type TransformerLM } from '@llm/transformer';
import { resolveTokenizer, type ResolvedTokenizer } from '@llm/train';
import { critiqueAndRevise, labelPreferences, loadConstitution, DEFAULT_CONSTITUTION } from '@llm/align';
import { addOptions, resolveOptions, CliError, type OptSpec } from '../options.js';
import { alignTemplate, initDir } from './align.js';
import { readPrompts } from './rl.js';

const SHARED: OptSpec[] = [
  { name: 'init', flag: 'init', kind: 'string', def: 'out', help: 'the model that answers (a checkpoint or a run folder: its best/ or checkpoint/)' },
  { name: 'prompts', flag: 'prompts', kind: 'string', help: 'prompts: a text file with one per line, or JSONL of {"prompt": "…"}' },
  { name: 'out', flag: 'out', kind: 'string', help: 'the JSONL file to write' },
  { name: 'tokenizer', flag: 'tokenizer', kind: 'string', help: 'tokenizer file or "byte" (default <init>/tokenizer.json)' },
  { name: 'template', flag: 'template', kind: 'string', def: 'chatml', help: '"chatml", "none" (raw text) or an HF chat template (directory, tokenizer_config.json, chat_template.jinja)' },
  { name: 'maxNewTokens', flag: 'max-new-tokens', kind: 'int', min: 1, def: 64, help: 'tokens per generated answer, critique or revision' },
  { name: 'seed', flag: 'seed', kind: 'int', min: 0, def: 0, help: 'seed of sampling (and of the principle drawn each round)' },
  { name: 'batchSize', flag: 'batch-size', kind: 'int', min: 1, def: 8, help: 'prompts generated together' },
  { name: 'force', flag: 'force', kind: 'bool', def: false, help: 'replace an existing --out file' },
];

const CRITIQUE_SPECS: OptSpec[] = [
  ...SHARED,
  { name: 'principles', flag: 'principles', kind: 'string', help: 'constitution: JSON / JSONL of {name, critique, revision} (default: a built-in list of five)' },
  { name: 'rounds', flag: 'rounds', kind: 'int', min: 1, max: 16, def: 1, help: 'critique → revision rounds per prompt' },
  { name: 'order', flag: 'order', kind: 'enum', values: ['random', 'sequential'], def: 'random', help: 'principle of each round: drawn (seeded) or in order' },
  { name: 'temperature', flag: 'temperature', kind: 'number', min: 0, def: 0.7, help: 'sampling temperature (0 = greedy)' },
  { name: 'system', flag: 'system', kind: 'string', help: 'a system message before every conversation' },
  { name: 'trace', flag: 'trace', kind: 'string', help: 'also write every answer, critique and revision here (JSONL)' },
];

const JUDGE_SPECS: OptSpec[] = [
  ...SHARED,
  { name: 'judge', flag: 'judge', kind: 'string', help: 'the judge model (a checkpoint or run folder)' },
  { name: 'judgeTokenizer', flag: 'judge-tokenizer', kind: 'string', help: "the judge's tokenizer (default <judge>/tokenizer.json)" },
  { name: 'judgeTemplate', flag: 'judge-template', kind: 'string', help: "the judge's chat template (default --template)" },
  { name: 'principle', flag: 'principle', kind: 'string', help: 'the criterion the judge applies, e.g. "Which reply is more helpful and less harmful?"' },
  { name: 'temperature', flag: 'temperature', kind: 'number', min: 0.001, def: 1, help: "the policy's sampling temperature (two samples per prompt)" },
  { name: 'margin', flag: 'margin', kind: 'number', min: 0, max: 0.499, def: 0.05, help: 'rows with |p − 0.5| below this are ties' },
  { name: 'ties', flag: 'ties', kind: 'enum', values: ['skip', 'flag'], def: 'skip', help: 'ties left out, or written with "tie": true' },
];

export function rlaifCommand(): Command {
  const quiet = (c: Command) => c.exitOverride().configureOutput({ writeErr: () => undefined });
  const critique = addOptions(new Command('critique').description('Constitutional AI: the model answers, critiques and revises its answers against principles → SFT JSONL'), CRITIQUE_SPECS).action(async (_o, cmd: Command) => {
    await rlaifCritique(await resolveOptions(cmd, CRITIQUE_SPECS));
  });
  const judge = addOptions(new Command('judge').description('RLAIF: sample two answers per prompt, a judge model picks one (asked in both orders) → preference JSONL'), JUDGE_SPECS).action(async (_o, cmd: Command) => {
    await rlaifJudge(await resolveOptions(cmd, JUDGE_SPECS));
  });
  return new Command('rlaif')
    .description('AI-feedback data: rlaif critique (SFT rows) and rlaif judge (preference rows)')
    .addCommand(quiet(critique))
    .addCommand(quiet(judge))
    .action(() => {
      throw new CliError('rlaif needs a subcommand: critique or judge (see llm-train rlaif --help)');
    });
}

const log = (s: string) => void process.stderr.write(`${s}\n`);

async function checkOut(o: Record<string, unknown>): Promise<string> {
  const out = o.out as string | undefined;
  if (!out) throw new CliError('--out is required (the JSONL file to write)');
  const st = await stat(out).catch(() => null);
  if (st?.isDirectory()) throw new CliError(`--out ${out} is a folder; name a .jsonl file`);
  if (st && !o.force) throw new CliError(`--out ${out} already exists: add --force to replace it, or choose another --out`);
  return out;
}

async function load(flag: string, spec: string, tokenizer: string | undefined): Promise<{ model: TransformerLM; tok: ResolvedTokenizer; dir: string }> {
  const dir = await initDir(spec).catch((e: unknown) => {
    throw e instanceof CliError ? new CliError(e.message.replace(/^--init:/, `${flag}:`), 1) : e;
  });
  let model: TransformerLM;
  try {
    model = await loadModel(dir);
  } catch (e) {
    throw new CliError(`${flag}: cannot load ${dir}: ${(e as Error).message.replace(/\s*\n\s*/g, ' ')}`, 1);
  }
  const tok = await resolveTokenizer(tokenizer ?? join(dir, 'tokenizer.json'));
  if (tok.tokenizer.vocabSize > model.config.vocabSize) {
    model.dispose();
    throw new CliError(`${flag} ${dir}: the tokenizer has ${tok.tokenizer.vocabSize} symbols, the model only ${model.config.vocabSize}`, 1);
  }
  return { model, tok, dir };
}

async function textPrompts(path: string | undefined): Promise<string[]> {
  return (await readPrompts(path)).map((p) => {
    if (typeof p.prompt !== 'string') throw new CliError(`${p.source}: rlaif takes text prompts ("prompt": "…"), not messages`, 1);
    return p.prompt;
  });
}

export async function rlaifCritique(o: Record<string, unknown>): Promise<void> {
  const out = await checkOut(o);
  if (o.trace !== undefined && (await stat(o.trace as string).catch(() => null)) && !o.force) throw new CliError(`--trace ${String(o.trace)} already exists: add --force to replace it`);
  const template = await alignTemplate(o.template as string);
  const prompts = await textPrompts(o.prompts as string | undefined);
  const principles = o.principles !== undefined ? await loadConstitution(o.principles as string) : DEFAULT_CONSTITUTION;
  await initBackend({ log: false });
  const { model, tok, dir } = await load('--init', o.init as string, o.tokenizer as string | undefined);
  try {
    log(`rlaif critique: ${prompts.length} prompts · ${principles.length} principles · ${String(o.rounds)} round(s) · model ${dir}`);
    const r = await critiqueAndRevise(model, tok.tokenizer, {
      prompts, principles, rounds: o.rounds as number, order: o.order as 'random' | 'sequential', template, seed: o.seed as number, batchSize: o.batchSize as number,
      generation: { maxNewTokens: o.maxNewTokens as number, temperature: o.temperature as number },
      ...(o.system !== undefined ? { system: o.system as string } : {}),
      sftPath: out, ...(o.trace !== undefined ? { tracePath: o.trace as string } : {}),
      onProgress: (done, total) => log(`  ${done}/${total} prompts`),
    });
    process.stdout.write(`wrote ${r.written.sft ?? 0} SFT rows to ${out}${r.emptyResponses ? ` (${r.emptyResponses} empty revision(s) left out)` : ''}${o.trace !== undefined ? `; the trace to ${String(o.trace)}` : ''}\n`);
  } finally {
    model.dispose();
  }
}

export async function rlaifJudge(o: Record<string, unknown>): Promise<void> {
  const out = await checkOut(o);
  if (!o.judge) throw new CliError('--judge is required (the judge model)');
  const template = await alignTemplate(o.template as string);
  const judgeTemplate = o.judgeTemplate !== undefined ? await alignTemplate(o.judgeTemplate as string) : template;
  const prompts = await textPrompts(o.prompts as string | undefined);
  await initBackend({ log: false });
  const policy = await load('--init', o.init as string, o.tokenizer as string | undefined);
  let judge: Awaited<ReturnType<typeof load>> | null = null;
  try {
    judge = await load('--judge', o.judge as string, o.judgeTokenizer as string | undefined);
    log(`rlaif judge: ${prompts.length} prompts · policy ${policy.dir} · judge ${judge.dir}`);
    const r = await labelPreferences(policy.model, judge.model, policy.tok.tokenizer, {
      prompts, template, judgeTemplate, seed: o.seed as number, batchSize: o.batchSize as number,
      generation: { maxNewTokens: o.maxNewTokens as number, temperature: o.temperature as number },
      ...(judge.tok.hash !== policy.tok.hash ? { judgeTokenizer: judge.tok.tokenizer } : {}),
      ...(o.principle !== undefined ? { principle: o.principle as string } : {}),
      margin: o.margin as number, ties: o.ties as 'skip' | 'flag', outPath: out,
    });
    const j = r.judged;
    const skipped = r.skipped.identical.length + r.skipped.empty.length;
    process.stdout.write(`wrote ${j.written ?? 0} preference rows to ${out} · ${j.ties} tie(s) · ${skipped} pair(s) skipped (identical or empty) · position bias ${j.positionBias.toFixed(3)} · consistency ${j.consistency.toFixed(3)}\n`);
  } finally {
    policy.model.dispose();
    judge?.model.dispose();
  }
}
