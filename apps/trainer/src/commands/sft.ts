/**
 * `llm-train sft`: supervised fine-tuning of a checkpoint on prompt/response or chat `messages`
 * JSONL, with the loss on response (assistant) tokens only.
 *
 *   llm-train sft --data chat.jsonl                 # fine-tunes out/best (what npm start wrote) into out/sft
 *   llm-train sft --init out/best --data chat.jsonl --out out/sft --template chatml
 *   llm-train sft --init hf-model/ --data chat.jsonl --template hf-model   (its chat_template.jinja or tokenizer_config.json)
 *   llm-train sft --peft lora --data chat.jsonl --out out/lora   # an adapter on the frozen model → out/lora/adapter (HF PEFT format)
 */
import { join } from 'node:path';
import { cp, mkdir, rename, rm, stat } from 'node:fs/promises';
import { Command } from 'commander';
import { initBackend } from '@llm/tensor-gpu';
import { countParameters, findModelDir, loadModel, summarize, TransformerError, type TransformerLM } from '@llm/transformer';
import { chatmlTemplate, loadChatTemplate, TokenizerError, type ChatTemplate } from '@llm/tokenizer-bpe';
import { resolveTokenizer, loadTrainingCheckpoint, readSftJsonl, tokenizeRecords, SftSampler, type SftRecord, type LoadedCheckpoint, type ResolvedTokenizer, type TrainableModel } from '@llm/train';
import { prepareQlora, trainableParameters, type PeftModel } from '@llm/peft';
import { addOptions, explicitOptions, CliError, type OptSpec } from '../options.js';
import { requireResumable, runParallelTraining, runTraining } from '../run.js';
import { WORKERS_OPTION, checkWorkers, resolveWorkers, splitBatch } from '../workers.js';
import { TRAIN_OPTIONS, checkFreshRun, resolveRunOptions, trainConfig } from './pretrain.js';
import { readRunSettings, writeRunSettings } from '../run-settings.js';
import { PEFT_LR, PEFT_OPTIONS, adapterVirtualTokens, attachAdapter, buildPeftModel, checkPeftFlags, peftConfig, type PeftMethod } from '../peft.js';

const SFT_DEFAULTS: Record<string, unknown> = { out: 'out/sft', maxIters: 300, lr: 1e-4, minLr: 1e-5, warmupIters: 20, evalInterval: 50, evalIters: 10, batchSize: 8 };

const LR_HELP: Record<string, string> = {
  lr: `(with --peft and no --lr: ${PEFT_LR.lora} for lora, qlora, dora, ia3 and adapter; ${PEFT_LR.prefix} for prefix; ${PEFT_LR.prompt} for prompt)`,
  minLr: '(with --peft and no --min-lr: a tenth of the peak)',
};

export const SFT_SPECS: OptSpec[] = [
  { name: 'data', flag: 'data', kind: 'paths', help: 'JSONL: {"prompt","response"} or {"messages": [{role, content}]} per line' },
  { name: 'init', flag: 'init', kind: 'string', def: 'out', help: 'checkpoint to fine-tune, or a run folder: its best/ or checkpoint/ (default: the run npm start / llm-train pretrain wrote in out/)' },
  { name: 'tokenizer', flag: 'tokenizer', kind: 'string', help: 'tokenizer file or "byte" (default <init>/tokenizer.json)' },
  { name: 'template', flag: 'template', kind: 'string', def: 'chatml', help: '"chatml", or the chat template of an HF checkpoint directory, tokenizer_config.json or chat_template.jinja' },
  { name: 'maxLength', flag: 'max-length', kind: 'int', min: 2, help: 'cut examples to this many tokens (default: the model context)' },
  { name: 'valFraction', flag: 'val-fraction', kind: 'number', min: 0, max: 0.5, def: 0.05, help: 'fraction of examples held out' },
  { name: 'allowSpecialTokensInData', flag: 'allow-special-tokens-in-data', kind: 'bool', def: false, help: 'encode special-token text inside messages (e.g. "<|im_end|>") as the special tokens; by default message content is plain text and only the template\'s markup makes special tokens' },
  ...TRAIN_OPTIONS.map((s) => (s.name in SFT_DEFAULTS ? { ...s, def: SFT_DEFAULTS[s.name] } : s)).map((s) => (s.name in LR_HELP ? { ...s, help: `${s.help} ${LR_HELP[s.name]!}` } : s)),
  ...PEFT_OPTIONS,
  WORKERS_OPTION,
];

