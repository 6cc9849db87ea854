/**
 * One replica of a data-parallel run (runs inside a worker thread, on its own tfjs backend).
 *
 * Every replica holds the same model and the same AdamW state. Each step, rank r of N draws the
 * step's N·A micro-batches from the same (identically seeded) training source and keeps micro-batches
 * r·A … r·A+A−1 (A = gradAccumSteps): exactly the micro-batches one process with gradAccumSteps N·A
 * would use, so the global batch, the data position in a checkpoint and the schedule are those of
 * that single-process run. The rank's gradient of loss/(N·A) goes to its shared slot; the slots are
 * summed in rank order (shared.ts); every replica clips and applies the same AdamW update.
 * Dropout is reseeded per step and rank from the run's dropout state, so a run is reproducible
 * for a given worker count and a resume is exact.
 *
 * Rank 0 alone evaluates, logs metrics.jsonl, writes loss.svg and checkpoints (as train() does);
 * the others go on computing the next step's gradients and wait at the barrier.
 */
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { tf, crossEntropy, hashSeed, writeFileAtomic } from '@llm/tensor-gpu';
import type { CausalLM } from '@llm/transformer';
import type { TokenizerDefinition } from '@llm/tokenizer-bpe';
import { TrainError } from '../errors.js';
import { AdamW } from '../optim/adamw.js';
import { cosineLr } from '../optim/schedule.js';
import type { TrainConfig } from '../loop/config.js';
import type { TrainableModel } from '../loop/model.js';
import type { Objective } from '../loop/objective.js';
import { evaluateObjective, type TrainData, type StepInfo, type EvalInfo, type TrainResult } from '../loop/train.js';
import type { HostBatch } from '../data/batches.js';
import { saveTrainingCheckpoint, type LoadedCheckpoint, type RunFingerprint, type TrainerState } from '../checkpoint/checkpoint.js';
import { resolveCheckpointDir } from '../checkpoint/atomic-dir.js';
import { MetricsLog } from '../metrics/log.js';
import { renderLossCurve, readMetricsJsonl } from '../metrics/svg.js';
import { distillationLoss } from '../distill.js';
import { Comm, STOP_EARLY, checksum } from './shared.js';

/** What a setup module builds in each worker (the same on every rank, but for the rank it is given). */
export interface ReplicaSetup<B = HostBatch> {
  model: TrainableModel;
  data: TrainData<B>;
  /** The loss (default next-token cross-entropy over HostBatches), as train()'s `objective`. */
  objective?: Objective<B>;
  /** Distillation teacher, as train()'s `teacher`. */
  teacher?: CausalLM;
  /** Continue a run: what loadTrainingCheckpoint returned (its model must be `model`). */
  resume?: Pick<LoadedCheckpoint, 'optimizerState' | 'optimizerStep' | 'state'>;
  tokenizer?: TokenizerDefinition;
  tokenizerHash?: string;
}

export interface SetupContext {
  /** This replica's rank (0 writes checkpoints and metrics). */
  rank: number;
  /** Replicas in the run. */
  workers: number;
}

/**
 * The function a setup module exports (as `setup` or default): builds the model, data and loss of
 * one replica from plain-JSON arguments. It runs after the worker's backend is initialized.
 */
export type SetupFn<B = any> = (args: any, ctx: SetupContext) => ReplicaSetup<B> | Promise<ReplicaSetup<B>>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Worker → main thread messages (plain JSON). */
export type ReplicaMessage =
  | { type: 'ready'; rank: number; names: string[]; shapes: number[][] }
  | { type: 'step'; info: StepInfo }
  | { type: 'eval'; info: EvalInfo }
  | { type: 'phases'; phases: StepPhases }
  | { type: 'done'; rank: number; result: TrainResult | null; leakedTensors: number }
  | { type: 'error'; rank: number; name: string; code: string | null; message: string; stack: string | null };

/** Where one replica's step went (ms): its micro-batches' forward + backward, waiting for the others, the reduce, the update. */
export interface StepPhases {
  rank: number;
  step: number;
  computeMs: number;
  waitMs: number;
  reduceMs: number;
  updateMs: number;
}

export interface ReplicaOptions {
  rank: number;
  workers: number;
  config: TrainConfig;
  force: boolean;
  /** Compare weight checksums across replicas every n steps (0: never). */
  verifyEvery: number;
  /** Post each step's StepPhases to the main thread. */
  profile: boolean;
}

