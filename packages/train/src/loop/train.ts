/**
 * The training loop: AdamW + warmup/cosine schedule + global-norm clipping + gradient accumulation,
 * periodic evaluation, best/latest checkpoints, early stop, abort via AbortSignal, exact resume.
 *
 *   const result = await train(model, { train, val }, { maxIters: 2000, lr: 1e-3, outDir: 'out' }, {
 *     onStep: (s) => console.log(s.step, s.loss),
 *     signal: controller.signal,          // abort → save out/checkpoint, return { stoppedBy: 'abort' }
 *   });
 *
 * Resume: pass `resume: await loadTrainingCheckpoint('out/checkpoint')` with the model it returned;
 * training N steps, stopping, resuming and training N more gives the weights of 2N steps in one go.
 */
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { tf, crossEntropy, writeFileAtomic } from '@llm/tensor-gpu';
import type { CausalLM } from '@llm/transformer';
import type { TrainableModel } from './model.js';
import type { TokenizerDefinition } from '@llm/tokenizer-bpe';
import { TrainError } from '../errors.js';
import { AdamW } from '../optim/adamw.js';
import { cosineLr } from '../optim/schedule.js';
import { resolveTrainConfig, type TrainConfig, type TrainConfigInput } from './config.js';
import type { BatchSource, HostBatch } from '../data/batches.js';
import { saveTrainingCheckpoint, type LoadedCheckpoint, type RunFingerprint, type TrainerState } from '../checkpoint/checkpoint.js';
import { resolveCheckpointDir } from '../checkpoint/atomic-dir.js';
import { MetricsLog } from '../metrics/log.js';
import { renderLossCurve, readMetricsJsonl } from '../metrics/svg.js';
import { distillationLoss } from '../distill.js';
import type { Objective } from './objective.js';

export interface TrainData<B = HostBatch> {
  train: BatchSource<B>;
  /** Validation batches (omit: no val loss, no best checkpoint, no early stop). */
  val?: BatchSource<B>;
  /** A second sampler over the train split for nanoGPT-style train-loss estimates at eval time. */
  trainEval?: BatchSource<B>;
}

export interface StepInfo {
  step: number;
  maxIters: number;
  loss: number;
  /** The objective's metrics for this step (mean over micro-batches); {} for the default loss. */
  metrics: Record<string, number>;
  lr: number;
  gradNorm: number;
  tokensPerSec: number;
  elapsedMs: number;
}

export interface EvalInfo {
  step: number;
  valLoss: number | null;
  /** The objective's metrics on the validation batches (mean), keys prefixed `eval_`; {} for the default loss. */
  metrics: Record<string, number>;
  trainLoss: number | null;
  best: boolean;
}

export interface TrainHooks {
  onStep?: (s: StepInfo) => void;
  onEval?: (e: EvalInfo) => void;
  signal?: AbortSignal;
  /** Continue a run (the checkpoint's model must be the `model` passed to train). */
  resume?: Pick<LoadedCheckpoint, 'optimizerState' | 'optimizerStep' | 'state'>;
  /** Teacher for knowledge distillation (its logits are soft targets; it is not trained). */
  teacher?: CausalLM;
  /**
   * The objective (default: next-token cross-entropy over HostBatches). With one, data sources may
   * yield any batch type the objective takes, and evaluation reports the objective's loss.
   */
  objective?: Objective<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** Saved as tokenizer.json into checkpoints. */
  tokenizer?: TokenizerDefinition;
  tokenizerHash?: string;
  /**
   * Override the safety checks of a run's start: a fresh run (no `resume`) into an `outDir` that
   * already holds a checkpoint replaces it; a resume whose model, data or tokenizer differ from what
   * the checkpoint recorded goes on anyway (the data position restarts when the data differ); a
   * `resume` without a trainer state starts at step 0 from its weights. Default false: each is a
   * TrainError (CHECKPOINT_EXISTS, CHECKPOINT_MISMATCH, CHECKPOINT_INVALID) before anything is written.
   */
  force?: boolean;
}

