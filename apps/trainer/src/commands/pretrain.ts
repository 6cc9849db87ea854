/**
 * `llm-train pretrain`: tokenize text, build (or resume) a model, train it with progress, eval,
 * checkpoints and a metrics log. Defaults are nanoGPT's CPU configuration for Tiny Shakespeare.
 *
 *   llm-train pretrain --data input.txt --out out --tokenizer byte            # nanoGPT CPU config
 *   llm-train pretrain --data input.txt --out out --resume --max-iters 4000   # continue the run
 */
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { Command } from 'commander';
import { initBackend } from '@llm/tensor-gpu';
import { TransformerLM, loadModel, resolveConfig, summarize, formatCount, TransformerError, type ModelConfigInput } from '@llm/transformer';
import {
  TokenShard, writeTokenShard, resolveTokenizer, splitTokens, WindowSampler, loadTrainingCheckpoint,
  resolveTrainConfig, TrainError, configParams, type ResolvedTokenizer, type TrainConfigInput, type LoadedCheckpoint,
} from '@llm/train';
import { addOptions, explicitOptions, resolveOptions, CliError, type OptSpec } from '../options.js';
import { requireResumable, runParallelTraining, runTraining } from '../run.js';
import { WORKERS_OPTION, checkWorkers, resolveWorkers, splitBatch } from '../workers.js';
import { readRunSettings, writeRunSettings } from '../run-settings.js';

export const MODEL_OPTIONS: OptSpec[] = [
  { name: 'family', flag: 'family', kind: 'enum', values: ['gpt2', 'llama'], def: 'gpt2', help: 'model family' },
  { name: 'nLayer', flag: 'n-layer', kind: 'int', min: 1, def: 4, help: 'transformer blocks' },
  { name: 'nHead', flag: 'n-head', kind: 'int', min: 1, def: 4, help: 'attention heads' },
  { name: 'nKvHead', flag: 'n-kv-head', kind: 'int', min: 1, help: 'key/value heads (llama GQA; default n-head)' },
  { name: 'nEmbd', flag: 'n-embd', kind: 'int', min: 1, def: 128, help: 'model width' },
  { name: 'blockSize', flag: 'block-size', kind: 'int', min: 2, def: 64, help: 'context length' },
  { name: 'dropout', flag: 'dropout', kind: 'number', min: 0, max: 0.99, def: 0, help: 'dropout' },
  { name: 'bias', flag: 'bias', kind: 'bool', def: false, help: 'biases in linear layers and norms (nanoGPT: off)' },
  { name: 'scaleResidualInit', flag: 'scale-residual-init', kind: 'bool', def: true, help: "GPT-2's init of residual projections at 0.02/√(2·n_layer) (--no-scale-residual-init: 0.02)" },
];

export const TRAIN_OPTIONS: OptSpec[] = [
  { name: 'out', flag: 'out', kind: 'string', def: 'out', help: 'output directory (checkpoints, metrics.jsonl, loss.svg)' },
  { name: 'batchSize', flag: 'batch-size', kind: 'int', min: 1, def: 12, help: 'sequences per micro-batch' },
  { name: 'gradAccum', flag: 'grad-accum', kind: 'int', min: 1, def: 1, help: 'micro-batches per update' },
  { name: 'maxIters', flag: 'max-iters', kind: 'int', min: 1, def: 2000, help: 'optimizer updates' },
  { name: 'lr', flag: 'lr', kind: 'number', min: 0, def: 1e-3, help: 'peak learning rate' },
  { name: 'minLr', flag: 'min-lr', kind: 'number', min: 0, def: 1e-4, help: 'final learning rate (cosine)' },
  { name: 'warmupIters', flag: 'warmup-iters', kind: 'int', min: 0, def: 100, help: 'linear warmup steps' },
  { name: 'lrDecayIters', flag: 'lr-decay-iters', kind: 'int', min: 0, help: 'cosine length (default max-iters)' },
  { name: 'weightDecay', flag: 'weight-decay', kind: 'number', min: 0, def: 0.1, help: 'AdamW weight decay' },
  { name: 'decayRule', flag: 'decay-rule', kind: 'enum', values: ['linear-2d', 'all-2d'], def: 'linear-2d', help: 'which weights decay' },
  { name: 'beta1', flag: 'beta1', kind: 'number', min: 0, max: 0.9999, def: 0.9, help: 'AdamW beta1' },
  { name: 'beta2', flag: 'beta2', kind: 'number', min: 0, max: 0.9999, def: 0.99, help: 'AdamW beta2' },
  { name: 'gradClip', flag: 'grad-clip', kind: 'number', min: 0, def: 1, help: 'global-norm clip (0 = off)' },
  { name: 'evalInterval', flag: 'eval-interval', kind: 'int', min: 0, def: 250, help: 'evaluate every n updates' },
  { name: 'evalIters', flag: 'eval-iters', kind: 'int', min: 1, def: 20, help: 'batches per loss estimate' },
  { name: 'logInterval', flag: 'log-interval', kind: 'int', min: 1, def: 10, help: 'metrics line every n updates' },
  { name: 'earlyStop', flag: 'early-stop', kind: 'int', min: 0, def: 0, help: 'stop after n evals without improvement (0 = off)' },
  { name: 'seed', flag: 'seed', kind: 'int', min: 0, def: 1337, help: 'seed of init, batches and dropout' },
  { name: 'resume', flag: 'resume', kind: 'bool', def: false, help: "continue from <out>/checkpoint with the run's saved settings (<out>/run.json; flags given now win)" },
  { name: 'force', flag: 'force', kind: 'bool', def: false, help: 'start a fresh run in an --out that already holds one (its checkpoints are replaced)' },
  { name: 'teacher', flag: 'teacher', kind: 'string', help: 'checkpoint of a teacher for knowledge distillation (same vocabulary)' },
  { name: 'distillTemperature', flag: 'distill-temperature', kind: 'number', min: 0.001, def: 2, help: 'distillation softmax temperature T' },
  { name: 'distillAlpha', flag: 'distill-alpha', kind: 'number', min: 0, max: 1, def: 0.5, help: 'weight of the KL term (1 − alpha on cross-entropy)' },
];

