/**
 * `--workers <n|auto>`: how many data-parallel replicas (worker threads, @llm/train's trainParallel)
 * train a `pretrain` / `sft` run. 1 = today's in-process train(). `auto` (the default) picks, in one
 * place (autoWorkers), the largest n ≤ the cores that divides the step's sequences — but 1 when the
 * run is too small for threads to pay for their start-up and synchronization.
 *
 *   autoWorkers({ params: 8e5, batchSize: 12, gradAccum: 1, blockSize: 64, iters: 2000, cores: 2 }); // { workers: 2, why: … }
 *   splitBatch(12, 1, 2);   // { batchSize: 6, gradAccum: 1 }: each replica's micro-batch and accumulation
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { CliError, type OptSpec } from './options.js';

/** trainParallel's limit. */
export const MAX_WORKERS = 48;

export const WORKERS_OPTION: OptSpec = {
  name: 'workers', flag: 'workers', kind: 'count', min: 1, max: MAX_WORKERS, def: 'auto',
  help: 'data-parallel worker threads (1 = in-process); "auto": the most cores that divide batch-size × grad-accum when a step is ≥ 2 GFLOP and the run ≥ 200 GFLOP, else 1',
};

/**
 * Below this many training FLOPs per optimizer step (≈ 6 · params · tokens per step), `auto` trains
 * in-process: a step this small is dominated by dispatch and the barrier, not by compute. The nanoGPT
 * CPU config (0.8M params, 12 × 64 tokens: 3.7 GFLOP) is above it; the tests' tiny models are far below.
 */
export const AUTO_MIN_STEP_FLOPS = 2e9;
/** Below this many FLOPs for the whole (remaining) run, `auto` trains in-process: starting N workers (a backend and a model each) costs seconds. */
export const AUTO_MIN_RUN_FLOPS = 2e11;

export interface AutoInput {
  /** Trainable + frozen parameters of the model (the forward cost). */
  params: number;
  batchSize: number;
  gradAccum: number;
  /** Tokens per sequence. */
  blockSize: number;
  /** Optimizer steps still to run. */
  iters: number;
  /** Default os.availableParallelism(). */
  cores?: number;
}

/** The `auto` rule (documented in the README; the benchmark calibrates the two thresholds). */
export function autoWorkers(a: AutoInput): { workers: number; why: string } {
  const cores = Math.min(a.cores ?? availableParallelism(), MAX_WORKERS);
  const sequences = a.batchSize * a.gradAccum;
  const stepFlops = 6 * a.params * sequences * a.blockSize;
  if (cores < 2) return { workers: 1, why: 'one core' };
  if (stepFlops < AUTO_MIN_STEP_FLOPS) return { workers: 1, why: `a small step (${(stepFlops / 1e9).toFixed(2)} GFLOP < ${AUTO_MIN_STEP_FLOPS / 1e9})` };
  if (stepFlops * a.iters < AUTO_MIN_RUN_FLOPS) return { workers: 1, why: `a short run (${((stepFlops * a.iters) / 1e9).toFixed(0)} GFLOP < ${AUTO_MIN_RUN_FLOPS / 1e9})` };
  let n = cores;
  while (n > 1 && sequences % n !== 0) n--;
  return n > 1 ? { workers: n, why: `${n} of ${cores} cores` } : { workers: 1, why: `no core count ≤ ${cores} divides the ${sequences} sequences of a step` };
}

/**
 * Each replica's micro-batch and accumulation steps so that `workers` replicas draw, each step, the
 * very sequences one process with batchSize × gradAccum draws (trainParallel: the step's workers ×
 * gradAccum micro-batches, rank r keeping r·A … r·A+A−1). Prefers whole micro-batches (workers
 * divides gradAccum), then splits the micro-batch. Throws CliError when workers does not divide
 * batchSize × gradAccum.
 */
export function splitBatch(batchSize: number, gradAccum: number, workers: number): { batchSize: number; gradAccum: number } {
  const sequences = batchSize * gradAccum;
  if (sequences % workers !== 0) {
    throw new CliError(`--workers ${workers} must divide the sequences of a step (--batch-size ${batchSize} × --grad-accum ${gradAccum} = ${sequences}): choose a divisor of ${sequences}, or auto`);
  }
  if (gradAccum % workers === 0) return { batchSize, gradAccum: gradAccum / workers };
  const perWorker = sequences / workers;
  const b = gcd(batchSize, perWorker);
  return { batchSize: b, gradAccum: perWorker / b };
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/**
 * The count to train with: the option (an integer or 'auto') resolved against the run. `explicit`
 * counts are kept (checked: they divide the step); 'auto' follows autoWorkers, and falls back to 1
 * when the worker setup module is not built (running from source).
 */
export function resolveWorkers(option: unknown, run: Omit<AutoInput, 'cores'>, log: (s: string) => void): number {
  if (option === undefined || option === 'auto') {
    const { workers, why } = autoWorkers(run);
    if (workers > 1 && parallelSetupPath() === null) return 1; // from source (tests): no worker bundle to start
    if (workers > 1) log(`workers: ${workers} data-parallel replicas (auto: ${why})`);
    return workers;
  }
  const n = option as number;
  if (n > 1) {
    splitBatch(run.batchSize, run.gradAccum, n);
    if (parallelSetupPath() === null) throw new CliError(`--workers ${n}: the worker setup module (dist/parallel-setup.js) is not built: run \`npx tsup\` in apps/trainer`, 1);
    log(`workers: ${n} data-parallel replicas`);
  }
  return n;
}

/** dist/parallel-setup.js beside this build, or null when it does not exist (e.g. under vitest, from source). */
export function parallelSetupPath(): string | null {
  const p = fileURLToPath(new URL('./parallel-setup.js', import.meta.url));
  return existsSync(p) ? p : null;
}

/** An explicit --workers n must divide the step's sequences (checked before any work; exit 2). */
export function checkWorkers(o: Record<string, unknown>): void {
  if (typeof o.workers === 'number' && o.workers > 1) splitBatch(o.batchSize as number, o.gradAccum as number, o.workers);
}