export interface TrainResult {
  steps: number;
  stoppedBy: 'max_iters' | 'early_stop' | 'abort';
  bestValLoss: number | null;
  lastValLoss: number | null;
  lastLoss: number | null;
  elapsedMs: number;
  tokensSeen: number;
}

/** Run the loop until maxIters, early stop or abort. */
export async function train<B = HostBatch>(model: TrainableModel, data: TrainData<B>, configInput: TrainConfigInput, hooks: TrainHooks = {}): Promise<TrainResult> {
  const cfg = resolveTrainConfig(configInput);
  const params = model.trainableParameters();
  if (params.length === 0) throw new TrainError('CONFIG_INVALID', 'the model has no trainable weights (all frozen).');
  const fingerprint = runFingerprint(model, data);
  if (!hooks.resume?.state && cfg.outDir !== null && !hooks.force) await refuseExistingRun(cfg.outDir, hooks.resume !== undefined);
  const opt = new AdamW(params, { beta1: cfg.beta1, beta2: cfg.beta2, eps: cfg.eps, weightDecay: cfg.weightDecay, decay: cfg.decayRule });
  let s: LoopState;
  try {
    s = restore(model, data, opt, hooks, cfg, fingerprint);
  } catch (e) {
    opt.dispose();
    throw e;
  }
  const log = cfg.outDir ? await MetricsLog.open(join(cfg.outDir, 'metrics.jsonl'), hooks.resume?.state ? { resumeAt: s.step } : {}) : null;
  const t0 = performance.now() - s.elapsedMs;
  let lastLoss: number | null = null;
  let lastValLoss: number | null = null;
  let stoppedBy: TrainResult['stoppedBy'] = 'max_iters';
  const snapshot = (): TrainerState => ({
    format: 'llm-ts-trainer-state',
    version: 1,
    step: s.step,
    bestValLoss: s.bestValLoss,
    evalsWithoutImprovement: s.evalsWithoutImprovement,
    data: { train: data.train.getState(), val: data.val?.getState() ?? null, trainEval: data.trainEval?.getState() ?? null },
    dropout: model.getDropoutState(),
    tokensSeen: s.tokensSeen,
    elapsedMs: performance.now() - t0,
    config: cfg as unknown as Record<string, unknown>,
    ...(hooks.tokenizerHash ? { tokenizerHash: hooks.tokenizerHash } : {}),
    fingerprint,
  });
  const saveLatest = async () => {
    if (cfg.outDir) await saveTrainingCheckpoint(join(cfg.outDir, 'checkpoint'), { model, optimizer: opt, state: snapshot(), ...(hooks.tokenizer ? { tokenizer: hooks.tokenizer } : {}) });
  };
  let evaluatedAt = -1;
  const evaluateNow = async () => {
    evaluatedAt = s.step;
    const val = data.val ? evaluateObjective(model, data.val, cfg.evalIters, hooks.objective) : null;
    const valLoss = val?.loss ?? null;
    const valMetrics = Object.fromEntries(Object.entries(val?.metrics ?? {}).map(([k, v]) => [`eval_${k}`, v]));
    const trainLoss = cfg.evalTrain && data.trainEval ? evaluateObjective(model, data.trainEval, cfg.evalIters, hooks.objective).loss : null;
    lastValLoss = valLoss;
    const best = valLoss !== null && (s.bestValLoss === null || valLoss < s.bestValLoss);
    if (best) {
      s.bestValLoss = valLoss;
      s.evalsWithoutImprovement = 0;
      if (cfg.outDir && cfg.saveBest) await saveTrainingCheckpoint(join(cfg.outDir, 'best'), { model, ...(hooks.tokenizer ? { tokenizer: hooks.tokenizer } : {}) });
    } else if (valLoss !== null) {
      s.evalsWithoutImprovement++;
    }
    hooks.onEval?.({ step: s.step, valLoss, trainLoss, best, metrics: valMetrics });
    await log?.append({ step: s.step, loss: null, val_loss: valLoss, val_ppl: valLoss === null || hooks.objective ? null : Math.exp(valLoss), train_eval_loss: trainLoss, lr: cosineLr(s.step, schedule(cfg)), grad_norm: null, tokens_per_sec: null, elapsed_ms: Math.round(performance.now() - t0), ...valMetrics });
    if (cfg.outDir) await writeLossPlot(cfg.outDir);
  };

  try {
    if (s.step === 0 && cfg.evalInterval > 0) await evaluateNow();
    while (s.step < cfg.maxIters) {
      if (hooks.signal?.aborted) {
        stoppedBy = 'abort';
        break;
      }
      const lr = cosineLr(s.step, schedule(cfg));
      const tStep = performance.now();
      const { loss, gradNorm, tokens, metrics } = trainStep(model, data.train, opt, lr, cfg, hooks.teacher, hooks.objective);
      s.step++;
      s.tokensSeen += tokens;
      lastLoss = loss;
      if (!Number.isFinite(loss)) throw new TrainError('INVALID_ARGUMENT', `loss became ${loss} at step ${s.step} (lr ${lr.toExponential(2)}): lower the learning rate or enable gradient clipping.`);
      const info: StepInfo = { step: s.step, maxIters: cfg.maxIters, loss, metrics, lr, gradNorm, tokensPerSec: (tokens * 1000) / (performance.now() - tStep), elapsedMs: performance.now() - t0 };
      hooks.onStep?.(info);
      if (s.step % cfg.logInterval === 0) {
        await log?.append({ step: s.step, loss, val_loss: null, lr, grad_norm: gradNorm, tokens_per_sec: Math.round(info.tokensPerSec), elapsed_ms: Math.round(info.elapsedMs), ...metrics });
      }
      const evalDue = cfg.evalInterval > 0 && s.step % cfg.evalInterval === 0;
      if (evalDue || s.step === cfg.maxIters) {
        await evaluateNow();
        await saveLatest();
        if (cfg.earlyStopPatience > 0 && s.evalsWithoutImprovement >= cfg.earlyStopPatience) {
          stoppedBy = 'early_stop';
          break;
        }
      }
      await new Promise<void>((r) => setImmediate(r)); // let signal handlers run
    }
    if (stoppedBy === 'abort') {
      // a stopped run (Ctrl-C, a time limit) ends like a finished one: evaluated, plotted, best/ current
      if (cfg.evalInterval > 0 && evaluatedAt !== s.step) await evaluateNow();
      await saveLatest();
    }
  } finally {
    opt.dispose();
  }
  return { steps: s.step, stoppedBy, bestValLoss: s.bestValLoss, lastValLoss, lastLoss, elapsedMs: performance.now() - t0, tokensSeen: s.tokensSeen };
}