export function sftCommand(): Command {
  return addOptions(new Command('sft').description('fine-tune a checkpoint on prompt/response or chat JSONL (loss on responses only)'), SFT_SPECS).action(async (_o, cmd: Command) => {
    await sft(await resolveRunOptions(cmd, SFT_SPECS), await explicitOptions(cmd, SFT_SPECS));
  });
}

export async function loadTemplate(spec: string): Promise<ChatTemplate> {
  if (spec === 'chatml') return chatmlTemplate();
  if (!(await stat(spec).catch(() => null))) throw new CliError(`--template must be "chatml" or an existing tokenizer_config.json, chat_template.jinja or checkpoint directory, got ${spec}`);
  return loadChatTemplate(spec).catch((e: unknown) => {
    throw e instanceof TokenizerError ? new CliError(e.message, 1) : e;
  });
}

/** The records of the --data JSONL files, in order. */
export async function readSftRecords(files: string[]): Promise<SftRecord[]> {
  return (await Promise.all(files.map((p) => readSftJsonl(p)))).flat();
}

/** `explicit`: the option names set on the command line or in --config (for the PEFT learning-rate defaults and flag checks). */
export async function sft(o: Record<string, unknown>, explicit: ReadonlySet<string> = new Set()): Promise<void> {
  const log = (s: string) => void process.stderr.write(`${s}\n`);
  if (!o.data) throw new CliError('--data is required (a JSONL file)');
  const method = (o.peft ?? 'none') as PeftMethod;
  checkPeftFlags(o, explicit);
  if (o.resume) await checkResumedPeft(o, explicit);
  if (method !== 'none' && !o.resume) {
    // adapters train a few weights from scratch: PEFT's usual rates, far above full fine-tuning's
    if (!explicit.has('lr')) o.lr = PEFT_LR[method];
    if (!explicit.has('minLr')) o.minLr = (o.lr as number) / 10;
  }
  if (o.resume && method === 'prefix' && o.prefixProjection === true) {
    throw new CliError('--resume: a --prefix-projection run cannot be resumed: its checkpoint holds the projected prefix table (PEFT\'s adapter format), not the MLP that trains it; start a new run, or train without --prefix-projection', 1);
  }
  const cfg = trainConfig(o);
  checkWorkers(o);
  await checkFreshRun(o);
  const template = await loadTemplate(o.template as string);
  const records = await readSftRecords(o.data as string[]);
  await initBackend({ log: false });
  const out = o.out as string;
  if (o.resume && method === 'none' && (await isFile(join(out, 'checkpoint', 'adapter_config.json')))) {
    throw new CliError(`--resume: ${join(out, 'checkpoint')} holds an adapter, but the run's settings (${join(out, 'run.json')}) name no --peft method; pass the --peft and --init the run was started with`, 2);
  }
  const run = await buildSftRun(o, { template, records, log });
  const { model, data, tok, resumed, from, base, peft, trainEx, valEx, nVal } = run;
  const responseTokens = trainEx.reduce((a, e) => a + e.labels.filter((l) => l !== -100).length, 0);
  log(`model: ${summarize(base)} · from ${from}${peft && resumed ? ` (adapter resumed at step ${resumed.state?.step ?? 0})` : ''}`);
  if (peft) {
    log(`peft: ${describePeft(peft, method)} · lr ${String(o.lr)}`);
    log(trainableParameters(peft).line);
  }
  log(`sft: ${trainEx.length} train / ${valEx.length} val examples · ${responseTokens.toLocaleString('en-US')} response tokens · template ${template.name}`);
  const [B, A] = [o.batchSize as number, o.gradAccum as number];
  const started = o.resume ? ((await readRunSettings(out))?.workers ?? 1) : null;
  const workers = started !== null ? sftResumeWorkers(o.workers, started, B, A, log) : resolveWorkers(o.workers, { params: countParameters(base), batchSize: B, gradAccum: A, blockSize: run.maxLength, iters: (o.maxIters as number) - (resumed?.state?.step ?? 0) }, log);
  if (!o.resume) await writeRunSettings(out, 'sft', { ...o, init: from }, workers);
  const common = { tok, resumed, log, resumeHint: `llm-train sft --out ${out} --resume`, force: o.force === true };
  let alive = true;
  try {
    if (workers > 1) {
      // data-parallel: every worker rebuilds this run (buildSftRun via parallel-setup.ts); this one was built for the checks and log lines above
      model.dispose();
      alive = false;
      const split = splitBatch(B, A, workers);
      await runParallelTraining({ command: 'sft', options: o, workers, trainBatchSize: split.batchSize }, { ...cfg, evalTrain: false, gradAccumSteps: split.gradAccum }, common);
    } else {
      await runTraining(model, data, { ...cfg, evalTrain: false }, common);
    }
    if (peft) {
      const { dir, which } = await writeAdapter(out, nVal > 0);
      const mergeHint = ['prompt', 'prefix', 'adapter'].includes(method) ? '' : `; llm-train merge --init ${from} --adapter ${dir} --out ${join(out, 'merged')}`;
      log(`wrote ${dir} (the ${which} adapter, HF PEFT format, + tokenizer.json) — use it with: llm-train sample --checkpoint ${from} --adapter ${dir}${mergeHint}`);
    }
  } finally {
    if (alive) model.dispose();
  }
}

