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
 * Rank 0 alone evaluates, logs metrics.jsonl, writes loss.svg and checkpoints (train()'s own
 * start checks, gradient accumulation, update and RunRecorder, from loop/); the others go on
 * computing the next step's gradients and wait at the barrier.
 */
import { tf, hashSeed } from '@llm/tensor-gpu';
import type { CausalLM } from '@llm/transformer';
import type { TokenizerDefinition } from '@llm/tokenizer-bpe';
import { TrainError } from '../errors.js';
import type { AdamW } from '../optim/adamw.js';
import type { TrainConfig } from '../loop/config.js';
import type { TrainableModel } from '../loop/model.js';
import type { Objective } from '../loop/objective.js';
import type { TrainData, StepInfo, EvalInfo, TrainResult } from '../loop/train.js';
import { startRun } from '../loop/start.js';
import { RunRecorder } from '../loop/recorder.js';
import { accumulateGradients } from '../loop/gradients.js';
import { applyUpdate } from '../loop/update.js';
import { learningRate } from '../loop/lr.js';
import type { BatchSource, HostBatch } from '../data/batches.js';
import type { LoadedCheckpoint } from '../checkpoint/checkpoint.js';
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
  const { model } = setup;
  const data = setup.data as TrainData<unknown>;
  const objective = setup.objective as Objective<unknown> | undefined;
  const started = await startRun(model, data, cfg, { resume: setup.resume, tokenizerHash: setup.tokenizerHash, force: o.force, checkOutDir: lead });
  const { params, opt } = started;
  try {
    if (setup.resume?.optimizerState) tf.dispose([...setup.resume.optimizerState.values()]);
    post({ type: 'ready', rank, names: params.map(([n]) => n), shapes: params.map(([, v]) => v.shape) });
    const comm = await connect();
    broadcastState(comm, params, opt);
    const tensorsAtStart = tf.memory().numTensors;
    const dropoutBase = model.getDropoutState();
    let trainState = clone(data.train.getState()); // the position after the last completed update
    const rec = await RunRecorder.open({
      model,
      data,
      cfg,
      started,
      objective,
      tokenizer: setup.tokenizer,
      tokenizerHash: setup.tokenizerHash,
      resumed: Boolean(setup.resume?.state),
      writes: lead, // rank 0 alone evaluates, logs and saves
      onStep: (info) => post({ type: 'step', info }),
      onEval: (info) => post({ type: 'eval', info }),
      trainPosition: () => trainState, // the checkpoint records the position of the last completed update
      dropoutState: () => dropoutBase, // and the run's dropout state (reseeded per step and rank from it)
    });
    let stoppedBy: TrainResult['stoppedBy'] = 'max_iters';
    if (lead) await rec.evaluateAtStart();
    while (rec.step < cfg.maxIters) {
      const lr = learningRate(cfg, rec.step);
      const startedAt = performance.now();
      model.setDropoutState(hashSeed(dropoutBase, `dropout:${rec.step}:${rank}`));
      const metricNames = localGradients(model, data.train, comm, params, cfg, rank, N, setup.teacher, objective);
      const tComputed = performance.now();
      const stop = comm.barrier(); // every slot written; the stop decision is the same on every rank
      if (stop !== 0) {
        stoppedBy = stop === STOP_EARLY ? 'early_stop' : 'abort';
        break;
      }
      const tArrived = performance.now();
      comm.reduceChunk();
      // Stats and gradient presence are read before the second barrier: once a rank passes it, it may
      // start the next step and overwrite its stats and presence flags while a slower rank (rank 0
      // evaluating or saving) still reads. The reduced gradient itself is safe until the next step's
      // first barrier, which waits for every rank.
      const { loss, tokens, metrics } = comm.readStats(metricNames);
      const present = params.map((_, i) => comm.present(i));
      const tReduced = performance.now();
      comm.barrier(); // the reduced gradient is complete
      const tReady = performance.now();
      rec.completeStep(loss, tokens, lr); // a loss that is not finite throws here, on every rank alike (the same sum), before the update
      const gradNorm = applyUpdate(reducedGradients(comm, params, present), opt, lr, cfg.gradClip);
      if (o.profile) {
        const tDone = performance.now();
        post({ type: 'phases', phases: { rank, step: rec.step, computeMs: tComputed - startedAt, waitMs: tArrived - tComputed + (tReady - tReduced), reduceMs: tReduced - tArrived, updateMs: tDone - tReady } });
      }
      trainState = clone(data.train.getState());
      if (o.verifyEvery > 0 && rec.step % o.verifyEvery === 0) {
        const bad = comm.compareChecksums(checksum(params.map(([, v]) => v.dataSync() as Float32Array)));
        if (bad.length) throw new TrainError('WORKER_FAILED', `replicas diverged at step ${rec.step}: the weights of rank(s) ${bad.join(', ')} differ from rank 0's. Every replica must build the same model and apply the same update; check that the setup module builds the model deterministically and that nothing else writes its weights.`);
      }
      if (lead && (await rec.afterStep({ loss, metrics, lr, gradNorm, tokens, startedAt }))) comm.requestStop(STOP_EARLY);
    }
    if (lead && stoppedBy === 'abort') await rec.finishStopped();
    const leaked = tf.memory().numTensors - tensorsAtStart;
    const result = lead ? rec.result(stoppedBy) : null;
    post({ type: 'done', rank, result, leakedTensors: leaked });
    return result;
  } finally {
    opt.dispose();
  }
}

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

/** The step's N·A micro-batches, drawn in order: this rank's (r·A … r·A+A−1) yielded, the others released. */
function* rankMicroBatches(source: BatchSource<unknown>, rank: number, N: number, A: number, objective: Objective<unknown> | undefined): Generator<unknown> {
  for (let j = 0; j < N * A; j++) {
    const raw = source.next();
    if (Math.floor(j / A) === rank) yield raw;
    else objective?.release?.(raw); // another rank's micro-batch
  }
}

/** This rank's micro-batches of the step: gradients of loss/(N·A) into its slot; its loss, tokens and metric sums into its stats. Returns the metric names. */
function localGradients(model: TrainableModel, source: BatchSource<unknown>, comm: Comm, params: Array<[string, tf.Variable]>, cfg: TrainConfig, rank: number, N: number, teacher: CausalLM | undefined, objective: Objective<unknown> | undefined): string[] {
  const A = cfg.gradAccumSteps;
  const { grads, loss, tokens, metrics } = accumulateGradients(model, params, rankMicroBatches(source, rank, N, A, objective), N * A, cfg, teacher, objective);
  params.forEach(([n], i) => {
    const g = grads.get(n);
    comm.writeGradient(i, g ? (g.dataSync() as Float32Array) : null);
  });
  tf.dispose([...grads.values()]);
  comm.writeStats({ loss, tokens, metrics });
  return Object.keys(metrics);
}

/** The reduced gradient of every weight some rank has one for (`present`, read before the reduce barrier). */
function reducedGradients(comm: Comm, params: Array<[string, tf.Variable]>, present: boolean[]): Map<string, tf.Tensor> {
  const grads = new Map<string, tf.Tensor>();
  params.forEach(([n, v], i) => {
    if (present[i]) grads.set(n, tf.tensor(comm.reduced(i), v.shape, 'float32'));
  });
  return grads;
}