const schedule = (cfg: TrainConfig) => ({ lr: cfg.lr, minLr: cfg.minLr, warmupIters: cfg.warmupIters, decayIters: cfg.lrDecayIters, decay: cfg.decayLr });

interface LoopState {
  step: number;
  bestValLoss: number | null;
  evalsWithoutImprovement: number;
  tokensSeen: number;
  elapsedMs: number;
}

/** The architecture fields of a model config: what makes "the same model" for a resume (not dropout, seed or init). */
const ARCHITECTURE = ['family', 'vocabSize', 'nLayer', 'nHead', 'nKvHead', 'nEmbd', 'headDim', 'intermediateSize', 'blockSize', 'activation', 'normEps', 'ropeTheta', 'bias', 'tieWordEmbeddings', 'nExperts', 'nExpertsPerTok'] as const;

/** What the run trains and on what: recorded in every checkpoint, compared on resume. */
function runFingerprint(model: TrainableModel, data: TrainData<unknown>): RunFingerprint {
  const cfg = model.config as unknown as Record<string, unknown>;
  const arch = Object.fromEntries(ARCHITECTURE.filter((k) => cfg[k] !== undefined).map((k) => [k, cfg[k]]));
  const sources: Record<string, unknown> = {};
  for (const k of ['train', 'val', 'trainEval'] as const) {
    const f = data[k]?.fingerprint?.();
    if (f) sources[k] = f;
  }
  return { model: arch, data: sources };
}

