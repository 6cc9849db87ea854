/**
 * Preference alignment and head training through @llm/train's loop (objectives of @llm/align):
 *
 *   llm-train dpo|ipo|orpo|kto|simpo --init out/sft/best --data prefs.jsonl --out out/dpo [--peft lora] [--beta 0.1]
 *   llm-train reward   --init out/sft/best --data prefs.jsonl --out out/rm         # Bradley–Terry reward model
 *   llm-train classify --init out/best --data rows.jsonl --out out/cls [--labels neg,pos] [--regression]
 *
 * Everything that can be refused is checked before anything is written in --out: the options, every
 * data row (bad rows name file:line), the tokenized lengths, the reference's vocabulary. Training then
 * runs as sft does (progress, checkpoint/ best/, metrics.jsonl with TRL's metric names, loss.svg,
 * --resume); a --peft run writes <out>/adapter. The held-out result is one line on stdout.
 */
import { join } from 'node:path';
import { stat } from 'node:fs/promises';
import { Command } from 'commander';
import { initBackend, tf } from '@llm/tensor-gpu';
import { findModelDir, loadSequenceClassifier, SequenceClassifier, summarize, TransformerError, type TransformerLM } from '@llm/transformer';
import type { ChatTemplate } from '@llm/tokenizer-bpe';
import { evaluateObjective, loadTrainingCheckpoint, resolveTokenizer, type TrainData, type LoadedCheckpoint, type Objective, type ResolvedTokenizer, type TrainableModel } from '@llm/train';
import { trainableParameters, type PeftModel } from '@llm/peft';
import {
  readJsonl, validatePreferenceRow, validateUnpairedRow, validateClassificationRow, validateRegressionRow, tokenizePreference, tokenizeUnpaired, tokenizeText,
  labelIndex, pairSource, unpairedSource, textSource, collatePairs, collateText, maskRows, precomputeReferenceLogps, dpoObjective, ipoObjective, orpoObjective,
  simpoObjective, ktoObjective, rewardObjective, classifierObjective, regressorObjective, HeadModel,
  type PairExample, type PairBatch, type KtoBatch, type TokenizedUnpaired, type TextExample, type ClassificationRecord, type RegressionRecord, type ReferenceSpec,
} from '@llm/align';
import { addOptions, explicitOptions, CliError, type OptSpec } from '../options.js';
import { requireResumable, runTraining } from '../run.js';
import { TRAIN_OPTIONS, checkFreshRun, resolveRunOptions, trainConfig } from './pretrain.js';
import { writeRunSettings } from '../run-settings.js';
import { PEFT_OPTIONS, attachAdapter, buildPeftModel, checkPeftFlags, peftConfig, type PeftMethod } from '../peft.js';
import { checkResumedPeft, describePeft, loadBase, loadTemplate, writeAdapter } from './sft.js';

export const PREFERENCE_METHODS = ['dpo', 'ipo', 'orpo', 'kto', 'simpo'] as const;
export type PreferenceMethod = (typeof PREFERENCE_METHODS)[number];

/** Peak learning rate of a full fine-tune when --lr is not given (TRL-scale rates; the final one is a tenth). */
export const ALIGN_LR: Record<PreferenceMethod, number> = { dpo: 5e-6, ipo: 5e-6, kto: 5e-6, orpo: 8e-6, simpo: 1e-5 };
/** … and of an adapter (--peft) run. */
export const ALIGN_PEFT_LR = 5e-4;
/** β when --beta is not given (TRL's defaults; SimPO's paper value 2). */
const BETA: Record<PreferenceMethod, number> = { dpo: 0.1, ipo: 0.1, kto: 0.1, orpo: 0.1, simpo: 2 };

const DESCRIPTION: Record<PreferenceMethod, string> = {
  dpo: 'Direct Preference Optimization on {prompt, chosen, rejected} JSONL against a frozen reference',
  ipo: 'IPO (DPO with the squared loss on length-normalized log-ratios) on preference JSONL',
  orpo: 'ORPO (SFT on chosen + odds-ratio penalty; reference-free) on preference JSONL',
  kto: 'KTO on unpaired {prompt, completion, label} JSONL against a frozen reference',
  simpo: 'SimPO (length-normalized margin loss; reference-free) on preference JSONL',
};

/** Train-loop defaults of the alignment commands (TRL / HF TrainingArguments: no weight decay, beta2 0.999). */
const ALIGN_DEFAULTS: Record<string, unknown> = { maxIters: 200, minLr: undefined, warmupIters: 10, evalInterval: 50, evalIters: 10, batchSize: 8, weightDecay: 0, beta2: 0.999 };
const NOT_FOR_ALIGN = new Set(['teacher', 'distillTemperature', 'distillAlpha']);