/**
 * What an SFT run trains — the model (a checkpoint, or an adapter on its frozen base, new or
 * resumed), the tokenizer and the samplers of the tokenized examples. The in-process run and every
 * data-parallel worker (parallel-setup.ts) build it here; a worker's train sampler draws
 * `trainBatchSize` examples per micro-batch (splitBatch). `o` holds the resolved options (the PEFT
 * learning-rate defaults applied).
 */
export async function buildSftRun(o: Record<string, unknown>, r: { template: ChatTemplate; records: SftRecord[]; log: (s: string) => void; trainBatchSize?: number }) {
  const { log } = r;
  const out = o.out as string;
  const method = (o.peft ?? 'none') as PeftMethod;
  const baseDir = method === 'none' && o.resume ? null : await findModelDir(o.init as string, { nested: false }).catch((e: unknown) => {
    throw new CliError(`--init: ${(e as Error).message}`, 1);
  });
  let model: TrainableModel;
  let resumed: LoadedCheckpoint<TrainableModel> | null;
  let tok: ResolvedTokenizer;
  let from: string; // what the model was read from (the base for an adapter run)
  let base: TransformerLM;
  let peft: PeftModel | null = null;
  if (method === 'none') {
    const src = o.resume ? join(out, 'checkpoint') : baseDir!;
    const ck: LoadedCheckpoint = await loadTrainingCheckpoint(src);
    requireResumable(o.resume ? ck : null, o.force === true);
    if (!o.resume && ck.optimizerState) {
      // the base run's optimizer state is not used by a fresh fine-tune
      for (const t of ck.optimizerState.values()) t.dispose();
    }
    resumed = o.resume ? ck : null;
    model = base = ck.model;
    from = ck.dir;
    tok = await resolveTokenizer((o.tokenizer as string | undefined) ?? join(ck.dir, 'tokenizer.json'));
  } else {
    base = await loadBase(baseDir!);
    from = baseDir!;
    const ckDir = join(out, 'checkpoint');
    tok = await resolveTokenizer((o.tokenizer as string | undefined) ?? join(o.resume ? ckDir : baseDir!, 'tokenizer.json'));
    if (method === 'qlora') {
      const q = prepareQlora(base);
      log(`qlora: ${q.layers.length} linears quantized to NF4 (double quantization)${q.skipped.length ? `, ${q.skipped.length} kept in float (${q.skipped.slice(0, 3).join(', ')})` : ''}; the base is frozen`);
    }
    if (o.resume) {
      const ck = await loadTrainingCheckpoint<PeftModel>(ckDir, { loadModel: (d) => attachAdapter(base, d, { isTrainable: true, what: '--resume: the adapter checkpoint' }) });
      requireResumable(ck, o.force === true);
      resumed = ck;
      peft = ck.model;
    } else {
      peft = buildPeftModel(base, method, peftConfig(o, base.config, baseDir!)!, { encode: (t) => tok.tokenizer.encodeOrdinary(t) });
      resumed = null;
    }
    model = peft;
  }
  if (tok.tokenizer.vocabSize > model.config.vocabSize) throw new CliError(`the tokenizer has ${tok.tokenizer.vocabSize} symbols, the model only ${model.config.vocabSize}`);
  const virtual = peft ? adapterVirtualTokens(peft) : 0; // prompt / prefix tokens share the context
  const room = model.config.blockSize - virtual;
  const maxLength = Math.min((o.maxLength as number | undefined) ?? room, room);
  const { examples, skipped } = tokenizeRecords(r.records, tok.tokenizer, r.template, { maxLength, allowSpecialInContent: o.allowSpecialTokensInData === true });
  if (skipped.length) log(`sft: skipped ${skipped.length} example(s) with no response token within ${maxLength} tokens${virtual ? ` (the context of ${model.config.blockSize} less ${virtual} virtual tokens; --num-virtual-tokens lowers them)` : ''} (e.g. ${skipped.slice(0, 3).join(', ')})`);
  const nVal = Math.floor(examples.length * (o.valFraction as number));
  const seed = o.seed as number;
  const eos = model.config.eosTokenId; // one id or (HF) a list: pad with the first
  const padId = model.config.padTokenId ?? (typeof eos === 'number' ? eos : eos?.[0]) ?? 0;
  const common = { batchSize: o.batchSize as number, padId, maxLength };
  const trainEx = examples.slice(0, examples.length - nVal);
  const valEx = examples.slice(examples.length - nVal);
  const data = {
    train: new SftSampler(trainEx, { ...common, batchSize: r.trainBatchSize ?? common.batchSize, seed }),
    ...(nVal > 0 ? { val: new SftSampler(valEx, { ...common, seed: seed + 1 }) } : {}),
  };
  return { model, data, tok, resumed, from, base, peft, trainEx, valEx, nVal, skipped, maxLength, virtual };
}