/** The training loop of one replica; resolves with the run's result on rank 0 (null elsewhere). */
export async function runReplica<B>(setup: ReplicaSetup<B>, o: ReplicaOptions, connect: () => Promise<Comm>, post: (m: ReplicaMessage) => void): Promise<TrainResult | null> {
  const { rank, workers: N, config: cfg } = o;
  const lead = rank === 0;
  const { model, data } = setup;
  const objective = setup.objective as Objective<unknown> | undefined;
  const params = model.trainableParameters();
  if (params.length === 0) throw new TrainError('CONFIG_INVALID', 'the model has no trainable weights (all frozen).');
  const fingerprint = runFingerprint(model, data as TrainData<unknown>);
  if (lead && !setup.resume?.state && cfg.outDir !== null && !o.force) await refuseExistingRun(cfg.outDir, setup.resume !== undefined);
  const opt = new AdamW(params, { beta1: cfg.beta1, beta2: cfg.beta2, eps: cfg.eps, weightDecay: cfg.weightDecay, decay: cfg.decayRule });
  try {
    const s = restore(setup as ReplicaSetup<unknown>, opt, cfg, fingerprint, o.force);
    if (setup.resume?.optimizerState) tf.dispose([...setup.resume.optimizerState.values()]);
    post({ type: 'ready', rank, names: params.map(([n]) => n), shapes: params.map(([, v]) => v.shape) });
    const comm = await connect();
    broadcastState(comm, params, opt);
    const tensorsAtStart = tf.memory().numTensors;
    const dropoutBase = model.getDropoutState();
    const log = lead && cfg.outDir ? await MetricsLog.open(join(cfg.outDir, 'metrics.jsonl'), setup.resume?.state ? { resumeAt: s.step } : {}) : null;
    const t0 = performance.now() - s.elapsedMs;
    let lastLoss: number | null = null;
    let lastValLoss: number | null = null;
    let stoppedBy: TrainResult['stoppedBy'] = 'max_iters';
    let trainState = clone(data.train.getState()); // the position after the last completed update
    const snapshot = (): TrainerState => ({
      format: 'llm-ts-trainer-state',
      version: 1,
      step: s.step,
      bestValLoss: s.bestValLoss,
      evalsWithoutImprovement: s.evalsWithoutImprovement,
      data: { train: trainState, val: data.val?.getState() ?? null, trainEval: data.trainEval?.getState() ?? null },
      dropout: dropoutBase,
      tokensSeen: s.tokensSeen,
      elapsedMs: performance.now() - t0,
      config: cfg as unknown as Record<string, unknown>,
      ...(setup.tokenizerHash ? { tokenizerHash: setup.tokenizerHash } : {}),
      fingerprint,
    });
    const saveLatest = async () => {
      if (cfg.outDir) await saveTrainingCheckpoint(join(cfg.outDir, 'checkpoint'), { model, optimizer: opt, state: snapshot(), ...(setup.tokenizer ? { tokenizer: setup.tokenizer } : {}) });
    };
    let evaluatedAt = -1;
    const evaluateNow = async () => {
      evaluatedAt = s.step;
      const val = data.val ? evaluateObjective(model, data.val as never, cfg.evalIters, objective) : null;
      const valLoss = val?.loss ?? null;
      const valMetrics = Object.fromEntries(Object.entries(val?.metrics ?? {}).map(([k, v]) => [`eval_${k}`, v]));
      const trainLoss = cfg.evalTrain && data.trainEval ? evaluateObjective(model, data.trainEval as never, cfg.evalIters, objective).loss : null;
      lastValLoss = valLoss;
      const best = valLoss !== null && (s.bestValLoss === null || valLoss < s.bestValLoss);
      if (best) {
        s.bestValLoss = valLoss;
        s.evalsWithoutImprovement = 0;
        if (cfg.outDir && cfg.saveBest) await saveTrainingCheckpoint(join(cfg.outDir, 'best'), { model, ...(setup.tokenizer ? { tokenizer: setup.tokenizer } : {}) });
      } else if (valLoss !== null) {
        s.evalsWithoutImprovement++;
      }
      post({ type: 'eval', info: { step: s.step, valLoss, trainLoss, best, metrics: valMetrics } });
      await log?.append({ step: s.step, loss: null, val_loss: valLoss, val_ppl: valLoss === null || objective ? null : Math.exp(valLoss), train_eval_loss: trainLoss, lr: cosineLr(s.step, schedule(cfg)), grad_norm: null, tokens_per_sec: null, elapsed_ms: Math.round(performance.now() - t0), ...valMetrics });
      if (cfg.outDir) await writeLossPlot(cfg.outDir);
    };

    if (lead && s.step === 0 && cfg.evalInterval > 0) await evaluateNow();
    while (s.step < cfg.maxIters) {
      const lr = cosineLr(s.step, schedule(cfg));
      const tStep = performance.now();
      model.setDropoutState(hashSeed(dropoutBase, `dropout:${s.step}:${rank}`));
      const metricNames = localGradients(model, data.train, comm, params, cfg, rank, N, setup.teacher, objective);
      const tComputed = performance.now();
      const stop = comm.barrier(); // every slot written; the stop decision is the same on every rank
      if (stop !== 0) {
        stoppedBy = stop === STOP_EARLY ? 'early_stop' : 'abort';
        break;
      }
      const tArrived = performance.now();
      comm.reduceChunk();
      const tReduced = performance.now();
      comm.barrier(); // the reduced gradient is complete
      const tReady = performance.now();
      const { loss, tokens, metrics } = comm.readStats(metricNames);
      if (!Number.isFinite(loss)) throw new TrainError('INVALID_ARGUMENT', `loss became ${loss} at step ${s.step + 1} (lr ${lr.toExponential(2)}): lower the learning rate or enable gradient clipping.`);
      const gradNorm = applyUpdate(comm, params, opt, lr, cfg);
      if (o.profile) {
        const tDone = performance.now();
        post({ type: 'phases', phases: { rank, step: s.step + 1, computeMs: tComputed - tStep, waitMs: tArrived - tComputed + (tReady - tReduced), reduceMs: tReduced - tArrived, updateMs: tDone - tReady } });
      }
      s.step++;
      s.tokensSeen += tokens;
      lastLoss = loss;
      trainState = clone(data.train.getState());
      if (o.verifyEvery > 0 && s.step % o.verifyEvery === 0) {
        const bad = comm.compareChecksums(checksum(params.map(([, v]) => v.dataSync() as Float32Array)));
        if (bad.length) throw new TrainError('WORKER_FAILED', `replicas diverged at step ${s.step}: the weights of rank(s) ${bad.join(', ')} differ from rank 0's. Every replica must build the same model and apply the same update; check that the setup module builds the model deterministically and that nothing else writes its weights.`);
      }
      if (lead) {
        const info: StepInfo = { step: s.step, maxIters: cfg.maxIters, loss, metrics, lr, gradNorm, tokensPerSec: (tokens * 1000) / (performance.now() - tStep), elapsedMs: performance.now() - t0 };
        post({ type: 'step', info });
        if (s.step % cfg.logInterval === 0) {
          await log?.append({ step: s.step, loss, val_loss: null, lr, grad_norm: gradNorm, tokens_per_sec: Math.round(info.tokensPerSec), elapsed_ms: Math.round(info.elapsedMs), ...metrics });
        }
        const evalDue = cfg.evalInterval > 0 && s.step % cfg.evalInterval === 0;
        if (evalDue || s.step === cfg.maxIters) {
          await evaluateNow();
          await saveLatest();
          if (cfg.earlyStopPatience > 0 && s.evalsWithoutImprovement >= cfg.earlyStopPatience) comm.requestStop(STOP_EARLY);
        }
      }
    }
    if (lead && stoppedBy === 'abort') {
      if (cfg.evalInterval > 0 && evaluatedAt !== s.step) await evaluateNow();
      await saveLatest();
    }
    const leaked = tf.memory().numTensors - tensorsAtStart;
    const result: TrainResult | null = lead ? { steps: s.step, stoppedBy, bestValLoss: s.bestValLoss, lastValLoss, lastLoss, elapsedMs: performance.now() - t0, tokensSeen: s.tokensSeen } : null;
    post({ type: 'done', rank, result, leakedTensors: leaked });
    return result;
  } finally {
    opt.dispose();
  }
}

