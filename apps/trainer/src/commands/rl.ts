/**
 * Online RL from a reward: `llm-train ppo|grpo` (@llm/align's ppoTrain / grpoTrain; TRL's metric names).
 *
 *   llm-train grpo --init out/sft/best --prompts prompts.txt --reward reward.mjs --out out/grpo --steps 100
 *   llm-train ppo  --init out/sft/best --prompts prompts.jsonl --reward-model out/rm/best --out out/ppo --peft lora
 *
 * --reward names an ES module that is IMPORTED AND RUN (it is your code, with your permissions):
 *
 *   // reward.mjs — default export (or `export function reward`), called once per completion
 *   export default function reward({ prompt, completion, completionIds }) { return completion.includes('4') ? 1 : 0; }
 *
 * Writes <out>/metrics.jsonl (one line per step), <out>/reward.svg, and the final policy to
 * <out>/checkpoint (a model, or with --peft an adapter, then also <out>/adapter). An RL run cannot be
 * resumed (@llm/align does not checkpoint PPO / GRPO state yet).
 */
import { appendFile, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command } from 'commander';
import { initBackend, writeFileAtomic } from '@llm/tensor-gpu';
import { loadSequenceClassifier, summarize, type SequenceClassifier, type TransformerLM } from '@llm/transformer';
import type { ChatTemplate } from '@llm/tokenizer-bpe';
import { resolveTokenizer, renderLossCurve, saveTrainingCheckpoint, type ResolvedTokenizer } from '@llm/train';
import { trainableParameters, type PeftModel } from '@llm/peft';
import { readJsonl, validatePromptRow, tokenizePrompt, ppoTrain, grpoTrain, type RewardFunction, type RlMetrics, type RlPolicy } from '@llm/align';
import { addOptions, explicitOptions, resolveOptions, CliError, type OptSpec } from '../options.js';
import { checkFreshRun } from './pretrain.js';
import { writeRunSettings } from '../run-settings.js';
import { PEFT_OPTIONS, buildPeftModel, checkPeftFlags, peftConfig, type PeftMethod } from '../peft.js';
import { describePeft, loadBase, writeAdapter } from './sft.js';
import { alignTemplate, initDir } from './align.js';

type RlMethod = 'ppo' | 'grpo';

/** Learning rates when --lr is not given: TRL's (PPOConfig 3e-6, GRPOConfig 1e-6) for a full model, 1e-4 for an adapter. */
const RL_LR: Record<RlMethod, number> = { ppo: 3e-6, grpo: 1e-6 };
const RL_PEFT_LR = 1e-4;

const COMMON: OptSpec[] = [
  { name: 'init', flag: 'init', kind: 'string', def: 'out', help: 'the policy to start from (usually the SFT model), or a run folder: its best/ or checkpoint/' },
  { name: 'prompts', flag: 'prompts', kind: 'string', help: 'prompts: JSONL of {"prompt": text or messages} or a text file with one prompt per line' },
  { name: 'reward', flag: 'reward', kind: 'string', help: 'an ES module (.mjs) whose default (or `reward`) export maps { prompt, completion, completionIds } to a number — it is imported and RUN as your code' },
  { name: 'rewardModel', flag: 'reward-model', kind: 'string', help: 'a reward model directory (llm-train reward: 1-label *ForSequenceClassification) instead of --reward' },
  { name: 'tokenizer', flag: 'tokenizer', kind: 'string', help: 'tokenizer file or "byte" (default <init>/tokenizer.json)' },
  { name: 'template', flag: 'template', kind: 'string', def: 'chatml', help: '"chatml", "none" (the prompt as raw text), or an HF chat template (directory, tokenizer_config.json, chat_template.jinja); prompts end with the generation prompt' },
  { name: 'maxPromptLength', flag: 'max-prompt-length', kind: 'int', min: 1, help: 'keep the last n prompt tokens' },
  { name: 'out', flag: 'out', kind: 'string', help: 'output directory (metrics.jsonl, reward.svg, checkpoint/, adapter/)' },
  { name: 'steps', flag: 'steps', kind: 'int', min: 1, def: 100, help: 'RL steps (rollout batches)' },
  { name: 'lr', flag: 'lr', kind: 'number', min: 0, help: 'learning rate (default: 3e-6 ppo, 1e-6 grpo; 1e-4 with --peft)' },
  { name: 'maxNewTokens', flag: 'max-new-tokens', kind: 'int', min: 1, def: 32, help: 'completion length (capped by the model context)' },
  { name: 'temperature', flag: 'temperature', kind: 'number', min: 0.001, def: 1, help: 'sampling temperature' },
  { name: 'seed', flag: 'seed', kind: 'int', min: 0, def: 1337, help: 'seed of prompt order, sampling and adapter init' },
  { name: 'force', flag: 'force', kind: 'bool', def: false, help: 'write into an --out that already holds a run (its files are replaced)' },
];