function trainSpecs(command: string, lrHelp: string, defaults: Record<string, unknown> = {}): OptSpec[] {
  const d: Record<string, unknown> = { ...ALIGN_DEFAULTS, out: `out/${command}`, ...defaults };
  return TRAIN_OPTIONS.filter((s) => !NOT_FOR_ALIGN.has(s.name)).map((s) => {
    const spec = s.name in d ? { ...s, def: d[s.name] } : { ...s };
    if (s.name === 'lr') return { ...spec, def: undefined, help: `${s.help} ${lrHelp}` };
    if (s.name === 'minLr') return { ...spec, def: undefined, help: `${s.help} (default a tenth of the peak)` };
    return spec;
  });
}

/** The options of every alignment command that reads rows. */
export const ALIGN_DATA_OPTIONS: OptSpec[] = [
  { name: 'init', flag: 'init', kind: 'string', def: 'out', help: 'checkpoint to start from (usually the SFT model), or a run folder: its best/ or checkpoint/' },
  { name: 'data', flag: 'data', kind: 'paths', help: 'training JSONL' },
  { name: 'valData', flag: 'val-data', kind: 'paths', help: 'held-out JSONL (default: the last --val-fraction of --data)' },
  { name: 'valFraction', flag: 'val-fraction', kind: 'number', min: 0, max: 0.5, def: 0.1, help: 'fraction of --data rows held out when no --val-data is given' },
  { name: 'tokenizer', flag: 'tokenizer', kind: 'string', help: 'tokenizer file or "byte" (default <init>/tokenizer.json)' },
];

const TEMPLATE_OPTIONS: OptSpec[] = [
  { name: 'template', flag: 'template', kind: 'string', def: 'chatml', help: '"chatml"; "none" (prompt and response concatenated as raw text, EOS appended to the response); or the chat template of an HF checkpoint directory, tokenizer_config.json or chat_template.jinja' },
  { name: 'maxLength', flag: 'max-length', kind: 'int', min: 2, help: 'prompt + response at most this many tokens; the response\'s end is cut (default and cap: the model context)' },
  { name: 'maxPromptLength', flag: 'max-prompt-length', kind: 'int', min: 1, help: 'keep the last n prompt tokens (a prompt that leaves no room for a response under --max-length is an error naming the row)' },
  { name: 'maxCompletionLength', flag: 'max-completion-length', kind: 'int', min: 1, help: 'keep the first n tokens of each response' },
  { name: 'allowSpecialTokensInData', flag: 'allow-special-tokens-in-data', kind: 'bool', def: false, help: 'encode special-token text inside messages as the special tokens (trusted data only)' },
];

function preferenceSpecs(method: PreferenceMethod): OptSpec[] {
  const own: OptSpec[] = [
    { name: 'beta', flag: 'beta', kind: 'number', min: 1e-9, def: BETA[method], help: method === 'orpo' ? 'λ: weight of the odds-ratio term' : method === 'simpo' ? 'β: reward scale' : 'β: strength of the implicit KL to the reference' },
  ];
  if (method === 'dpo') own.push({ name: 'lossType', flag: 'loss-type', kind: 'enum', values: ['sigmoid', 'robust', 'hinge'], def: 'sigmoid', help: 'DPO loss: sigmoid (DPO / cDPO with --label-smoothing), robust (Robust DPO), hinge (SLiC)' });
  if (method === 'dpo' || method === 'simpo') own.push({ name: 'labelSmoothing', flag: 'label-smoothing', kind: 'number', min: 0, max: 0.999, def: 0, help: 'ε: assumed probability that a preference label is flipped' });
  if (method === 'simpo') {
    own.push({ name: 'gamma', flag: 'gamma', kind: 'number', def: 0.5, help: 'γ: target reward margin' });
    own.push({ name: 'cpoAlpha', flag: 'cpo-alpha', kind: 'number', min: 0, def: 0, help: 'weight of an NLL term on the chosen responses (TRL CPO; 0 = pure SimPO)' });
  }
  if (method === 'kto') {
    own.push({ name: 'desirableWeight', flag: 'desirable-weight', kind: 'number', min: 0, def: 1, help: 'weight of desirable (label true) rows' });
    own.push({ name: 'undesirableWeight', flag: 'undesirable-weight', kind: 'number', min: 0, def: 1, help: 'weight of undesirable (label false) rows' });
  }
  if (method === 'dpo' || method === 'ipo' || method === 'kto') {
    own.push({ name: 'ref', flag: 'ref', kind: 'string', help: 'reference model (same vocabulary); default: a frozen copy of --init, or with --peft the adapter-disabled base (no second copy)' });
  }
  if (method === 'dpo' || method === 'ipo') own.push({ name: 'precomputeRef', flag: 'precompute-ref', kind: 'bool', def: false, help: 'compute the reference log-probs once before training and free the reference model' });
  const lrHelp = `(default: ${ALIGN_LR[method].toExponential()} for a full fine-tune, ${ALIGN_PEFT_LR.toExponential()} with --peft)`;
  return [...ALIGN_DATA_OPTIONS, ...TEMPLATE_OPTIONS, ...own, ...trainSpecs(method, lrHelp), ...PEFT_OPTIONS];
}

