/**
 * Runs train() for a command: progress bar or log lines, SIGINT/SIGTERM → save a checkpoint and
 * stop cleanly, an optional wall-clock limit, and a closing summary.
 *
 *   const result = await runTraining(model, data, trainConfig, { tok, log });
 */
import { join } from 'node:path';
import { tf } from '@llm/tensor-gpu';
import type { TransformerLM } from '@llm/transformer';
import { train, trainParallel, TrainError, type StepInfo, type TrainableModel, type TrainData, type TrainConfigInput, type TrainResult, type LoadedCheckpoint, type ResolvedTokenizer, type Objective, type EvalInfo, type HostBatch } from '@llm/train';
import { createProgress } from './progress.js';
import { CliError } from './options.js';
import { parallelSetupPath } from './workers.js';

export interface RunOptions {
  tok: ResolvedTokenizer;
  resumed: LoadedCheckpoint<TrainableModel> | null;
  log: (line: string) => void;
  /** Stop (saving a checkpoint) after this many milliseconds. */
  maxMs?: number;
  /** Knowledge-distillation teacher. */
  teacher?: TransformerLM;
  /** The command that continues a stopped run, e.g. `npm start -- --resume`. */
  resumeHint?: string;
  /** Force plain log lines (default: a bar when stderr is a TTY). */
  tty?: boolean;
  /** --force: replace a run in the output folder, or resume despite a model/data/tokenizer mismatch (train's `force`). */
  force?: boolean;
  /** The loss (train's `objective`: DPO, a reward model … from @llm/align); default next-token cross-entropy. */
  objective?: Objective<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** Called after each evaluation (after the progress note). */
  onEval?: (e: EvalInfo) => void;
}

/** The eval metrics shown in an objective run's progress notes, when the objective logs them. */
const NOTED = ['eval_rewards/accuracies', 'eval_rewards/margins', 'eval_accuracy', 'eval_f1', 'eval_mse', 'eval_kl'];

function evalNote(e: EvalInfo, objective: boolean): string {
  if (!objective) return `eval @ step ${e.step}: ${e.trainLoss !== null ? `train ${e.trainLoss.toFixed(4)} · ` : ''}val ${e.valLoss?.toFixed(4) ?? '-'}${e.valLoss !== null ? ` (ppl ${Math.exp(e.valLoss).toFixed(2)})` : ''}${e.best ? ' · best' : ''}`;
  const shown = NOTED.filter((k) => typeof e.metrics[k] === 'number').map((k) => `${k.slice(5)} ${e.metrics[k]!.toFixed(4)}`);
  return `eval @ step ${e.step}: val loss ${e.valLoss?.toFixed(4) ?? '-'}${shown.length ? ` · ${shown.join(' · ')}` : ''}${e.best ? ' · best' : ''}`;
}

/**
 * A --resume needs a trainer state: without one the step, data position and schedule are unknown
 * and a step-0 run would overwrite the checkpoint. Refused before any work unless --force (then the
 * run starts over from the checkpoint's weights).
 */
export function requireResumable(resumed: LoadedCheckpoint<TrainableModel> | null, force: boolean): void {
  if (!resumed || resumed.state || force) return;
  throw new CliError(`--resume: ${resumed.dir} has no trainer_state.json, so it cannot be resumed (its step, data position and schedule are unknown); restore it, or add --force to start over from its weights`, 1);
}

export async function runTraining<B = HostBatch>(model: TrainableModel, data: TrainData<B>, cfg: TrainConfigInput, o: RunOptions): Promise<TrainResult> {
  return supervise(cfg, o, (hooks) =>
    train(model, data, cfg, {
      ...hooks,
      tokenizer: o.tok.definition,
      tokenizerHash: o.tok.hash,
      ...(o.resumed ? { resume: o.resumed } : {}),
      ...(o.teacher ? { teacher: o.teacher } : {}),
      ...(o.force ? { force: true } : {}),
      ...(o.objective ? { objective: o.objective } : {}),
    }),
  );
}

/** The JSON a worker's setup (parallel-setup.ts) receives. */
export type ParallelArgs = Omit<ParallelRun, 'workers'>;