/** "key: a → b" for each key whose JSON differs (keys of either side), values cut short. */
function differences(was: Record<string, unknown>, now: Record<string, unknown>): string[] {
  const show = (v: unknown) => {
    const j = JSON.stringify(v) ?? 'none';
    return j.length > 80 ? `${j.slice(0, 80)}…` : j;
  };
  return [...new Set([...Object.keys(was), ...Object.keys(now)])].filter((k) => JSON.stringify(was[k]) !== JSON.stringify(now[k])).map((k) => `${k}: ${show(was[k])} → ${show(now[k])}`);
}

/** The differences of each batch source's data fingerprint, each listed once with the sources it concerns: "tokens: 800 → 900 (train, val)". */
function dataDifferences(was: Record<string, unknown>, now: Record<string, unknown>): string[] {
  const bySource = new Map<string, string[]>();
  for (const source of new Set([...Object.keys(was), ...Object.keys(now)])) {
    const [a, b] = [was[source], now[source]];
    const plain = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
    const diffs = plain(a) && plain(b) ? differences(a, b) : differences({ [source]: a }, { [source]: b });
    for (const d of diffs) bySource.set(d, [...(bySource.get(d) ?? []), source]);
  }
  return [...bySource].map(([d, sources]) => `${d} (${sources.join(', ')})`);
}

/** A fresh run must not replace a checkpoint already in outDir (the CLI's --force; here `force`). */
async function refuseExistingRun(outDir: string, resumeWithoutState: boolean): Promise<void> {
  const found = await resolveCheckpointDir(join(outDir, 'checkpoint'));
  if (found === null) return;
  throw new TrainError(
    resumeWithoutState ? 'CHECKPOINT_INVALID' : 'CHECKPOINT_EXISTS',
    resumeWithoutState
      ? `${found} has no trainer_state.json, so it cannot be resumed (a step-0 run would overwrite it). Restore its trainer_state.json, or pass \`force: true\` to start over from its weights.`
      : `${outDir} already holds a training run (${found}): resume it, choose another output folder, or pass \`force: true\` to start over and replace it.`,
  );
}

function restore(model: TrainableModel, data: TrainData<unknown>, opt: AdamW, hooks: TrainHooks, cfg: TrainConfig, now: RunFingerprint): LoopState {
  const resume = hooks.resume;
  const st = resume?.state;
  const fresh = { step: 0, bestValLoss: null, evalsWithoutImprovement: 0, tokensSeen: 0, elapsedMs: 0 };
  if (!resume) return fresh;
  if (!st) {
    if (hooks.force) return fresh;
    throw new TrainError('CHECKPOINT_INVALID', 'the checkpoint to resume has no trainer_state.json, so the step, data position and schedule are unknown; restore it, or pass `force: true` to start over from its weights.');
  }
  if (st.step > cfg.maxIters) {
    throw new TrainError('CONFIG_INVALID', `the checkpoint is at step ${st.step}, beyond maxIters ${cfg.maxIters}: raise maxIters to continue it (it counts the steps before the resume too).`);
  }
  const mismatch: string[] = [];
  if (st.tokenizerHash && hooks.tokenizerHash && st.tokenizerHash !== hooks.tokenizerHash) mismatch.push(`another tokenizer (${st.tokenizerHash} → ${hooks.tokenizerHash})`);
  const modelDiff = st.fingerprint ? differences(st.fingerprint.model, now.model) : [];
  if (modelDiff.length) mismatch.push(`another model (${modelDiff.join(', ')})`);
  const dataDiff = st.fingerprint ? dataDifferences(st.fingerprint.data, now.data) : [];
  if (dataDiff.length) mismatch.push(`other data (${dataDiff.join('; ')})`);
  if (mismatch.length && !hooks.force) {
    throw new TrainError('CHECKPOINT_MISMATCH', `resume: the checkpoint was trained with ${mismatch.join(' and ')}; this run has the right side. Resume with what it was trained on, or pass \`force: true\` to continue anyway.`);
  }
  if (!resume.optimizerState) throw new TrainError('CHECKPOINT_INVALID', 'the checkpoint has a trainer state but no optimizer.safetensors: it cannot be resumed exactly.');
  opt.loadState(resume.optimizerState, resume.optimizerStep);
  if (dataDiff.length === 0) {
    // the data position only means something on the same data (a forced resume on other data starts it afresh)
    data.train.setState(st.data.train);
    if (data.val && st.data.val !== null && st.data.val !== undefined) data.val.setState(st.data.val);
    if (data.trainEval && st.data.trainEval !== null && st.data.trainEval !== undefined) data.trainEval.setState(st.data.trainEval);
  }
  model.setDropoutState(st.dropout);
  return { step: st.step, bestValLoss: st.bestValLoss, evalsWithoutImprovement: st.evalsWithoutImprovement, tokensSeen: st.tokensSeen, elapsedMs: st.elapsedMs };
}