export function alignCommands(): Command[] {
  const pref = PREFERENCE_METHODS.map((m) => {
    const specs = preferenceSpecs(m);
    return addOptions(new Command(m).description(DESCRIPTION[m]), specs).action(async (_o, cmd: Command) => {
      await preference(m, await resolveRunOptions(cmd, specs), await explicitOptions(cmd, specs));
    });
  });
  const reward = addOptions(new Command('reward').description('train a Bradley–Terry reward model (a 1-output head on the backbone) on preference JSONL'), REWARD_SPECS).action(async (_o, cmd: Command) => {
    await rewardModel(await resolveRunOptions(cmd, REWARD_SPECS), await explicitOptions(cmd, REWARD_SPECS));
  });
  const classify = addOptions(new Command('classify').description('train a classifier (or --regression) head on the backbone on {"text","label"} / {"text","target"} JSONL'), CLASSIFY_SPECS).action(async (_o, cmd: Command) => {
    await classify_(await resolveRunOptions(cmd, CLASSIFY_SPECS), await explicitOptions(cmd, CLASSIFY_SPECS));
  });
  return [...pref, reward, classify];
}

// ---------------------------------------------------------------------------------------------
// shared helpers

const log = (s: string) => void process.stderr.write(`${s}\n`);

/** --template: 'none' (raw concatenation) or a chat template (sft's loader). */
export async function alignTemplate(spec: string): Promise<ChatTemplate | 'none'> {
  return spec === 'none' ? 'none' : loadTemplate(spec);
}

/** The model directory --init names (a run folder → its best/ or checkpoint/). */
export async function initDir(init: string): Promise<string> {
  return findModelDir(init, { nested: false }).catch((e: unknown) => {
    throw new CliError(`--init: ${(e as Error).message}`, 1);
  });
}

/** The pad id of a model: its pad token, else its (first) EOS, else 0. */
export function padIdOf(model: { config: { padTokenId?: number | null; eosTokenId?: number | readonly number[] | null } }): number {
  const eos = model.config.eosTokenId;
  return model.config.padTokenId ?? (typeof eos === 'number' ? eos : eos?.[0]) ?? 0;
}

/** Rows of the --data files and the held-out rows (--val-data, else the last --val-fraction). */
async function readSplit<R>(o: Record<string, unknown>, validate: (v: unknown, where: string) => R): Promise<{ train: R[]; val: R[] }> {
  if (!o.data) throw new CliError('--data is required (a JSONL file)');
  const read = async (files: string[]) => (await Promise.all(files.map((f) => readJsonl(f, validate)))).flat();
  const all = await read(o.data as string[]);
  if (o.valData) return { train: all, val: await read(o.valData as string[]) };
  const nVal = Math.floor(all.length * (o.valFraction as number));
  return { train: all.slice(0, all.length - nVal), val: all.slice(all.length - nVal) };
}

function checkTokenizer(tok: ResolvedTokenizer, model: { config: { vocabSize: number } }): void {
  if (tok.tokenizer.vocabSize > model.config.vocabSize) throw new CliError(`the tokenizer has ${tok.tokenizer.vocabSize} symbols, the model only ${model.config.vocabSize}: pass the --tokenizer the model was trained with`, 1);
}

/** Learning-rate defaults: --lr given wins; else `lr`; --min-lr a tenth of the peak unless given. */
function applyLr(o: Record<string, unknown>, explicit: ReadonlySet<string>, lr: number): void {
  if (!explicit.has('lr') && o.lr === undefined) o.lr = lr;
  if (!explicit.has('minLr') && o.minLr === undefined) o.minLr = (o.lr as number) / 10;
}

/** trainConfig without the distillation flags these commands do not have. */
const alignTrainConfig = (o: Record<string, unknown>) => trainConfig({ ...o, distillTemperature: 2, distillAlpha: 0.5 });

const fmt = (v: number | undefined) => (v === undefined ? '-' : Math.abs(v) >= 1e-3 || v === 0 ? v.toFixed(4) : v.toExponential(3));

// ---------------------------------------------------------------------------------------------
// dpo | ipo | orpo | kto | simpo

const REFERENCE_FREE: ReadonlySet<PreferenceMethod> = new Set(['orpo', 'simpo']);