const schedule = (cfg: TrainConfig) => ({ lr: cfg.lr, minLr: cfg.minLr, warmupIters: cfg.warmupIters, decayIters: cfg.lrDecayIters, decay: cfg.decayLr });

const clone = (v: unknown): unknown => (v === undefined ? null : JSON.parse(JSON.stringify(v)));

/** Rank 0's weights and AdamW moments to every replica (a setup that built its model differently is made equal). */
function broadcastState(comm: Comm, params: Array<[string, tf.Variable]>, opt: AdamW): void {
  if (comm.layout.workers === 1) return;
  const moments = opt.stateTensors();
  const groups: Array<Array<tf.Variable | tf.Tensor>> = [params.map(([, v]) => v), params.map(([n]) => moments.get(`${n}.exp_avg`)!), params.map(([n]) => moments.get(`${n}.exp_avg_sq`)!)];
  for (const group of groups) {
    if (comm.rank === 0) group.forEach((t, i) => comm.result.set(t.dataSync() as Float32Array, comm.layout.offsets[i]));
    comm.barrier();
    if (comm.rank !== 0) {
      group.forEach((t, i) => {
        const fresh = tf.tensor(comm.reduced(i), t.shape, 'float32');
        (t as tf.Variable).assign(fresh);
        fresh.dispose();
      });
    }
    comm.barrier();
  }
}

