/**
 * Data-parallel training over worker threads: N replicas (default one per core), each with its own
 * tfjs backend, each computing the gradient of its share of every step's batch; the gradients are
 * summed through a SharedArrayBuffer (no tensors cross threads) and every replica applies the same
 * AdamW update, so the replicas stay bit-identical. The result is the update one process makes
 * with gradAccumSteps × workers micro-batches — same batches, same checkpoints, exact resume.
 *
 * Functions cannot be posted to a thread, so each worker builds its replica itself from a *setup
 * module*: an ES module exporting `setup(args, { rank, workers })` that returns what train() takes
 * ({ model, data, objective?, teacher?, resume?, tokenizer?, tokenizerHash? }). `args` is plain JSON.
 *
 *   // my-setup.mjs
 *   export async function setup(args, { rank }) {
 *     const shard = await TokenShard.open(args.shard);
 *     const { train } = splitTokens(shard, 0.1);
 *     return { model: new TransformerLM(args.model), data: { train: new WindowSampler(train, { batchSize: 6, blockSize: 64, seed: 1 }) } };
 *   }
 *   // main
 *   await trainParallel({ setup: 'my-setup.mjs', args: { shard, model }, workers: 2, config: { maxIters: 2000, outDir: 'out' } });
 *
 * Every rank must build the same model and the same training source (same seed): rank r uses
 * micro-batches r·A … r·A+A−1 of each step's N·A. Rank 0 evaluates and writes metrics.jsonl,
 * loss.svg, checkpoint/ and best/ exactly as train() does. A worker that throws, crashes or exits
 * ends the run with a TrainError (its own code for a TrainError it threw, else WORKER_FAILED);
 * the last checkpoint stays as it was (saves are atomic).
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { TrainError, type TrainErrorCode } from '../errors.js';
import { resolveTrainConfig, type TrainConfigInput } from '../loop/config.js';
import type { StepInfo, EvalInfo, TrainResult } from '../loop/train.js';
import type { ReplicaMessage, StepPhases } from './replica.js';
import type { WorkerInit } from './worker.js';
import { MAX_WORKERS, STOP_ABORT, abortAll, makeLayout, requestStop } from './shared.js';

export interface TrainParallelOptions {
  /** The setup module (path or file: URL): exports `setup(args, ctx)` (or a default function) → ReplicaSetup. */
  setup: string | URL;
  /** Arguments of the setup function (structured-cloneable: plain JSON is safest). */
  args?: unknown;
  /** Replicas (worker threads). Default os.availableParallelism(). */
  workers?: number;
  /** The training config, as train()'s. The global batch is workers × gradAccumSteps micro-batches. */
  config: TrainConfigInput;
  onStep?: (s: StepInfo) => void;
  onEval?: (e: EvalInfo) => void;
  /** Abort → every replica stops at the next step, rank 0 saves out/checkpoint; stoppedBy 'abort'. */
  signal?: AbortSignal;
  /** As train()'s `force`. */
  force?: boolean;
  /** Compare the replicas' weight checksums every n steps (0 = never; tests and debugging). A mismatch is WORKER_FAILED. */
  verifyEvery?: number;
  /** Called with each replica's per-step phase times (compute, wait, reduce, update) — for benchmarks; off when absent. */
  onPhases?: (p: StepPhases) => void;
  /** Backend of each worker (default 'wasm'). */
  backend?: WorkerInit['backend'];
  /** The worker entry (default dist/parallel-worker.js beside this build); tests point it at a fresh bundle. */
  workerEntry?: string | URL;
}

export interface TrainParallelResult extends TrainResult {
  workers: number;
  /** Tensors each replica left alive after its loop beyond what it held before (0 = no leak). */
  leakedTensors: number[];
}

/** The worker entry beside this module's build (dist/index.js or dist/index.cjs → dist/parallel-worker.js). */
function defaultWorkerEntry(): URL {
  return new URL('./parallel-worker.js', import.meta.url); // tsup's shims give the CJS build an import.meta.url
}

const toUrl = (p: string | URL): URL => (p instanceof URL ? p : /^file:/.test(p) ? new URL(p) : pathToFileURL(isAbsolute(p) ? p : resolve(p)));