export async function preference(method: PreferenceMethod, o: Record<string, unknown>, explicit: ReadonlySet<string> = new Set()): Promise<void> {
  if (!o.data) throw new CliError('--data is required (a JSONL file)');
  const peftMethod = (o.peft ?? 'none') as PeftMethod;
  if (peftMethod === 'prompt' || peftMethod === 'prefix') throw new CliError(`--peft ${peftMethod}: virtual-token adapters are not supported by ${method} (use lora, qlora, dora, ia3 or adapter)`);
  checkPeftFlags(o, explicit);
  if (o.resume) await checkResumedPeft(o, explicit);
  applyLr(o, explicit, peftMethod === 'none' ? ALIGN_LR[method] : ALIGN_PEFT_LR);
  const cfg = alignTrainConfig(o);
  await checkFreshRun(o);
  const template = await alignTemplate(o.template as string);
  // every row read and validated before any model is loaded (bad rows name file:line)
  const kto = method === 'kto';
  const rows = kto ? await readSplit(o, validateUnpairedRow) : await readSplit(o, validatePreferenceRow);
  await initBackend({ log: false });
  const out = o.out as string;
  const baseDir = await initDir(o.init as string);
  let model: TrainableModel;
  let base: TransformerLM;
  let peft: PeftModel | null = null;
  let resumed: LoadedCheckpoint<TrainableModel> | null = null;
  const owned: Array<{ dispose(): void }> = [];
  try {
    if (peftMethod === 'none') {
      const ck: LoadedCheckpoint = await loadTrainingCheckpoint(o.resume ? join(out, 'checkpoint') : baseDir);
      owned.push(ck.model);
      requireResumable(o.resume ? ck : null, o.force === true);
      if (!o.resume && ck.optimizerState) for (const t of ck.optimizerState.values()) t.dispose();
      resumed = o.resume ? ck : null;
      model = base = ck.model;
    } else {
      base = await loadBase(baseDir);
      owned.push(base);
      model = base;
    }
    const tok = await resolveTokenizer((o.tokenizer as string | undefined) ?? join(baseDir, 'tokenizer.json'));
    checkTokenizer(tok, base);
    const maxLength = Math.min((o.maxLength as number | undefined) ?? base.config.blockSize, base.config.blockSize);
    const tokOpts = {
      template, maxLength,
      ...(o.maxPromptLength !== undefined ? { maxPromptLength: o.maxPromptLength as number } : {}),
      ...(o.maxCompletionLength !== undefined ? { maxCompletionLength: o.maxCompletionLength as number } : {}),
      allowSpecialInContent: o.allowSpecialTokensInData === true,
    };
    // the reference: loaded and checked before anything is written
    let refModel: TransformerLM | null = null;
    const refDir = REFERENCE_FREE.has(method) ? null : ((o.ref as string | undefined) ?? (peftMethod === 'none' ? baseDir : null));
    if (refDir !== null) {
      const found = await findModelDir(refDir, { nested: false }).catch((e: unknown) => {
        throw new CliError(`--ref: ${(e as Error).message}`, 1);
      });
      refModel = await loadBase(found).catch((e: unknown) => {
        throw e instanceof CliError ? new CliError(e.message.replace(/^--init:/, '--ref:'), 1) : e;
      });
      owned.push(refModel);
      if (refModel.config.vocabSize !== base.config.vocabSize) {
        throw new CliError(`--ref ${refDir}: its vocabulary has ${refModel.config.vocabSize} tokens and the policy's (${baseDir}) ${base.config.vocabSize}; the reference must use the policy's tokenizer (usually the SFT checkpoint the policy starts from)`, 1);
      }
      refModel.setTrainable(/./, false);
    }
    if (o.precomputeRef && kto) throw new CliError('--precompute-ref: KTO cannot precompute the reference (its KL rows change with each batch)');
    const padId = padIdOf(base);
    const seed = o.seed as number;
    const B = o.batchSize as number;
    let trainEx: PairExample[] | TokenizedUnpaired[];
    let valEx: PairExample[] | TokenizedUnpaired[];
    if (kto) {
      trainEx = (rows.train as Parameters<typeof tokenizeUnpaired>[0][]).map((r) => tokenizeUnpaired(r, tok.tokenizer, tokOpts));
      valEx = (rows.val as Parameters<typeof tokenizeUnpaired>[0][]).map((r) => tokenizeUnpaired(r, tok.tokenizer, tokOpts));
    } else {
      trainEx = (rows.train as Parameters<typeof tokenizePreference>[0][]).map((r) => tokenizePreference(r, tok.tokenizer, tokOpts));
      valEx = (rows.val as Parameters<typeof tokenizePreference>[0][]).map((r) => tokenizePreference(r, tok.tokenizer, tokOpts));
    }
    if (trainEx.length === 0) throw new CliError(`no training rows left after holding out ${valEx.length} (lower --val-fraction)`, 1);
    // the policy
    if (peftMethod !== 'none') {
      if (o.resume) {
        const ck = await loadTrainingCheckpoint<PeftModel>(join(out, 'checkpoint'), { loadModel: (d) => attachAdapter(base, d, { isTrainable: true, what: '--resume: the adapter checkpoint' }) });
        requireResumable(ck, o.force === true);
        resumed = ck;
        peft = ck.model;
      } else {
        peft = buildPeftModel(base, peftMethod, peftConfig(o, base.config, baseDir)!, { encode: (t) => tok.tokenizer.encodeOrdinary(t) });
      }
      model = peft;
    }
    let reference: ReferenceSpec | undefined;
    let refWhat: string;
    if (REFERENCE_FREE.has(method)) {
      reference = undefined;
      refWhat = 'none (reference-free)';
    } else if (o.precomputeRef) {
      const refRun: ReferenceSpec = refModel ?? { config: base.config, run: (ids, ro) => peft!.withAdaptersDisabled(() => peft!.run(ids, ro)) };
      const t0 = performance.now();
      trainEx = precomputeReferenceLogps(refRun as Exclude<ReferenceSpec, string>, trainEx as PairExample[], { padId, batchSize: B });
      valEx = precomputeReferenceLogps(refRun as Exclude<ReferenceSpec, string>, valEx as PairExample[], { padId, batchSize: B });
      refWhat = `precomputed once (${refModel ? refDir! : 'the adapter-disabled base'}, ${((performance.now() - t0) / 1000).toFixed(1)} s)`;
      if (refModel) {
        refModel.dispose();
        owned.splice(owned.indexOf(refModel), 1);
        refModel = null;
      }
      reference = 'precomputed';
    } else if (refModel) {
      reference = refModel;
      refWhat = `frozen ${refDir!}`;
    } else {
      reference = 'adapters-disabled';
      refWhat = 'the base with the adapter disabled';
    }
    const objective = makeObjective(method, o, reference, model);
    const data: TrainData<PairBatch | KtoBatch> = kto
      ? { train: unpairedSource(trainEx as TokenizedUnpaired[], { batchSize: B, seed, padId, maxLength }), ...(valEx.length ? { val: unpairedSource(valEx as TokenizedUnpaired[], { batchSize: B, seed: seed + 1, padId, maxLength }) } : {}) }
      : { train: pairSource(trainEx as PairExample[], { batchSize: B, seed, padId }), ...(valEx.length ? { val: pairSource(valEx as PairExample[], { batchSize: B, seed: seed + 1, padId }) } : {}) };
    if (!o.resume) await writeRunSettings(out, method, { ...o, init: baseDir });
    log(`model: ${summarize(base)} · from ${baseDir}${resumed ? ` (resumed at step ${resumed.state?.step ?? 0})` : ''}`);
    if (peft) {
      log(`peft: ${describePeft(peft, peftMethod)} · lr ${String(o.lr)}`);
      log(trainableParameters(peft).line);
    }
    log(`${method}: ${trainEx.length} train / ${valEx.length} val ${kto ? 'rows' : 'pairs'} · β ${String(o.beta)} · lr ${String(o.lr)} · reference: ${refWhat} · template ${typeof template === 'string' ? template : template.name}`);
    await runTraining(model, data, { ...cfg, evalTrain: false }, { tok, resumed, log, objective, resumeHint: `llm-train ${method} --out ${out} --resume`, force: o.force === true });
    if (peft) {
      const { dir, which } = await writeAdapter(out, valEx.length > 0);
      log(`wrote ${dir} (the ${which} adapter, HF PEFT format, + tokenizer.json)`);
    }
    // the held-out summary: every held-out row once (a fresh source, ⌈n / B⌉ batches)
    if (valEx.length) {
      const src = kto ? unpairedSource(valEx as TokenizedUnpaired[], { batchSize: B, seed: seed + 2, padId, maxLength }) : pairSource(valEx as PairExample[], { batchSize: B, seed: seed + 2, padId });
      const r = evaluateObjective(model, src, Math.ceil(valEx.length / B), objective);
      const keys = ['rewards/accuracies', 'rewards/margins', 'rewards/chosen', 'rewards/rejected', 'kl'].filter((k) => typeof r.metrics[k] === 'number');
      process.stdout.write(`held-out (${valEx.length} ${kto ? 'rows' : 'pairs'}): ${keys.map((k) => `${k} ${fmt(r.metrics[k])}`).join(' · ')} · loss ${fmt(r.loss)}\n`);
    } else {
      process.stdout.write('held-out: none (no --val-data and --val-fraction 0 or too few rows)\n');
    }
  } finally {
    // a PeftModel disposes its base with itself
    const peftModel = peft as PeftModel | null;
    for (const m of new Set(owned)) if (!(peftModel && m === peftModel.base)) m.dispose();
    peftModel?.dispose();
    if (resumed?.optimizerState) tf.dispose([...resumed.optimizerState.values()]);
  }
}