/**
 * The workers of a resumed SFT run. Its data position counts the length-grouped micro-batches it was
 * drawing (SftSampler), so it continues only with the same micro-batch size: `auto` keeps the count
 * it started with; an explicit count that changes the micro-batch is refused (exit 2).
 */
export function sftResumeWorkers(option: unknown, started: number, batchSize: number, gradAccum: number, log: (s: string) => void): number {
  const micro = (n: number) => splitBatch(batchSize, gradAccum, n).batchSize;
  const want = option === undefined || option === 'auto' ? started : (option as number);
  if (micro(want) !== micro(started)) {
    throw new CliError(`--resume --workers ${want}: this SFT run started with ${started} worker(s), drawing micro-batches of ${micro(started)} example(s) (its data position counts them); ${want} worker(s) would draw ${micro(want)}. Resume with --workers ${started} (or auto)`);
  }
  return want > 1 ? resolveWorkers(want, { params: 0, batchSize, gradAccum, blockSize: 0, iters: 0 }, log) : want;
}

/** A resumed adapter run keeps its adapter: a method flag given now that differs from run.json is refused. */
export async function checkResumedPeft(o: Record<string, unknown>, explicit: ReadonlySet<string>): Promise<void> {
  const saved = (await readRunSettings(o.out as string))?.options ?? {};
  const diffs = PEFT_OPTIONS.filter((s) => explicit.has(s.name) && JSON.stringify(o[s.name]) !== JSON.stringify(saved[s.name] ?? s.def)).map((s) => `--${s.flag} ${String(o[s.name])} (the run has ${String(saved[s.name] ?? s.def ?? 'its default')})`);
  if (diffs.length) throw new CliError(`--resume: ${diffs.join(', ')}: a resumed run keeps the method and adapter it was started with; drop ${diffs.length > 1 ? 'those flags' : 'that flag'}, or start a new run in another --out`);
}