/** Train with `workers` data-parallel replicas; resolves when every replica has finished. */
export async function trainParallel(opts: TrainParallelOptions): Promise<TrainParallelResult> {
  const config = resolveTrainConfig(opts.config);
  const workers = opts.workers ?? availableParallelism();
  if (!Number.isInteger(workers) || workers < 1 || workers > MAX_WORKERS) throw new TrainError('CONFIG_INVALID', `workers must be an integer in [1, ${MAX_WORKERS}], got ${JSON.stringify(workers)}.`);
  const verifyEvery = opts.verifyEvery ?? 0;
  if (!Number.isInteger(verifyEvery) || verifyEvery < 0) throw new TrainError('CONFIG_INVALID', `verifyEvery must be an integer ≥ 0, got ${JSON.stringify(verifyEvery)}.`);
  const entry = toUrl(opts.workerEntry ?? defaultWorkerEntry());
  if (!existsSync(fileURLToPath(entry))) throw new TrainError('INVALID_ARGUMENT', `the data-parallel worker entry ${fileURLToPath(entry)} does not exist: build @llm/train (npx tsup in packages/train) so dist/parallel-worker.js is there.`);
  const setup = toUrl(opts.setup);
  if (!existsSync(fileURLToPath(setup))) throw new TrainError('DATA_MISSING', `the setup module ${fileURLToPath(setup)} does not exist (trainParallel's \`setup\`: an ES module exporting setup(args, { rank, workers })).`);

  return new Promise<TrainParallelResult>((resolvePromise, reject) => {
    const threads: Worker[] = [];
    const ready: Array<{ names: string[]; shapes: number[][] } | null> = Array.from({ length: workers }, () => null);
    const done: boolean[] = Array.from({ length: workers }, () => false);
    const leaked: number[] = Array.from({ length: workers }, () => 0);
    let result: TrainResult | null = null;
    let sab: SharedArrayBuffer | null = null;
    let settled = false;
    let lastStep = 0;
    const onAbort = () => {
      if (sab) requestStop(sab, STOP_ABORT);
    };
    const finish = (err: Error | null) => {
      if (settled) return;
      settled = true;
      opts.signal?.removeEventListener('abort', onAbort);
      if (err && sab) abortAll(sab); // wake every replica waiting at a barrier: it exits
      void Promise.all(threads.map((t) => t.terminate())).finally(() => {
        if (err) reject(err);
        else resolvePromise({ ...result!, workers, leakedTensors: leaked });
      });
    };
    const failed = (rank: number, what: string, cause?: unknown) =>
      finish(new TrainError('WORKER_FAILED', `data-parallel worker ${rank} of ${workers} ${what} (after step ${lastStep}); the run stopped${config.outDir ? `, and the last checkpoint in ${config.outDir} is intact: resume from it` : ' (no outDir: nothing was saved)'}.`, cause ? { cause } : undefined));
    const start = () => {
      const [first] = ready;
      const want = JSON.stringify(first);
      const other = ready.findIndex((r) => JSON.stringify(r) !== want);
      if (other > 0) return finish(new TrainError('WORKER_FAILED', `data-parallel worker ${other} built another model than worker 0 (trainable weights ${ready[other]!.names.length} vs ${first!.names.length}, or other shapes): the setup module must build the same model on every rank.`));
      const sizes = first!.shapes.map((s) => s.reduce((a, b) => a * b, 1));
      const layout = makeLayout(workers, sizes);
      sab = new SharedArrayBuffer(layout.bytes);
      if (opts.signal?.aborted) requestStop(sab, STOP_ABORT);
      for (const t of threads) t.postMessage({ type: 'start', sab, sizes });
    };
    opts.signal?.addEventListener('abort', onAbort);
    for (let rank = 0; rank < workers; rank++) {
      const init: WorkerInit = { rank, workers, config, force: opts.force === true, verifyEvery, profile: opts.onPhases !== undefined, setup: setup.href, args: opts.args ?? null, backend: opts.backend ?? 'wasm' };
      let t: Worker;
      try {
        t = new Worker(entry, { workerData: init });
      } catch (e) {
        return failed(rank, `could not be started: ${(e as Error).message}`, e);
      }
      threads.push(t);
      t.on('message', (m: ReplicaMessage) => {
        if (settled) return;
        try {
          handle(m);
        } catch (e) {
          finish(e as Error); // a throwing onStep / onEval ends the run, as in train()
        }
      });
      const handle = (m: ReplicaMessage) => {
        switch (m.type) {
          case 'ready':
            ready[m.rank] = { names: m.names, shapes: m.shapes };
            if (ready.every((r) => r !== null)) start();
            break;
          case 'step':
            lastStep = m.info.step;
            opts.onStep?.(m.info);
            break;
          case 'eval':
            opts.onEval?.(m.info);
            break;
          case 'phases':
            opts.onPhases?.(m.phases);
            break;
          case 'done':
            done[m.rank] = true;
            leaked[m.rank] = m.leakedTensors;
            if (m.rank === 0) result = m.result;
            if (done.every(Boolean)) finish(null);
            break;
          case 'error':
            if (m.name === 'TrainError' && m.code) finish(new TrainError(m.code as TrainErrorCode, workers > 1 ? `${m.message} (data-parallel worker ${m.rank})` : m.message));
            else failed(m.rank, `failed: ${m.name}: ${m.message}${m.stack ? `\n${m.stack.split('\n').slice(1, 4).join('\n')}` : ''}`);
            break;
        }
      };
      t.on('error', (e) => failed(rank, `crashed: ${e.message}`, e));
      t.on('exit', (code) => {
        if (!done[rank]) failed(rank, `exited with code ${code} before the run ended`);
      });
    }
  });
}