/** What a data-parallel run's workers rebuild (src/parallel-setup.ts): the command and its resolved options. */
export interface ParallelRun {
  command: 'pretrain' | 'sft';
  /** Plain JSON (symbols and undefined dropped). */
  options: Record<string, unknown>;
  workers: number;
  /** Each worker's training micro-batch (splitBatch; eval batches keep --batch-size). */
  trainBatchSize: number;
}

/**
 * runTraining with `workers` data-parallel replicas (trainParallel): each worker thread builds the
 * run from dist/parallel-setup.js; this thread builds no model and keeps the progress, signals and
 * time limit. `cfg.gradAccumSteps` is each replica's (see splitBatch).
 */
export async function runParallelTraining(run: ParallelRun, cfg: TrainConfigInput, o: Omit<RunOptions, 'teacher' | 'objective'>): Promise<TrainResult> {
  const setup = parallelSetupPath();
  if (setup === null) throw new CliError('--workers: the worker setup module (dist/parallel-setup.js) is not built: run `npx tsup` in apps/trainer', 1);
  const args: ParallelArgs = { command: run.command, options: JSON.parse(JSON.stringify(run.options)) as Record<string, unknown>, trainBatchSize: run.trainBatchSize };
  try {
    return await supervise(cfg, o, (hooks) => trainParallel({ setup, args, workers: run.workers, config: cfg, ...hooks, ...(o.force ? { force: true } : {}) }));
  } catch (e) {
    // a worker's TrainError arrives as one; a worker's CliError (a bad option found while building) as WORKER_FAILED
    if (e instanceof TrainError && e.code === 'WORKER_FAILED') throw new CliError(process.env.LLM_DEBUG ? e.message : e.message.split('\n')[0]!, 1); // one line: the worker's stack only with LLM_DEBUG
    throw e;
  }
}

type Hooks = { signal: AbortSignal; onStep: (s: StepInfo) => void; onEval: (e: EvalInfo) => void };

/** The progress bar, SIGINT/SIGTERM → abort (a checkpoint is saved), the time limit and the closing summary around one training call. */
async function supervise(cfg: TrainConfigInput, o: Omit<RunOptions, 'teacher'>, run: (hooks: Hooks) => Promise<TrainResult>): Promise<TrainResult> {
  const ctl = new AbortController();
  let why = '';
  const onSignal = (sig: string) => {
    why = `${sig} received`;
    ctl.abort();
  };
  const sigint = () => onSignal('SIGINT');
  const sigterm = () => onSignal('SIGTERM');
  process.on('SIGINT', sigint);
  process.on('SIGTERM', sigterm);
  const timer = o.maxMs ? setTimeout(() => ((why = `time limit of ${Math.round(o.maxMs! / 1000)} s reached`), ctl.abort()), o.maxMs) : null;
  const startStep = o.resumed?.state?.step ?? 0;
  const progress = createProgress(cfg.maxIters, { tty: o.tty ?? Boolean(process.stderr.isTTY), every: cfg.logInterval ?? 10, startStep, ...(o.maxMs ? { budgetMs: o.maxMs } : {}) });
  let result: TrainResult;
  try {
    result = await run({
      signal: ctl.signal,
      onStep: (s) => progress.step(s),
      onEval: (e) => {
        progress.note(evalNote(e, o.objective !== undefined));
        o.onEval?.(e);
      },
    });
  } finally {
    progress.stop();
    process.off('SIGINT', sigint);
    process.off('SIGTERM', sigterm);
    if (timer) clearTimeout(timer);
    if (o.resumed?.optimizerState) tf.dispose([...o.resumed.optimizerState.values()]);
  }
  const out = cfg.outDir;
  const secs = (result.elapsedMs / 1000).toFixed(1);
  if (result.stoppedBy === 'abort') {
    o.log(`stopped at step ${result.steps} (${why}); checkpoint saved to ${join(out ?? '.', 'checkpoint')} — continue with ${o.resumeHint ?? '--resume'}`);
  } else {
    o.log(`done: ${result.steps} steps in ${secs} s (${result.stoppedBy === 'early_stop' ? 'early stop' : 'max iters'}) · last val ${result.lastValLoss?.toFixed(4) ?? '-'} · best val ${result.bestValLoss?.toFixed(4) ?? '-'}`);
  }
  if (out) o.log(`wrote ${join(out, 'checkpoint')}, ${join(out, 'best')}, ${join(out, 'metrics.jsonl')}, ${join(out, 'loss.svg')}`);
  return result;
}