function makeObjective(method: PreferenceMethod, o: Record<string, unknown>, reference: ReferenceSpec | undefined, policy: TrainableModel): Objective<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const beta = o.beta as number;
  const ref = reference === undefined ? {} : { reference, policy };
  switch (method) {
    case 'dpo':
      return dpoObjective({ beta, lossType: o.lossType as 'sigmoid' | 'robust' | 'hinge', labelSmoothing: o.labelSmoothing as number, ...ref });
    case 'ipo':
      return ipoObjective({ beta, ...ref });
    case 'kto':
      return ktoObjective({ beta, desirableWeight: o.desirableWeight as number, undesirableWeight: o.undesirableWeight as number, ...ref });
    case 'orpo':
      return orpoObjective({ beta });
    case 'simpo':
      return simpoObjective({ beta, gamma: o.gamma as number, labelSmoothing: o.labelSmoothing as number, cpoAlpha: o.cpoAlpha as number });
  }
}

// ---------------------------------------------------------------------------------------------
// reward | classify

const HEAD_LR = 1e-5;
const FROZEN_HEAD_LR = 1e-3;
const HEAD_LR_HELP = `(default ${HEAD_LR}; ${FROZEN_HEAD_LR} with --freeze-backbone)`;
const FREEZE: OptSpec = { name: 'freezeBackbone', flag: 'freeze-backbone', kind: 'bool', def: false, help: 'train only the head (score.weight); the backbone keeps its weights' };