/** Host batch → tensors (inputs, targets int32 [B, T]) and the mask rows. */
function batchTensors(b: HostBatch): { inputs: tf.Tensor2D; targets: tf.Tensor2D; mask: number[][] | undefined; tokens: number } {
  const inputs = tf.tensor2d(b.inputs, [b.batch, b.length], 'int32');
  const targets = tf.tensor2d(b.targets, [b.batch, b.length], 'int32');
  let mask: number[][] | undefined;
  let tokens = b.batch * b.length;
  if (b.mask) {
    const m = b.mask;
    mask = Array.from({ length: b.batch }, (_, i) => Array.from(m.subarray(i * b.length, (i + 1) * b.length)));
    tokens = m.reduce((a, x) => a + x, 0);
  }
  return { inputs, targets, mask, tokens };
}

/** Mean next-token loss of one batch (+ MoE aux loss; distillation when a teacher is given). */
function batchLoss(model: TrainableModel, inputs: tf.Tensor2D, targets: tf.Tensor2D, mask: number[][] | undefined, training: boolean, teacherLogits: tf.Tensor | null, cfg: TrainConfig): tf.Scalar {
  const out = model.run(inputs, { training, ...(mask ? { attentionMask: mask } : {}) });
  out.hidden.dispose();
  const loss = teacherLogits
    ? distillationLoss(out.logits!, teacherLogits, targets, { temperature: cfg.distillTemperature, alpha: cfg.distillAlpha })
    : (crossEntropy(out.logits!, targets) as tf.Scalar);
  return out.auxLoss ? loss.add(out.auxLoss.mul(model.config.routerAuxLossCoef)) : loss;
}