const DATA_OPTIONS: OptSpec[] = [
  { name: 'data', flag: 'data', kind: 'paths', help: 'text or JSONL ({"text": …}) files to train on' },
  { name: 'tokenizer', flag: 'tokenizer', kind: 'string', help: 'tokenizer file, "byte" (256-symbol byte vocabulary) or "char" (the distinct characters of ASCII data, as nanoGPT); default <out>/tokenizer.json when `llm-train tokenizer` wrote one, else "byte"' },
  { name: 'valFraction', flag: 'val-fraction', kind: 'number', min: 0, max: 0.5, def: 0.1, help: 'last fraction of tokens held out for validation' },
];

export const PRETRAIN_SPECS = [...DATA_OPTIONS, ...MODEL_OPTIONS, ...TRAIN_OPTIONS, WORKERS_OPTION];

export function pretrainCommand(): Command {
  return addOptions(new Command('pretrain').description('train a model from scratch (or resume) on text files'), PRETRAIN_SPECS).action(async (_o, cmd: Command) => {
    await pretrain(await resolveRunOptions(cmd, PRETRAIN_SPECS));
  });
}

/** Checks everything a run needs before any work; throws CliError. */
export async function checkPretrainOptions(o: Record<string, unknown>): Promise<void> {
  if (!o.data) throw new CliError('--data is required (one or more text or JSONL files)');
  for (const p of o.data as string[]) {
    const st = await stat(p).catch(() => null);
    if (!st?.isFile()) throw new CliError(`data file ${p} does not exist`);
    if (st.size === 0) throw new CliError(`data file ${p} is empty`);
  }
  if (!o.resume) modelConfig(o, 256); // n_embd % n_head etc. (vocab size checked later)
  trainConfig(o);
  checkWorkers(o);
  await checkFreshRun(o);
}

/**
 * A fresh run never silently replaces another: an --out that holds a run needs --resume (continue
 * it) or --force (start over). `how` is what the user types to pass a flag (`npm start -- ` etc.).
 */
export async function checkFreshRun(o: Record<string, unknown>, how = ''): Promise<void> {
  await checkOutDir(o.out as string);
  if (o.resume || o.force) return;
  const ckpt = join(o.out as string, 'checkpoint');
  const found = (await isDir(ckpt)) ? ckpt : (await isDir(`${ckpt}.old`)) ? `${ckpt}.old` : null; // .old: a save interrupted mid-swap
  if (found === null) return;
  const text = await readFile(join(found, 'trainer_state.json'), 'utf8').catch(() => null);
  const step = (() => {
    if (text === null) return null;
    try {
      return String((JSON.parse(text) as { step?: unknown }).step);
    } catch {
      return '?';
    }
  })();
  const what = step === null ? 'a checkpoint without trainer_state.json' : `checkpoint at step ${step}`;
  throw new CliError(`${o.out as string} already holds a training run (${what}): ${how}--resume continues it, ${how}--force starts over in it, or choose another --out`);
}