const PPO_SPECS: OptSpec[] = [
  ...COMMON,
  { name: 'batchSize', flag: 'batch-size', kind: 'int', min: 1, def: 8, help: 'rollouts per step' },
  { name: 'klCoef', flag: 'kl-coef', kind: 'number', min: 0, def: 0.05, help: 'β of the per-token KL penalty to the reference' },
  { name: 'klEstimator', flag: 'kl-estimator', kind: 'enum', values: ['k1', 'k3'], def: 'k1', help: 'per-token KL estimator' },
  { name: 'adaptiveKl', flag: 'adaptive-kl', kind: 'number', min: 0.001, help: 'adaptive KL controller with this target (Ziegler et al.; default: a fixed --kl-coef)' },
  { name: 'numPpoEpochs', flag: 'num-ppo-epochs', kind: 'int', min: 1, def: 4, help: 'PPO epochs per rollout batch' },
  ...PEFT_OPTIONS,
];

const GRPO_SPECS: OptSpec[] = [
  ...COMMON,
  { name: 'promptsPerStep', flag: 'prompts-per-step', kind: 'int', min: 1, def: 2, help: 'distinct prompts per step' },
  { name: 'numGenerations', flag: 'num-generations', kind: 'int', min: 2, def: 8, help: 'completions per prompt G (advantages are normalized within each group)' },
  { name: 'beta', flag: 'beta', kind: 'number', min: 0, def: 0, help: 'β of the KL to the reference (TRL default 0: no KL term)' },
  { name: 'epsilon', flag: 'epsilon', kind: 'number', min: 0, def: 0.2, help: 'clip ε' },
  { name: 'lossType', flag: 'loss-type', kind: 'enum', values: ['dapo', 'grpo', 'dr_grpo', 'bnpo'], def: 'dapo', help: 'GRPO loss aggregation (TRL loss_type)' },
  ...PEFT_OPTIONS,
];

export function rlCommands(): Command[] {
  const make = (m: RlMethod, specs: OptSpec[], what: string) =>
    addOptions(new Command(m).description(what), specs).action(async (_o, cmd: Command) => {
      await rl(m, await resolveOptions(cmd, specs), await explicitOptions(cmd, specs));
    });
  return [
    make('ppo', PPO_SPECS, 'PPO from a reward function or reward model, with a KL penalty to the reference and a value head'),
    make('grpo', GRPO_SPECS, 'GRPO: groups of completions per prompt, group-normalized advantages, no value model'),
  ];
}

export interface PromptLine {
  prompt: string | Array<{ role: string; content: string }>;
  source: string;
}