export const REWARD_SPECS: OptSpec[] = [
  ...ALIGN_DATA_OPTIONS,
  ...TEMPLATE_OPTIONS,
  { name: 'centerRewards', flag: 'center-rewards', kind: 'number', min: 0, help: 'coefficient of the reward-centering term c·mean((r_c + r_r)²) (TRL center_rewards_coefficient; default off)' },
  FREEZE,
  ...trainSpecs('reward', HEAD_LR_HELP),
];

export const CLASSIFY_SPECS: OptSpec[] = [
  ...ALIGN_DATA_OPTIONS,
  { name: 'labels', flag: 'labels', kind: 'string', help: 'class names in head order, comma-separated (default: the labels found, names sorted, or 0…max for integer labels)' },
  { name: 'regression', flag: 'regression', kind: 'bool', def: false, help: 'one output trained with MSE on {"text","target"} rows' },
  { name: 'maxLength', flag: 'max-length', kind: 'int', min: 1, help: 'keep the first n tokens of each text (default and cap: the model context)' },
  FREEZE,
  ...trainSpecs('classify', HEAD_LR_HELP),
];

/** The backbone and head of a head run: --init's model with a new head, or <out>/checkpoint on --resume. */
async function headModel(o: Record<string, unknown>, baseDir: string, make: (backbone: TransformerLM) => SequenceClassifier): Promise<{ model: HeadModel; resumed: LoadedCheckpoint<HeadModel> | null }> {
  const freezeBackbone = o.freezeBackbone === true;
  if (o.resume) {
    const ck = await loadTrainingCheckpoint<HeadModel>(join(o.out as string, 'checkpoint'), {
      loadModel: async (d) => new HeadModel(await loadSequenceClassifier(d), { freezeBackbone }),
    });
    requireResumable(ck, o.force === true);
    return { model: ck.model, resumed: ck };
  }
  const backbone = await loadBase(baseDir);
  try {
    return { model: new HeadModel(make(backbone), { freezeBackbone }), resumed: null };
  } catch (e) {
    backbone.dispose();
    if (e instanceof TransformerError) throw new CliError(e.message, 1);
    throw e;
  }
}

/** Head outputs [N, L] of rows given as token ids (batched, no gradient). */
function headOutputs(m: HeadModel, ids: number[][], padId: number, B: number): number[][] {
  const out: number[][] = [];
  for (let s = 0; s < ids.length; s += B) {
    const b = collateText(ids.slice(s, s + B).map((x) => ({ ids: x })), padId);
    out.push(...tf.tidy(() => m.scores(tf.tensor2d(b.inputs, [b.rows, b.length], 'int32'), { attentionMask: maskRows(b) }).arraySync()));
  }
  return out;
}