const isDir = async (p: string) => (await stat(p).catch(() => null))?.isDirectory() === true;

/** --out must be a folder or creatable as one: the nearest existing path on the way is a folder (checked before any work). */
async function checkOutDir(out: string): Promise<void> {
  for (let p = resolve(out); ; p = dirname(p)) {
    const st = await stat(p).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' || e.code === 'ENOTDIR' ? null : e));
    if (st instanceof Error) throw new CliError(`--out ${out}: ${p} cannot be checked (${st.code ?? st.message})`);
    if (st !== null) {
      if (!st.isDirectory()) throw new CliError(`--out ${out}: ${p === resolve(out) ? 'it' : p} is a file, not a folder; choose another --out`);
      return;
    }
    if (dirname(p) === p) return;
  }
}

/** Where resolveRunOptions records the options the user set now (a symbol: never saved to run.json). */
export const EXPLICIT = Symbol('explicit options');

/**
 * The command's options; with --resume, the run's saved settings (run.json) fill what no flag or
 * config file sets, and `o[EXPLICIT]` lists what the user did set now (checked against the checkpoint).
 */
export async function resolveRunOptions(cmd: Command, specs: readonly OptSpec[]): Promise<Record<string, unknown>> {
  const o = await resolveOptions(cmd, specs);
  if (!o.resume) return o;
  const saved = await readRunSettings(o.out as string);
  const r: Record<string | symbol, unknown> = saved ? await resolveOptions(cmd, specs, saved.options) : o;
  r[EXPLICIT] = await explicitOptions(cmd, specs);
  return r as Record<string, unknown>;
}

/**
 * A resumed run trains the checkpoint's model: a model flag given now that disagrees with it would be
 * silently ignored, so it is refused (exit 2) unless --force, which resumes with the checkpoint's model.
 */
function checkResumedModel(o: Record<string | symbol, unknown>, config: Record<string, unknown>, log: (s: string) => void): void {
  const explicit = (o[EXPLICIT] as Set<string> | undefined) ?? new Set<string>();
  const diffs = MODEL_OPTIONS.filter((s) => explicit.has(s.name) && s.name in config && o[s.name] !== config[s.name]).map((s) => `--${s.flag} ${String(o[s.name])} (the checkpoint has ${String(config[s.name])})`);
  if (diffs.length === 0) return;
  if (!o.force) throw new CliError(`--resume: ${diffs.join(', ')}: a resumed run keeps the checkpoint's model; drop ${diffs.length > 1 ? 'those flags' : 'that flag'}, or add --force to resume with the checkpoint's model anyway`);
  log(`note: --force: resuming with the checkpoint's model; ignoring ${diffs.join(', ')}`);
}

export function modelConfig(o: Record<string, unknown>, vocabSize: number): ModelConfigInput {
  const cfg: ModelConfigInput = {
    family: o.family as 'gpt2' | 'llama',
    vocabSize,
    nLayer: o.nLayer as number,
    nHead: o.nHead as number,
    nEmbd: o.nEmbd as number,
    blockSize: o.blockSize as number,
    dropout: o.dropout as number,
    bias: o.bias as boolean,
    scaleResidualInit: o.scaleResidualInit as boolean,
    seed: o.seed as number,
    ...(o.nKvHead !== undefined ? { nKvHead: o.nKvHead as number } : {}),
    ...(o.family === 'llama' ? { intermediateSize: 4 * (o.nEmbd as number) } : {}),
  };
  asUsageError(() => resolveConfig(cfg), /^model config: /);
  return cfg;
}

/** Run a library check; its config error becomes one CLI usage line (prefix stripped). */
function asUsageError(check: () => unknown, prefix: RegExp): void {
  try {
    check();
  } catch (e) {
    if (e instanceof TransformerError || e instanceof TrainError) throw new CliError(e.message.replace(prefix, ''));
    throw e;
  }
}