/** Prompts of a .jsonl (validated rows) or a text file (one per non-blank line). */
export async function readPrompts(path: string | undefined): Promise<PromptLine[]> {
  if (!path) throw new CliError('--prompts is required (a JSONL of {"prompt": …} or a text file with one prompt per line)');
  if (!(await stat(path).catch(() => null))?.isFile()) throw new CliError(`--prompts ${path} does not exist`);
  if (/\.jsonl?$/i.test(path)) return (await readJsonl(path, validatePromptRow)).map((r) => ({ prompt: r.prompt as PromptLine['prompt'], source: r.source }));
  const out: PromptLine[] = [];
  (await readFile(path, 'utf8')).replace(/^\uFEFF/, '').split('\n').forEach((l, i) => {
    const t = l.replace(/\r$/, '');
    if (t.trim() !== '') out.push({ prompt: t, source: `${path}:${i + 1}` });
  });
  if (out.length === 0) throw new CliError(`--prompts ${path} holds no prompts`, 1);
  return out;
}

/** The prompt's text for a reward function: the text, or the last message's content. */
const promptText = (p: PromptLine['prompt']) => (typeof p === 'string' ? p : (p.at(-1)?.content ?? ''));

/** Imports --reward (runs the user's module) and wraps its function for @llm/align. */
async function loadRewardModule(path: string, texts: Map<string, string>, tok: ResolvedTokenizer): Promise<RewardFunction> {
  if (!(await stat(path).catch(() => null))?.isFile()) throw new CliError(`--reward ${path} does not exist (an ES module exporting a function)`);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(resolve(path)).href)) as Record<string, unknown>;
  } catch (e) {
    throw new CliError(`--reward ${path}: importing it failed: ${(e as Error).message?.split('\n')[0] ?? String(e)}`, 1);
  }
  const fn = typeof mod.default === 'function' ? mod.default : typeof mod.reward === 'function' ? mod.reward : null;
  if (!fn) throw new CliError(`--reward ${path} must export a function: export default function reward({ prompt, completion, completionIds }) { return number }`);
  const user = fn as (a: { prompt: string; completion: string; completionIds: number[] }) => unknown;
  const wrapped: RewardFunction = (prompt, completion, completionText) => {
    const ids = Array.from(completion);
    const p = typeof prompt === 'string' ? prompt : (texts.get(prompt.join(',')) ?? tok.tokenizer.decode(prompt));
    const v = user({ prompt: p, completion: completionText ?? tok.tokenizer.decode(ids), completionIds: ids });
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new CliError(`--reward ${path}: the function returned ${v instanceof Promise ? 'a Promise (it must be synchronous)' : JSON.stringify(v) ?? String(v)}, not a finite number`, 1);
    return v;
  };
  Object.defineProperty(wrapped, 'name', { value: (fn as { name?: string }).name || 'reward' });
  return wrapped;
}

async function loadRewardModel(dir: string, vocabSize: number): Promise<SequenceClassifier> {
  let rm: SequenceClassifier;
  try {
    rm = await loadSequenceClassifier(dir);
  } catch (e) {
    throw new CliError(`--reward-model ${dir}: ${(e as Error).message.replace(/\s*\n\s*/g, ' ')}`, 1);
  }
  const bad = rm.numLabels !== 1 ? `it has ${rm.numLabels} outputs, a reward model has 1` : rm.backbone.config.vocabSize !== vocabSize ? `its vocabulary has ${rm.backbone.config.vocabSize} tokens, the policy's ${vocabSize}; it must use the policy's tokenizer` : null;
  if (bad) {
    rm.dispose();
    rm.backbone.dispose();
    throw new CliError(`--reward-model ${dir}: ${bad}`, 1);
  }
  return rm;
}

const REWARD_KEY: Record<RlMethod, string> = { ppo: 'objective/scores', grpo: 'reward' };
const KL_KEY: Record<RlMethod, string> = { ppo: 'objective/kl', grpo: 'kl' };