export async function rewardModel(o: Record<string, unknown>, explicit: ReadonlySet<string> = new Set()): Promise<void> {
  if (!o.data) throw new CliError('--data is required (a preference JSONL file)');
  applyLr(o, explicit, o.freezeBackbone ? FROZEN_HEAD_LR : HEAD_LR);
  const cfg = alignTrainConfig(o);
  await checkFreshRun(o);
  const template = await alignTemplate(o.template as string);
  const rows = await readSplit(o, validatePreferenceRow);
  await initBackend({ log: false });
  const out = o.out as string;
  const baseDir = await initDir(o.init as string);
  const { model, resumed } = await headModel(o, baseDir, (b) => new SequenceClassifier(b, { numLabels: 1, labels: ['reward'] }));
  try {
    const tok = await resolveTokenizer((o.tokenizer as string | undefined) ?? join(baseDir, 'tokenizer.json'));
    checkTokenizer(tok, model);
    const maxLength = Math.min((o.maxLength as number | undefined) ?? model.config.blockSize, model.config.blockSize);
    const tokOpts = {
      template, maxLength,
      ...(o.maxPromptLength !== undefined ? { maxPromptLength: o.maxPromptLength as number } : {}),
      ...(o.maxCompletionLength !== undefined ? { maxCompletionLength: o.maxCompletionLength as number } : {}),
      allowSpecialInContent: o.allowSpecialTokensInData === true,
    };
    const trainEx = rows.train.map((r) => tokenizePreference(r, tok.tokenizer, tokOpts));
    const valEx = rows.val.map((r) => tokenizePreference(r, tok.tokenizer, tokOpts));
    if (trainEx.length === 0) throw new CliError(`no training rows left after holding out ${valEx.length} (lower --val-fraction)`, 1);
    const padId = padIdOf(model);
    const B = o.batchSize as number;
    const seed = o.seed as number;
    const data = { train: pairSource(trainEx, { batchSize: B, seed, padId }), ...(valEx.length ? { val: pairSource(valEx, { batchSize: B, seed: seed + 1, padId }) } : {}) };
    const objective = rewardObjective(o.centerRewards !== undefined ? { centerRewardsCoefficient: o.centerRewards as number } : {});
    if (!o.resume) await writeRunSettings(out, 'reward', { ...o, init: baseDir });
    const margins = trainEx.filter((e) => e.margin !== undefined).length;
    log(`model: ${summarize(model.classifier.backbone)} + score head [1, ${model.config.nEmbd}] · from ${baseDir}${model.freezeBackbone ? ' · backbone frozen' : ''}`);
    log(`reward: ${trainEx.length} train / ${valEx.length} val pairs${margins ? ` (${margins} with a "margin")` : ''} · lr ${String(o.lr)}${o.centerRewards !== undefined ? ` · center ${String(o.centerRewards)}` : ''}`);
    await runTraining(model, data, { ...cfg, evalTrain: false }, { tok, resumed, log, objective, resumeHint: `llm-train reward --out ${out} --resume`, force: o.force === true });
    log(`the reward model (HF *ForSequenceClassification format, 1 label) is ${join(out, valEx.length ? 'best' : 'checkpoint')}`);
    if (valEx.length) {
      let right = 0;
      let marginSum = 0;
      for (let s = 0; s < valEx.length; s += B) {
        const chunk = valEx.slice(s, s + B);
        const b = collatePairs(chunk, padId);
        const sc = tf.tidy(() => Array.from(model.scores(tf.tensor2d(b.inputs, [b.rows, b.length], 'int32'), { attentionMask: maskRows(b) }).dataSync()));
        for (let i = 0; i < chunk.length; i++) {
          const d = sc[i]! - sc[chunk.length + i]!;
          if (d > 0) right++;
          marginSum += d;
        }
      }
      process.stdout.write(`held-out (${valEx.length} pairs): accuracy ${fmt(right / valEx.length)} · margin ${fmt(marginSum / valEx.length)}\n`);
    } else {
      process.stdout.write('held-out: none (no --val-data and --val-fraction 0 or too few rows)\n');
    }
  } finally {
    model.dispose();
    if (resumed?.optimizerState) tf.dispose([...resumed.optimizerState.values()]);
  }
}

/** Class names and the index of each row's label: --labels (names in head order) or labelIndex. */
function classIndex(rows: readonly ClassificationRecord[], labels: string | undefined): { names: string[]; index(r: ClassificationRecord): number } {
  if (labels === undefined) {
    const li = labelIndex(rows);
    return li;
  }
  const names = labels.split(',').map((x) => x.trim());
  if (names.some((n) => n === '') || new Set(names).size !== names.length) throw new CliError(`--labels ${JSON.stringify(labels)} must be distinct, non-empty names separated by commas`);
  const at = new Map(names.map((n, i) => [n, i]));
  for (const r of rows) {
    const ok = typeof r.label === 'string' ? at.has(r.label) : r.label < names.length;
    if (!ok) throw new CliError(`${r.source}: label ${JSON.stringify(r.label)} is not one of --labels (${names.join(', ')}${typeof r.label === 'number' ? `: integer labels index them, 0…${names.length - 1}` : ''})`, 1);
  }
  return { names, index: (r) => (typeof r.label === 'string' ? at.get(r.label)! : r.label) };
}