export function trainConfig(o: Record<string, unknown>): TrainConfigInput {
  const cfg: TrainConfigInput = {
    maxIters: o.maxIters as number,
    gradAccumSteps: o.gradAccum as number,
    lr: o.lr as number,
    minLr: o.minLr as number,
    warmupIters: o.warmupIters as number,
    lrDecayIters: (o.lrDecayIters as number | undefined) ?? (o.maxIters as number),
    weightDecay: o.weightDecay as number,
    decayRule: o.decayRule as 'linear-2d' | 'all-2d',
    beta1: o.beta1 as number,
    beta2: o.beta2 as number,
    gradClip: o.gradClip as number,
    evalInterval: o.evalInterval as number,
    evalIters: o.evalIters as number,
    logInterval: o.logInterval as number,
    earlyStopPatience: o.earlyStop as number,
    outDir: o.out as string,
    distillTemperature: o.distillTemperature as number,
    distillAlpha: o.distillAlpha as number,
  };
  asUsageError(() => resolveTrainConfig(cfg), /^training config: /);
  return cfg;
}

/** Tokenize the data files into <out>/data (reused when the tokenizer and files are unchanged). */
export async function prepareShard(files: string[], tok: ResolvedTokenizer, out: string, log: (s: string) => void): Promise<TokenShard> {
  const prefix = join(out, 'data', 'tokens');
  const existing = await TokenShard.open(prefix).catch(() => null);
  if (existing) {
    const sizes = await Promise.all(files.map(async (f) => ({ path: basename(f), bytes: (await stat(f)).size })));
    if (existing.meta.tokenizer.hash === tok.hash && JSON.stringify(existing.meta.sources) === JSON.stringify(sizes)) {
      log(`data: reusing ${prefix}.bin (${existing.count.toLocaleString('en-US')} tokens)`);
      return existing;
    }
  }
  const t0 = performance.now();
  const meta = await writeTokenShard(prefix, files, tok);
  log(`data: ${meta.count.toLocaleString('en-US')} tokens from ${files.length} file(s) in ${((performance.now() - t0) / 1000).toFixed(1)} s → ${prefix}.bin`);
  return TokenShard.open(prefix);
}

export interface PretrainHooks {
  log?: (s: string) => void;
  /** Wall-clock budget of this invocation. */
  maxMs?: number;
  /** The command recorded in run.json (default 'pretrain'). */
  command?: string;
  /** What to tell the user to continue a stopped run. */
  resumeHint?: string;
}

export async function pretrain(o: Record<string, unknown>, hooks: PretrainHooks = {}): Promise<TransformerLM> {
  const log = hooks.log ?? ((s: string) => void process.stderr.write(`${s}\n`));
  await checkPretrainOptions(o);
  const out = o.out as string;
  const ownTokenizer = join(out, 'tokenizer.json');
  o.tokenizer ??= (await stat(ownTokenizer).catch(() => null))?.isFile() ? ownTokenizer : 'byte';
  const tok = await resolveTokenizer(o.tokenizer as string, o.data as string[]);
  const backend = await initBackend({ log: false });
  // the checkpoint first: a damaged or mismatched one is refused before anything is written
  const resumed = o.resume ? await loadTrainingCheckpoint(join(out, 'checkpoint')) : null;
  if (resumed?.state?.tokenizerHash && resumed.state.tokenizerHash !== tok.hash && !o.force) {
    throw new CliError(`--resume: the checkpoint was trained with tokenizer ${resumed.state.tokenizerHash}, the data is tokenized with ${tok.hash}; use the same --tokenizer (or --force)`, 2);
  }
  requireResumable(resumed, o.force === true);
  if (resumed) checkResumedModel(o, resumed.model.config as unknown as Record<string, unknown>, log);
  const shard = await prepareShard(o.data as string[], tok, out, log);
  if (shard.meta.vocabSize !== tok.tokenizer.vocabSize) throw new CliError(`token shard vocab ${shard.meta.vocabSize} ≠ tokenizer vocab ${tok.tokenizer.vocabSize}`, 1);
  const config = resumed?.model.config ?? modelConfig(o, tok.tokenizer.vocabSize);
  const cfg = trainConfig(o);
  const [B, A] = [o.batchSize as number, o.gradAccum as number];
  const blockSize = config.blockSize!;
  // any worker count continues any run: the windows are drawn one after another, whatever the split
  const workers = resolveWorkers(o.workers, { params: configParams(config), batchSize: B, gradAccum: A, blockSize, iters: (o.maxIters as number) - (resumed?.state?.step ?? 0) }, log);
  if (!resumed) await writeRunSettings(out, hooks.command ?? 'pretrain', o, workers);
  if (config.vocabSize !== tok.tokenizer.vocabSize) throw new CliError(`the checkpoint's vocabulary (${config.vocabSize}) differs from the tokenizer's (${tok.tokenizer.vocabSize})`, 2);
  const resumeHint = hooks.resumeHint ?? `llm-train pretrain --out ${out} --resume`;
  const common = { tok, log, resumeHint, force: o.force === true, ...(hooks.maxMs ? { maxMs: hooks.maxMs } : {}) };
  const { train: tr, val } = splitTokens(shard, o.valFraction as number);
  const sizes = `train ${(tr.end - tr.start).toLocaleString('en-US')} / val ${(val.end - val.start).toLocaleString('en-US')} tokens`;
  const describeRun = (model: string, teacher: TransformerLM | undefined) => {
    log(`model: ${model}${resumed ? ` (resumed at step ${resumed.state?.step ?? 0})` : ''}`);
    if (teacher) log(`teacher: ${summarize(teacher)} · distillation T ${String(o.distillTemperature)}, alpha ${String(o.distillAlpha)}`);
    log(`backend: ${backend.backend}${backend.threads ? `, ${backend.threads} thread(s)` : ''}${workers > 1 ? ` × ${workers} workers` : ''} · tokenizer: ${tok.definition.name} (${tok.tokenizer.vocabSize} symbols) · ${sizes}`);
  };
  if (workers > 1) {
    // data-parallel: every worker builds the run (buildPretrainRun via parallel-setup.ts); this thread only checked it
    const teacher = o.teacher ? await loadTeacher(o.teacher as string, config.vocabSize) : undefined;
    describeRun(resumed ? summarize(resumed.model) : describeConfig(config), teacher);
    teacher?.dispose();
    resumed?.model.dispose();
    const split = splitBatch(B, A, workers);
    await runParallelTraining({ command: 'pretrain', options: o, workers, trainBatchSize: split.batchSize }, { ...cfg, gradAccumSteps: split.gradAccum }, { ...common, resumed });
    return loadModel(join(out, 'checkpoint')); // the last weights, as the in-process run returns them
  }
  const { model, data, teacher } = await buildPretrainRun(o, { tok, shard, resumed });
  describeRun(summarize(model), teacher);
  await runTraining(model, data, cfg, { ...common, resumed, ...(teacher ? { teacher } : {}) });
  teacher?.dispose();
  return model;
}