/** This rank's micro-batches of the step: gradients of loss/(N·A) summed into its slot; its loss, tokens and metric sums into its stats. Returns the metric names. */
function localGradients(model: TrainableModel, source: TrainData<unknown>['train'], comm: Comm, params: Array<[string, tf.Variable]>, cfg: TrainConfig, rank: number, N: number, teacher: CausalLM | undefined, objective: Objective<unknown> | undefined): string[] {
  const A = cfg.gradAccumSteps;
  const scale = N * A;
  const byVar = new Map(params.map(([n, v]) => [v.name, n]));
  let acc: Map<string, tf.Tensor> | null = null;
  let lossSum = 0;
  let tokens = 0;
  const metricSums: Record<string, number> = {};
  for (let j = 0; j < N * A; j++) {
    const raw = source.next();
    if (Math.floor(j / A) !== rank) {
      objective?.release?.(raw); // another rank's micro-batch
      continue;
    }
    let value: tf.Scalar;
    let grads: tf.NamedTensorMap;
    if (objective) {
      let kept: Record<string, tf.Scalar | number> = {};
      ({ value, grads } = tf.variableGrads(() => {
        const r = objective.loss(model, raw, { training: true });
        kept = Object.fromEntries(Object.entries(r.metrics ?? {}).map(([m, v]) => [m, typeof v === 'number' ? v : tf.keep(v)]));
        return r.loss.div(scale) as tf.Scalar;
      }, params.map(([, v]) => v)));
      for (const [k, v] of Object.entries(kept)) {
        const x = typeof v === 'number' ? v : v.dataSync()[0]!;
        if (typeof v !== 'number') v.dispose();
        metricSums[k] = (metricSums[k] ?? 0) + x / scale;
      }
      tokens += objective.tokens?.(raw) ?? 0;
      objective.release?.(raw);
    } else {
      const b = raw as HostBatch;
      const inputs = tf.tensor2d(b.inputs, [b.batch, b.length], 'int32');
      const targets = tf.tensor2d(b.targets, [b.batch, b.length], 'int32');
      let mask: number[][] | undefined;
      if (b.mask) {
        const m = b.mask;
        mask = Array.from({ length: b.batch }, (_, i) => Array.from(m.subarray(i * b.length, (i + 1) * b.length)));
        tokens += m.reduce((a, x) => a + x, 0);
      } else {
        tokens += b.batch * b.length;
      }
      const teacherLogits = teacher ? tf.tidy(() => teacher.forward(inputs, mask ? { attentionMask: mask } : {})) : null;
      ({ value, grads } = tf.variableGrads(() => {
        const out = model.run(inputs, { training: true, ...(mask ? { attentionMask: mask } : {}) });
        out.hidden.dispose();
        let loss = teacherLogits
          ? distillationLoss(out.logits!, teacherLogits, targets, { temperature: cfg.distillTemperature, alpha: cfg.distillAlpha })
          : (crossEntropy(out.logits!, targets) as tf.Scalar);
        if (out.auxLoss) loss = loss.add(out.auxLoss.mul(model.config.routerAuxLossCoef));
        return loss.div(scale) as tf.Scalar;
      }, params.map(([, v]) => v)));
      tf.dispose([inputs, targets, teacherLogits ?? []]);
    }
    lossSum += value.dataSync()[0]!;
    value.dispose();
    const named = new Map(Object.entries(grads).map(([vn, g]) => [byVar.get(vn)!, g]));
    if (acc === null) {
      acc = named;
    } else {
      for (const [n, g] of named) {
        const prev = acc.get(n);
        acc.set(n, prev ? prev.add(g) : g.clone());
        prev?.dispose();
        g.dispose();
      }
    }
  }
  params.forEach(([n], i) => {
    const g = acc?.get(n);
    comm.writeGradient(i, g ? (g.dataSync() as Float32Array) : null);
  });
  if (acc) tf.dispose([...acc.values()]);
  comm.writeStats({ loss: lossSum, tokens, metrics: metricSums });
  return Object.keys(metricSums);
}