export async function loadBase(dir: string): Promise<TransformerLM> {
  try {
    return await loadModel(dir);
  } catch (e) {
    if (e instanceof TransformerError) throw new CliError(`--init: cannot load ${dir}: ${e.message.replace(/\s*\n\s*/g, ' ')}`, 1);
    throw e;
  }
}

export function describePeft(peft: PeftModel, method: PeftMethod): string {
  const c = peft.peftConfig[peft.activeAdapter!]! as unknown as Record<string, unknown>;
  const targets = Array.isArray(c.targetModules) ? (c.targetModules as string[]).join(',') : String(c.targetModules);
  switch (method) {
    case 'lora':
    case 'qlora':
    case 'dora':
      return `${method} r ${String(c.r)} · alpha ${String(c.loraAlpha)} · dropout ${String(c.loraDropout)} · targets ${targets}`;
    case 'ia3':
      return `ia3 · targets ${targets} · feed-forward ${Array.isArray(c.feedforwardModules) ? (c.feedforwardModules as string[]).join(',') : String(c.feedforwardModules)}`;
    case 'adapter':
      return `bottleneck adapters · after ${targets}${c.bottleneckSize ? ` · size ${String(c.bottleneckSize)}` : ''}`;
    case 'prompt':
      return `prompt tuning · ${String(c.numVirtualTokens)} virtual tokens · init ${c.promptTuningInit === 'TEXT' ? `from ${JSON.stringify(c.promptTuningInitText)}` : 'random'}`;
    case 'prefix':
      return `prefix tuning · ${String(c.numVirtualTokens)} virtual tokens${c.prefixProjection ? ` · projection MLP width ${String(c.encoderHiddenSize)}` : ''}`;
    default:
      return method;
  }
}

const isFile = async (p: string) => (await stat(p).catch(() => null))?.isFile() === true;

/**
 * <out>/adapter = best/'s adapter (lowest val loss) when the run has validation and best/ holds one,
 * else checkpoint/'s (the last step): adapter_config.json, adapter_model.safetensors, tokenizer.json.
 * Written beside it and swapped in, so a crash leaves the old or the new adapter, never half of one.
 */
export async function writeAdapter(out: string, hasVal: boolean): Promise<{ dir: string; which: string }> {
  const best = join(out, 'best');
  const useBest = hasVal && (await isFile(join(best, 'adapter_config.json')));
  const src = useBest ? best : join(out, 'checkpoint');
  const dir = join(out, 'adapter');
  const tmp = `${dir}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  for (const f of ['adapter_config.json', 'adapter_model.safetensors', 'tokenizer.json']) {
    if (await isFile(join(src, f))) await cp(join(src, f), join(tmp, f));
  }
  await rm(dir, { recursive: true, force: true });
  await rename(tmp, dir);
  return { dir, which: useBest ? 'best (lowest validation loss)' : 'last' };
}