/** A model config as summarize() shows a model (for a run whose model lives in its workers). */
function describeConfig(config: ModelConfigInput): string {
  const c = resolveConfig(config);
  return `${c.family} · ${formatCount(configParams(c))} params · ${c.nLayer} layers · width ${c.nEmbd} · ${c.nHead} heads${c.nKvHead !== c.nHead ? ` / ${c.nKvHead} kv` : ''} (D ${c.headDim}) · context ${c.blockSize} · vocab ${c.vocabSize}${c.tieWordEmbeddings ? ' · tied head' : ''}`;
}

/**
 * What a pretraining run trains — the model (the resumed checkpoint's, or a new one from the
 * options), the samplers and the distillation teacher. The in-process run and every data-parallel
 * worker (parallel-setup.ts) build it here; a worker's train sampler draws `trainBatchSize`
 * windows per micro-batch (splitBatch), from the same seed.
 */
export async function buildPretrainRun(o: Record<string, unknown>, r: { tok: ResolvedTokenizer; shard: TokenShard; resumed: LoadedCheckpoint<TransformerLM> | null; trainBatchSize?: number }) {
  const model = r.resumed?.model ?? new TransformerLM(modelConfig(o, r.tok.tokenizer.vocabSize));
  const blockSize = model.config.blockSize;
  const { train: tr, val } = splitTokens(r.shard, o.valFraction as number);
  const seed = o.seed as number;
  const B = o.batchSize as number;
  const data = {
    train: new WindowSampler(tr, { batchSize: r.trainBatchSize ?? B, blockSize, seed }),
    val: new WindowSampler(val, { batchSize: B, blockSize, seed: seed + 1 }),
    trainEval: new WindowSampler(tr, { batchSize: B, blockSize, seed: seed + 2 }),
  };
  const teacher = o.teacher ? await loadTeacher(o.teacher as string, model.config.vocabSize) : undefined;
  return { model, data, teacher };
}

async function loadTeacher(dir: string, vocabSize: number): Promise<TransformerLM> {
  let teacher: TransformerLM;
  try {
    teacher = await loadModel(dir);
  } catch (e) {
    throw new CliError(`--teacher: cannot load ${dir}: ${(e as Error).message}`, 1);
  }
  if (teacher.config.vocabSize !== vocabSize) {
    teacher.dispose();
    throw new CliError(`--teacher: its vocabulary (${teacher.config.vocabSize}) differs from the student's (${vocabSize}); distillation needs the same tokenizer`);
  }
  return teacher;
}