export async function classify_(o: Record<string, unknown>, explicit: ReadonlySet<string> = new Set()): Promise<void> {
  if (!o.data) throw new CliError('--data is required (a JSONL file of {"text", "label"} or, with --regression, {"text", "target"})');
  if (o.regression && o.labels !== undefined) throw new CliError('--labels names classes: not with --regression');
  applyLr(o, explicit, o.freezeBackbone ? FROZEN_HEAD_LR : HEAD_LR);
  const cfg = alignTrainConfig(o);
  await checkFreshRun(o);
  const regression = o.regression === true;
  const rows: { train: Array<ClassificationRecord | RegressionRecord>; val: Array<ClassificationRecord | RegressionRecord> } = regression ? await readSplit(o, validateRegressionRow) : await readSplit(o, validateClassificationRow);
  const classes = regression ? null : classIndex([...rows.train, ...rows.val] as ClassificationRecord[], o.labels as string | undefined);
  if (classes && classes.names.length < 2) throw new CliError(`classify: the data has one class (${classes.names[0]}); a classifier needs at least two (or --labels)`, 1);
  await initBackend({ log: false });
  const out = o.out as string;
  const baseDir = await initDir(o.init as string);
  const L = classes ? classes.names.length : 1;
  const { model, resumed } = await headModel(o, baseDir, (b) => new SequenceClassifier(b, { numLabels: L, ...(classes ? { labels: classes.names } : { labels: ['target'] }) }));
  try {
    if (resumed && model.numLabels !== L) throw new CliError(`--resume: the checkpoint's head has ${model.numLabels} outputs, the data ${L}`, 1);
    const tok = await resolveTokenizer((o.tokenizer as string | undefined) ?? join(baseDir, 'tokenizer.json'));
    checkTokenizer(tok, model);
    const maxLength = Math.min((o.maxLength as number | undefined) ?? model.config.blockSize, model.config.blockSize);
    const toEx = (r: ClassificationRecord | RegressionRecord): TextExample => {
      const t = tokenizeText(r, tok.tokenizer, { maxLength });
      if (t.ids.length === 0) throw new CliError(`${r.source}: field "text" has no tokens`, 1);
      return { ids: t.ids, source: r.source, ...(classes ? { label: classes.index(r as ClassificationRecord) } : { target: (r as RegressionRecord).target }) };
    };
    const trainEx = rows.train.map(toEx);
    const valEx = rows.val.map(toEx);
    if (trainEx.length === 0) throw new CliError(`no training rows left after holding out ${valEx.length} (lower --val-fraction)`, 1);
    const padId = padIdOf(model);
    const B = o.batchSize as number;
    const seed = o.seed as number;
    const data = { train: textSource(trainEx, { batchSize: B, seed, padId }), ...(valEx.length ? { val: textSource(valEx, { batchSize: B, seed: seed + 1, padId }) } : {}) };
    const objective = regression ? regressorObjective() : classifierObjective();
    if (!o.resume) await writeRunSettings(out, 'classify', { ...o, init: baseDir });
    log(`model: ${summarize(model.classifier.backbone)} + score head [${L}, ${model.config.nEmbd}] · from ${baseDir}${model.freezeBackbone ? ' · backbone frozen' : ''}`);
    log(`classify: ${trainEx.length} train / ${valEx.length} val rows · ${classes ? `${L} classes (${classes.names.join(', ')})` : 'regression (MSE)'} · lr ${String(o.lr)}`);
    await runTraining(model, data, { ...cfg, evalTrain: false }, { tok, resumed, log, objective, resumeHint: `llm-train classify --out ${out} --resume`, force: o.force === true });
    log(`the ${classes ? 'classifier' : 'regressor'} (HF *ForSequenceClassification format) is ${join(out, valEx.length ? 'best' : 'checkpoint')}`);
    if (valEx.length) {
      const scores = headOutputs(model, valEx.map((e) => e.ids), padId, B);
      if (classes) {
        const pred = scores.map((s) => s.indexOf(Math.max(...s)));
        const gold = valEx.map((e) => e.label!);
        const acc = pred.filter((p, i) => p === gold[i]).length / gold.length;
        process.stdout.write(`held-out (${valEx.length} rows): accuracy ${fmt(acc)} · f1 ${fmt(macroF1(pred, gold, L))} (macro)\n`);
      } else {
        const mse = scores.reduce((a, s, i) => a + (s[0]! - valEx[i]!.target!) ** 2, 0) / scores.length;
        process.stdout.write(`held-out (${valEx.length} rows): mse ${fmt(mse)}\n`);
      }
    } else {
      process.stdout.write('held-out: none (no --val-data and --val-fraction 0 or too few rows)\n');
    }
  } finally {
    model.dispose();
    if (resumed?.optimizerState) tf.dispose([...resumed.optimizerState.values()]);
  }
}

/** Macro F1 over the classes that occur in gold or predictions (sklearn's average='macro' on present labels). */
export function macroF1(pred: readonly number[], gold: readonly number[], L: number): number {
  const f: number[] = [];
  for (let c = 0; c < L; c++) {
    const tp = pred.filter((p, i) => p === c && gold[i] === c).length;
    const fp = pred.filter((p, i) => p === c && gold[i] !== c).length;
    const fn = pred.filter((p, i) => p !== c && gold[i] === c).length;
    if (tp + fp + fn === 0) continue;
    f.push((2 * tp) / (2 * tp + fp + fn));
  }
  return f.length ? f.reduce((a, b) => a + b, 0) / f.length : 0;
}

export const isFile = async (p: string) => (await stat(p).catch(() => null))?.isFile() === true;
