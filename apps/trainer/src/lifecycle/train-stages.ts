/**
 * Stages 2–4, through the commands' own functions (pretrain, sft, preference('dpo')): the same
 * checks, progress bar, checkpoints, metrics.jsonl and loss.svg as `llm-train pretrain|sft|dpo`.
 * Each either starts fresh (replacing what an older run left) or resumes its own checkpoint, and
 * reports whether it ran to its last step (false: stopped by Ctrl-C, the checkpoint is saved).
 *
 *   await pretrainStage(cfg, { log, resume: false })   // → { complete: true, outputs: ['best', 'checkpoint'] }
 *   await sftStage(cfg, { log, resume: true })         // continues <out>/sft/checkpoint
 */
import { copyFile, mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '@llm/tensor-gpu';
import type { OptSpec } from '../options.js';
import { pretrain, PRETRAIN_SPECS, TRAIN_OPTIONS } from '../commands/pretrain.js';
import { sft, SFT_SPECS } from '../commands/sft.js';
import { ALIGN_DATA_OPTIONS, preference } from '../commands/align.js';
import { PEFT_OPTIONS } from '../peft.js';
import { generateInstructions, toSftLine } from '../corpus/instructions.js';
import { generatePreferences, toPreferenceLine } from '../corpus/preferences.js';
import type { LifecycleConfig, TrainStageConfig } from './config.js';
import { pretrainData, TEMPLATE_FILE, TOKENIZER_FILE } from './tokenizer-stage.js';

export interface TrainStageContext {
  log: (s: string) => void;
  /** Continue the stage's checkpoint instead of starting over. */
  resume: boolean;
}

export interface TrainStageResult {
  /** Ran to its last step (false: interrupted; run again to continue). */
  complete: boolean;
  /** Result paths relative to the run folder. */
  outputs: string[];
}

export const SFT_DIR = 'sft';
export const DPO_DIR = 'dpo';
export const INSTRUCTIONS_FILE = join('generated', 'instructions.jsonl');
export const PREFERENCES_FILE = join('generated', 'preferences.jsonl');

const defaults = (specs: readonly OptSpec[]) => Object.fromEntries(specs.map((s) => [s.name, s.def]));

/** The loop settings shared by the three stages. */
function loop(t: TrainStageConfig, seed: number, resume: boolean): Record<string, unknown> {
  return {
    maxIters: t.iters, batchSize: t.batchSize, lr: t.lr, minLr: t.lr / 10, warmupIters: t.warmupIters, lrDecayIters: undefined,
    evalInterval: t.evalInterval, evalIters: t.evalIters, logInterval: Math.max(1, Math.min(10, Math.floor(t.iters / 10))), seed, resume, force: !resume,
  };
}

/** The step <dir>/checkpoint was saved at (0 when there is none). */
async function savedStep(dir: string): Promise<number> {
  const text = await readFile(join(dir, 'checkpoint', 'trainer_state.json'), 'utf8').catch(() => null);
  try {
    return text === null ? 0 : Number((JSON.parse(text) as { step?: unknown }).step) || 0;
  } catch {
    return 0;
  }
}

/** Whether `dir` holds a checkpoint a stage can continue. */
export async function hasCheckpoint(dir: string): Promise<boolean> {
  return (await stat(join(dir, 'checkpoint', 'trainer_state.json')).catch(() => null))?.isFile() === true;
}

/** The chat template beside the weights of each model folder of a stage (the server and the GGUF export read it there). */
async function addTemplate(cfg: LifecycleConfig, dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const sub of ['best', 'checkpoint']) {
    if (!(await stat(join(dir, sub, 'config.json')).catch(() => null))) continue;
    await copyFile(join(cfg.out, TEMPLATE_FILE), join(dir, sub, TEMPLATE_FILE));
    found.push(sub);
  }
  return found;
}

async function finish(cfg: LifecycleConfig, dir: string, rel: string, iters: number): Promise<TrainStageResult> {
  const step = await savedStep(dir);
  if (step < iters) return { complete: false, outputs: [] };
  const subs = await addTemplate(cfg, dir);
  return { complete: true, outputs: subs.map((s) => (rel ? join(rel, s) : s)) };
}

/** Pretraining on the corpus: the model lives in <out> itself (checkpoint/, best/), where the other commands look by default. */
export async function pretrainStage(cfg: LifecycleConfig, ctx: TrainStageContext): Promise<TrainStageResult> {
  const o = {
    ...defaults(PRETRAIN_SPECS), data: pretrainData(cfg), out: cfg.out, tokenizer: join(cfg.out, TOKENIZER_FILE), ...cfg.model,
    ...loop(cfg.pretrain, cfg.seed, ctx.resume),
  };
  const model = await pretrain(o, { log: ctx.log, command: 'start', resumeHint: 'npm start (again)' });
  model.dispose();
  return finish(cfg, cfg.out, '', cfg.pretrain.iters);
}

async function writeLines(path: string, lines: string[]): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true });
  await writeFileAtomic(path, new TextEncoder().encode(lines.join('\n') + '\n'));
}

/** SFT on generated instructions (calculator tool calls, story questions) in the chat format: <out>/sft. */
export async function sftStage(cfg: LifecycleConfig, ctx: TrainStageContext): Promise<TrainStageResult> {
  const data = join(cfg.out, INSTRUCTIONS_FILE);
  const convs = generateInstructions({ seed: cfg.seed, count: cfg.sft.examples });
  await writeLines(data, convs.map(toSftLine));
  const calls = convs.filter((c) => c.kind === 'calculator').length;
  ctx.log(`instructions: ${convs.length} conversations (${calls} with a calculator tool call, ${convs.length - calls} story questions) → ${data}`);
  const dir = join(cfg.out, SFT_DIR);
  const o = {
    ...defaults(SFT_SPECS), data: [data], init: cfg.out, out: dir, template: join(cfg.out, TEMPLATE_FILE), tokenizer: join(cfg.out, TOKENIZER_FILE),
    ...loop(cfg.sft, cfg.seed, ctx.resume),
  };
  await sft(o);
  return finish(cfg, dir, SFT_DIR, cfg.sft.iters);
}

/** DPO on generated preferences (right vs wrong arithmetic, a story's fact vs another story's), from the SFT model: <out>/dpo. */
export async function dpoStage(cfg: LifecycleConfig, ctx: TrainStageContext): Promise<TrainStageResult> {
  const data = join(cfg.out, PREFERENCES_FILE);
  const rows = generatePreferences({ seed: cfg.seed + 1, count: cfg.dpo.rows });
  await writeLines(data, rows.map(toPreferenceLine));
  ctx.log(`preferences: ${rows.length} pairs (chosen: the correct answer; rejected: wrong arithmetic or another story's fact) → ${data}`);
  const dir = join(cfg.out, DPO_DIR);
  const o = {
    ...defaults([...ALIGN_DATA_OPTIONS, ...TRAIN_OPTIONS, ...PEFT_OPTIONS]),
    data: [data], init: join(cfg.out, SFT_DIR), out: dir, template: join(cfg.out, TEMPLATE_FILE), tokenizer: join(cfg.out, TOKENIZER_FILE),
    beta: cfg.dpo.beta, lossType: 'sigmoid', labelSmoothing: 0, precomputeRef: true, allowSpecialTokensInData: false,
    maxPromptLength: cfg.model.blockSize - 24, weightDecay: 0, beta2: 0.999,
    ...loop(cfg.dpo, cfg.seed, ctx.resume),
  };
  await preference('dpo', o);
  return finish(cfg, dir, DPO_DIR, cfg.dpo.iters);
}