/** The reduced gradient → global-norm clip → AdamW (identical on every replica). Returns the norm. */
function applyUpdate(comm: Comm, params: Array<[string, tf.Variable]>, opt: AdamW, lr: number, cfg: TrainConfig): number {
  const grads = new Map<string, tf.Tensor>();
  params.forEach(([n, v], i) => {
    if (comm.present(i)) grads.set(n, tf.tensor(comm.reduced(i), v.shape, 'float32'));
  });
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
  return gradNorm;
}

interface LoopState {
  step: number;
  bestValLoss: number | null;
  evalsWithoutImprovement: number;
  tokensSeen: number;
  elapsedMs: number;
}

// ---- the run-identity checks of train() (loop/train.ts), kept identical so checkpoints move between the two ----

const ARCHITECTURE = ['family', 'vocabSize', 'nLayer', 'nHead', 'nKvHead', 'nEmbd', 'headDim', 'intermediateSize', 'blockSize', 'activation', 'normEps', 'ropeTheta', 'bias', 'tieWordEmbeddings', 'nExperts', 'nExpertsPerTok'] as const;

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

function differences(was: Record<string, unknown>, now: Record<string, unknown>): string[] {
  const show = (v: unknown) => {
    const j = JSON.stringify(v) ?? 'none';
    return j.length > 80 ? `${j.slice(0, 80)}…` : j;
  };
  return [...new Set([...Object.keys(was), ...Object.keys(now)])].filter((k) => JSON.stringify(was[k]) !== JSON.stringify(now[k])).map((k) => `${k}: ${show(was[k])} → ${show(now[k])}`);
}

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

function restore(setup: ReplicaSetup<unknown>, opt: AdamW, cfg: TrainConfig, now: RunFingerprint, force: boolean): LoopState {
  const { resume, data, model } = setup;
  const st = resume?.state;
  const fresh = { step: 0, bestValLoss: null, evalsWithoutImprovement: 0, tokensSeen: 0, elapsedMs: 0 };
  if (!resume) return fresh;
  if (!st) {
    if (force) return fresh;
    throw new TrainError('CHECKPOINT_INVALID', 'the checkpoint to resume has no trainer_state.json, so the step, data position and schedule are unknown; restore it, or pass `force: true` to start over from its weights.');
  }
  if (st.step > cfg.maxIters) throw new TrainError('CONFIG_INVALID', `the checkpoint is at step ${st.step}, beyond maxIters ${cfg.maxIters}: raise maxIters to continue it (it counts the steps before the resume too).`);
  const mismatch: string[] = [];
  if (st.tokenizerHash && setup.tokenizerHash && st.tokenizerHash !== setup.tokenizerHash) mismatch.push(`another tokenizer (${st.tokenizerHash} → ${setup.tokenizerHash})`);
  const modelDiff = st.fingerprint ? differences(st.fingerprint.model, now.model) : [];
  if (modelDiff.length) mismatch.push(`another model (${modelDiff.join(', ')})`);
  const dataDiff = st.fingerprint ? dataDifferences(st.fingerprint.data, now.data) : [];
  if (dataDiff.length) mismatch.push(`other data (${dataDiff.join('; ')})`);
  if (mismatch.length && !force) throw new TrainError('CHECKPOINT_MISMATCH', `resume: the checkpoint was trained with ${mismatch.join(' and ')}; this run has the right side. Resume with what it was trained on, or pass \`force: true\` to continue anyway.`);
  if (!resume.optimizerState) throw new TrainError('CHECKPOINT_INVALID', 'the checkpoint has a trainer state but no optimizer.safetensors: it cannot be resumed exactly.');
  opt.loadState(resume.optimizerState, resume.optimizerStep);
  if (dataDiff.length === 0) {
    data.train.setState(st.data.train);
    if (data.val && st.data.val !== null && st.data.val !== undefined) data.val.setState(st.data.val);
    if (data.trainEval && st.data.trainEval !== null && st.data.trainEval !== undefined) data.trainEval.setState(st.data.trainEval);
  }
  model.setDropoutState(st.dropout);
  return { step: st.step, bestValLoss: st.bestValLoss, evalsWithoutImprovement: st.evalsWithoutImprovement, tokensSeen: st.tokensSeen, elapsedMs: st.elapsedMs };
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