/** One optimizer update over gradAccumSteps micro-batches. */
function trainStep(model: TrainableModel, source: BatchSource<unknown>, opt: AdamW, lr: number, cfg: TrainConfig, teacher?: CausalLM, objective?: Objective<unknown>): { loss: number; gradNorm: number; tokens: number; metrics: Record<string, number> } {
  const params = model.trainableParameters();
  const byVar = new Map(params.map(([n, v]) => [v.name, n]));
  let acc: Map<string, tf.Tensor> | null = null;
  let lossSum = 0;
  let tokens = 0;
  const metricSums: Record<string, number> = {};
  for (let k = 0; k < cfg.gradAccumSteps; k++) {
    const raw = source.next();
    let value: tf.Scalar;
    let grads: tf.NamedTensorMap;
    if (objective) {
      let kept: Record<string, tf.Scalar | number> = {};
      ({ value, grads } = tf.variableGrads(() => {
        const r = objective.loss(model, raw, { training: true });
        kept = Object.fromEntries(Object.entries(r.metrics ?? {}).map(([m, v]) => [m, typeof v === 'number' ? v : tf.keep(v)]));
        return r.loss.div(cfg.gradAccumSteps) as tf.Scalar;
      }, params.map(([, v]) => v)));
      addMetrics(metricSums, kept, cfg.gradAccumSteps);
      tokens += objective.tokens?.(raw) ?? 0;
      objective.release?.(raw);
    } else {
      const b = batchTensors(raw as HostBatch);
      tokens += b.tokens;
      const teacherLogits = teacher ? tf.tidy(() => teacher.forward(b.inputs, b.mask ? { attentionMask: b.mask } : {})) : null;
      ({ value, grads } = tf.variableGrads(() => batchLoss(model, b.inputs, b.targets, b.mask, true, teacherLogits, cfg).div(cfg.gradAccumSteps) as tf.Scalar, params.map(([, v]) => v)));
      tf.dispose([b.inputs, b.targets, teacherLogits ?? []]);
    }
    lossSum += value.dataSync()[0]!;
    const named = new Map(Object.entries(grads).map(([vn, g]) => [byVar.get(vn)!, g]));
    if (acc === null) {
      acc = named;
    } else {
      for (const [n, g] of named) {
        const sum = acc.get(n)!.add(g);
        acc.get(n)!.dispose();
        g.dispose();
        acc.set(n, sum);
      }
    }
    value.dispose();
  }
  const grads = acc!;
  const gradNorm = tf.tidy(() => tf.sqrt(tf.addN([...grads.values()].map((g) => g.square().sum()))).dataSync()[0]!);
  if (cfg.gradClip > 0 && gradNorm > cfg.gradClip) {
    const scale = cfg.gradClip / (gradNorm + 1e-6); // torch.nn.utils.clip_grad_norm_
    for (const [n, g] of grads) {
      grads.set(n, g.mul(scale));
      g.dispose();
    }
  }
  opt.step(grads, lr);
  tf.dispose([...grads.values()]);
  return { loss: lossSum, gradNorm, tokens, metrics: metricSums };
}

/** sums[k] += v / n for each metric (tensors read and freed). */
function addMetrics(sums: Record<string, number>, metrics: Record<string, tf.Scalar | number>, n: number): void {
  for (const [k, v] of Object.entries(metrics)) {
    const x = typeof v === 'number' ? v : v.dataSync()[0]!;
    if (typeof v !== 'number') v.dispose();
    sums[k] = (sums[k] ?? 0) + x / n;
  }
}

/** Mean loss (and metrics) of the objective over `iters` batches, no gradients; the default objective is evaluate(). */
export function evaluateObjective(model: TrainableModel, source: BatchSource<unknown>, iters: number, objective?: Objective<unknown>): { loss: number; metrics: Record<string, number> } {
  if (!objective) return { loss: evaluate(model, source as BatchSource, iters), metrics: {} };
  let sum = 0;
  const metrics: Record<string, number> = {};
  for (let i = 0; i < iters; i++) {
    const raw = source.next();
    let kept: Record<string, tf.Scalar | number> = {};
    sum += tf.tidy(() => {
      const r = objective.loss(model, raw, { training: false });
      kept = Object.fromEntries(Object.entries(r.metrics ?? {}).map(([m, v]) => [m, typeof v === 'number' ? v : tf.keep(v)]));
      return r.loss.dataSync()[0]!;
    });
    addMetrics(metrics, kept, iters);
    objective.release?.(raw);
  }
  return { loss: sum / iters, metrics };
}

/** Mean next-token cross-entropy over `iters` batches: no dropout, no gradients, no MoE aux term. */
export function evaluate(model: TrainableModel, source: BatchSource, iters: number): number {
  let sum = 0;
  for (let i = 0; i < iters; i++) {
    const b = batchTensors(source.next());
    sum += tf.tidy(() => crossEntropy(model.forward(b.inputs, b.mask ? { attentionMask: b.mask } : {}), b.targets).dataSync()[0]!);
    tf.dispose([b.inputs, b.targets]);
  }
  return sum / iters;
}

async function writeLossPlot(outDir: string): Promise<void> {
  try {
    const { train, val } = readMetricsJsonl(await readFile(join(outDir, 'metrics.jsonl'), 'utf8'));
    const svg = renderLossCurve([{ name: 'train', points: train }, { name: 'val', points: val }], { title: 'loss' });
    await writeFileAtomic(join(outDir, 'loss.svg'), new TextEncoder().encode(svg));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}