export async function rl(method: RlMethod, o: Record<string, unknown>, explicit: ReadonlySet<string> = new Set()): Promise<void> {
  const log = (s: string) => void process.stderr.write(`${s}\n`);
  o.out ??= `out/${method}`;
  if ((o.reward === undefined) === (o.rewardModel === undefined)) throw new CliError('pass one of --reward <module.mjs> (a reward function) or --reward-model <dir>');
  const peftMethod = (o.peft ?? 'none') as PeftMethod;
  if (peftMethod === 'prompt' || peftMethod === 'prefix') throw new CliError(`--peft ${peftMethod}: virtual-token adapters are not supported by ${method} (use lora, qlora, dora, ia3 or adapter)`);
  checkPeftFlags(o, explicit);
  if (!explicit.has('lr')) o.lr = peftMethod === 'none' ? RL_LR[method] : RL_PEFT_LR;
  await checkFreshRun(o);
  const out = o.out as string;
  const template: ChatTemplate | 'none' = await alignTemplate(o.template as string);
  const prompts = await readPrompts(o.prompts as string | undefined);
  await initBackend({ log: false });
  const baseDir = await initDir(o.init as string);
  const base: TransformerLM = await loadBase(baseDir);
  let peft: PeftModel | null = null;
  let rewardModel: SequenceClassifier | null = null;
  try {
    const tok = await resolveTokenizer((o.tokenizer as string | undefined) ?? join(baseDir, 'tokenizer.json'));
    if (tok.tokenizer.vocabSize > base.config.vocabSize) throw new CliError(`the tokenizer has ${tok.tokenizer.vocabSize} symbols, the model only ${base.config.vocabSize}`, 1);
    const texts = new Map<string, string>();
    const ids = prompts.map((p) => {
      const r = tokenizePrompt({ prompt: p.prompt, source: p.source }, tok.tokenizer, { template, ...(o.maxPromptLength !== undefined ? { maxPromptLength: o.maxPromptLength as number } : {}) });
      if (r.promptIds.length >= base.config.blockSize) throw new CliError(`${p.source}: the prompt is ${r.promptIds.length} tokens, no room for a completion in the model context of ${base.config.blockSize} (--max-prompt-length cuts it)`, 1);
      texts.set(r.promptIds.join(','), promptText(p.prompt));
      return r.promptIds;
    });
    const reward = o.reward !== undefined ? await loadRewardModule(o.reward as string, texts, tok) : (rewardModel = await loadRewardModel(o.rewardModel as string, base.config.vocabSize));
    const maxNewTokens = Math.min(o.maxNewTokens as number, base.config.blockSize - Math.max(...ids.map((x) => x.length)));
    let policy: RlPolicy = base;
    if (peftMethod !== 'none') {
      peft = buildPeftModel(base, peftMethod, peftConfig(o, base.config, baseDir)!, { encode: (t) => tok.tokenizer.encodeOrdinary(t) });
      policy = peft as unknown as RlPolicy;
    }
    // stop at the template's end of turn when the tokenizer has it as one token
    const imEnd = typeof template === 'object' && template.name === 'chatml' ? tok.tokenizer.specialTokens.get('<|im_end|>') : undefined;
    const eos = base.config.eosTokenId;
    const eosTokenId = imEnd !== undefined ? [imEnd, ...(eos === null || eos === undefined ? [] : typeof eos === 'number' ? [eos] : eos)] : undefined;
    // everything checked: the run's files
    await writeRunSettings(out, method, { ...o, init: baseDir });
    const metricsPath = join(out, 'metrics.jsonl');
    await writeFileAtomic(metricsPath, new Uint8Array());
    log(`model: ${summarize(base)} · from ${baseDir}`);
    if (peft) {
      log(`peft: ${describePeft(peft, peftMethod)} · lr ${String(o.lr)}`);
      log(trainableParameters(peft).line);
    }
    log(`${method}: ${ids.length} prompts · ${o.steps as number} steps · lr ${String(o.lr)} · reward ${o.reward !== undefined ? `function ${String(o.reward)}` : `model ${String(o.rewardModel)}`} · ${method === 'ppo' ? `kl coef ${String(o.klCoef)}` : `β ${String(o.beta)} · G ${String(o.numGenerations)}`} · ${maxNewTokens} new tokens`);
    const ctl = new AbortController();
    const stop = () => ctl.abort();
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    const steps = o.steps as number;
    const every = Math.max(1, Math.round(steps / 20));
    const t0 = performance.now();
    const history: RlMetrics[] = [];
    const onStep = async (m: RlMetrics, index: number) => {
      const step = index + 1; // the library counts from 0
      history.push(m);
      await appendFile(metricsPath, JSON.stringify({ step, elapsed_ms: Math.round(performance.now() - t0), ...m }, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v)) + '\n');
      if (step % every === 0 || step === steps) {
        log(`step ${step}/${steps} · ${REWARD_KEY[method]} ${(m[REWARD_KEY[method]] ?? NaN).toFixed(4)}${m[KL_KEY[method]] !== undefined ? ` · kl ${m[KL_KEY[method]]!.toFixed(4)}` : ''} · ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      }
    };
    const common = {
      prompts: ids, reward, tokenizer: { encode: (t: string) => tok.tokenizer.encodeOrdinary(t), decode: (x: ArrayLike<number>) => tok.tokenizer.decode(Array.from(x)) },
      steps, learningRate: o.lr as number, maxNewTokens, temperature: o.temperature as number, seed: o.seed as number, signal: ctl.signal, onStep,
      ...(eosTokenId ? { eosTokenId } : {}),
    };
    let aborted: boolean;
    try {
      aborted = method === 'ppo'
        ? (await ppoTrain(policy, { ...common, batchSize: o.batchSize as number, klCoef: o.klCoef as number, klEstimator: o.klEstimator as 'k1' | 'k3', numPpoEpochs: o.numPpoEpochs as number, adaptiveKl: o.adaptiveKl !== undefined ? { target: o.adaptiveKl as number } : false })).aborted
        : (await grpoTrain(policy, { ...common, promptsPerStep: o.promptsPerStep as number, numGenerations: o.numGenerations as number, beta: o.beta as number, epsilon: o.epsilon as number, lossType: o.lossType as 'dapo' })).aborted;
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
    const key = REWARD_KEY[method];
    const points = history.map((m, i) => ({ x: i + 1, y: m[key] ?? NaN })).filter((p) => Number.isFinite(p.y));
    const kl = history.map((m, i) => ({ x: i + 1, y: m[KL_KEY[method]] ?? NaN })).filter((p) => Number.isFinite(p.y));
    await writeFileAtomic(join(out, 'reward.svg'), new TextEncoder().encode(renderLossCurve([{ name: key, points }, ...(kl.length ? [{ name: KL_KEY[method], points: kl }] : [])], { title: `${method}: reward`, yLabel: 'reward' })));
    await saveTrainingCheckpoint(join(out, 'checkpoint'), { model: peft ?? base, tokenizer: tok.definition });
    if (peft) {
      const { dir } = await writeAdapter(out, false);
      log(`wrote ${dir} (HF PEFT format, + tokenizer.json)`);
    }
    log(`${aborted ? `stopped after ${history.length} steps (signal)` : `done: ${history.length} steps`} in ${((performance.now() - t0) / 1000).toFixed(1)} s · wrote ${join(out, 'checkpoint')}, ${metricsPath}, ${join(out, 'reward.svg')}`);
    const first = history[0]?.[key];
    const last = history.at(-1)?.[key];
    const lastKl = history.at(-1)?.[KL_KEY[method]];
    process.stdout.write(`${method}: ${key} ${first?.toFixed(4) ?? '-'} (step 1) → ${last?.toFixed(4) ?? '-'} (step ${history.length})${lastKl !== undefined ? ` · ${KL_KEY[method]} ${lastKl.toFixed(4)}` : ''}\n`);
  } finally {
    if (rewardModel) {
      rewardModel.dispose();
      rewardModel.backbone.dispose();
    }
    if (peft) peft.dispose();
    else base.dispose();
  }
}
