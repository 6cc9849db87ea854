/**
 * The record of a run, shared by train() and rank 0 of a data-parallel run: it counts the updates,
 * reports each step (onStep, metrics.jsonl every logInterval), evaluates at step 0, every
 * evalInterval and at the end (onEval, eval lines, loss.svg, best/ on a better val loss), saves
 * checkpoint/ after each evaluation, decides early stop and makes the result.
 *
 *   const rec = await RunRecorder.open({ model, data, cfg, started, onStep, onEval });
 *   await rec.evaluateAtStart();
 *   while (rec.step < cfg.maxIters) {
 *     …one update…
 *     rec.completeStep(loss, tokens, lr);
 *     if (await rec.afterStep({ loss, metrics, lr, gradNorm, tokens, startedAt })) break; // early stop
 *   }
 *   return rec.result('max_iters');
 */
import { join } from 'node:path';
import type { TokenizerDefinition } from '@llm/tokenizer-bpe';
import { TrainError } from '../errors.js';
import { saveTrainingCheckpoint, type TrainerState } from '../checkpoint/checkpoint.js';
import { MetricsLog } from '../metrics/log.js';
import type { TrainConfig } from './config.js';
import type { TrainableModel } from './model.js';
import type { Objective } from './objective.js';
import type { TrainData, StepInfo, EvalInfo, TrainResult } from './train.js';
import type { LoopState, StartedRun } from './start.js';
import { evaluateObjective } from './evaluate.js';
import { learningRate } from './lr.js';
import { writeLossPlot } from './loss-plot.js';

export interface RecorderOptions {
  model: TrainableModel;
  data: TrainData<unknown>;
  cfg: TrainConfig;
  /** What startRun returned: the optimizer (saved in checkpoints), the restored state and the fingerprint. */
  started: StartedRun;
  /** Whether the run continues a checkpoint's trainer state (metrics.jsonl keeps its lines up to the step). */
  resumed: boolean;
  /** false: write nothing (no metrics.jsonl; a data-parallel rank other than 0). Default true. */
  writes?: boolean;
  objective?: Objective<unknown> | undefined;
  tokenizer?: TokenizerDefinition | undefined;
  tokenizerHash?: string | undefined;
  onStep?: ((s: StepInfo) => void) | undefined;
  onEval?: ((e: EvalInfo) => void) | undefined;
  /** The train source's position a checkpoint records (default its position now). */
  trainPosition?: () => unknown;
  /** The dropout state a checkpoint records (default the model's now). */
  dropoutState?: () => number;
}

/** What one step reports (besides the counters the recorder keeps). */
export interface StepReport {
  loss: number;
  metrics: Record<string, number>;
  lr: number;
  gradNorm: number;
  /** Tokens of the step's micro-batches. */
  tokens: number;
  /** performance.now() when the step began. */
  startedAt: number;
}

export class RunRecorder {
  lastLoss: number | null = null;
  lastValLoss: number | null = null;
  private readonly state: LoopState;
  private readonly t0: number;
  private evaluatedAt = -1;

  private constructor(
    private readonly o: RecorderOptions,
    private readonly log: MetricsLog | null,
  ) {
    this.state = o.started.state;
    this.t0 = performance.now() - this.state.elapsedMs;
  }

  static async open(o: RecorderOptions): Promise<RunRecorder> {
    const { cfg, started } = o;
    const log = o.writes !== false && cfg.outDir ? await MetricsLog.open(join(cfg.outDir, 'metrics.jsonl'), o.resumed ? { resumeAt: started.state.step } : {}) : null;
    return new RunRecorder(o, log);
  }

  /** Updates done (counting those before a resume). */
  get step(): number {
    return this.state.step;
  }

  /** Count a finished update; a loss that is not finite ends the run. */
  completeStep(loss: number, tokens: number, lr: number): void {
    const s = this.state;
    if (!Number.isFinite(loss)) throw new TrainError('INVALID_ARGUMENT', `loss became ${loss} at step ${s.step + 1} (lr ${lr.toExponential(2)}): lower the learning rate or enable gradient clipping.`);
    s.step++;
    s.tokensSeen += tokens;
    this.lastLoss = loss;
  }

  /** Evaluate a fresh run before its first update (when it evaluates at all). */
  async evaluateAtStart(): Promise<void> {
    if (this.state.step === 0 && this.o.cfg.evalInterval > 0) await this.evaluate();
  }

  /** Report the step just counted; at an eval step or the last, evaluate and save. Resolves true when early stop is due. */
  async afterStep(r: StepReport): Promise<boolean> {
    const { cfg } = this.o;
    const s = this.state;
    const info: StepInfo = { step: s.step, maxIters: cfg.maxIters, loss: r.loss, metrics: r.metrics, lr: r.lr, gradNorm: r.gradNorm, tokensPerSec: (r.tokens * 1000) / (performance.now() - r.startedAt), elapsedMs: performance.now() - this.t0 };
    this.o.onStep?.(info);
    if (s.step % cfg.logInterval === 0) {
      await this.log?.append({ step: s.step, loss: r.loss, val_loss: null, lr: r.lr, grad_norm: r.gradNorm, tokens_per_sec: Math.round(info.tokensPerSec), elapsed_ms: Math.round(info.elapsedMs), ...r.metrics });
    }
    const evalDue = cfg.evalInterval > 0 && s.step % cfg.evalInterval === 0;
    if (!evalDue && s.step !== cfg.maxIters) return false;
    await this.evaluate();
    await this.saveLatest();
    return cfg.earlyStopPatience > 0 && s.evalsWithoutImprovement >= cfg.earlyStopPatience;
  }

  /** A stopped run (Ctrl-C, a time limit) ends like a finished one: evaluated, plotted, best/ and checkpoint/ current. */
  async finishStopped(): Promise<void> {
    if (this.o.cfg.evalInterval > 0 && this.evaluatedAt !== this.state.step) await this.evaluate();
    await this.saveLatest();
  }

  result(stoppedBy: TrainResult['stoppedBy']): TrainResult {
    const s = this.state;
    return { steps: s.step, stoppedBy, bestValLoss: s.bestValLoss, lastValLoss: this.lastValLoss, lastLoss: this.lastLoss, elapsedMs: performance.now() - this.t0, tokensSeen: s.tokensSeen };
  }

  private async evaluate(): Promise<void> {
    const { model, data, cfg, objective, tokenizer } = this.o;
    const s = this.state;
    this.evaluatedAt = s.step;
    const val = data.val ? evaluateObjective(model, data.val, cfg.evalIters, objective) : null;
    const valLoss = val?.loss ?? null;
    const valMetrics = Object.fromEntries(Object.entries(val?.metrics ?? {}).map(([k, v]) => [`eval_${k}`, v]));
    const trainLoss = cfg.evalTrain && data.trainEval ? evaluateObjective(model, data.trainEval, cfg.evalIters, objective).loss : null;
    this.lastValLoss = valLoss;
    const best = valLoss !== null && (s.bestValLoss === null || valLoss < s.bestValLoss);
    if (best) {
      s.bestValLoss = valLoss;
      s.evalsWithoutImprovement = 0;
      if (cfg.outDir && cfg.saveBest) await saveTrainingCheckpoint(join(cfg.outDir, 'best'), { model, ...(tokenizer ? { tokenizer } : {}) });
    } else if (valLoss !== null) {
      s.evalsWithoutImprovement++;
    }
    this.o.onEval?.({ step: s.step, valLoss, trainLoss, best, metrics: valMetrics });
    await this.log?.append({ step: s.step, loss: null, val_loss: valLoss, val_ppl: valLoss === null || objective ? null : Math.exp(valLoss), train_eval_loss: trainLoss, lr: learningRate(cfg, s.step), grad_norm: null, tokens_per_sec: null, elapsed_ms: Math.round(performance.now() - this.t0), ...valMetrics });
    if (cfg.outDir) await writeLossPlot(cfg.outDir);
  }

  private async saveLatest(): Promise<void> {
    const { model, cfg, started, tokenizer } = this.o;
    if (cfg.outDir) await saveTrainingCheckpoint(join(cfg.outDir, 'checkpoint'), { model, optimizer: started.opt, state: this.snapshot(), ...(tokenizer ? { tokenizer } : {}) });
  }

  /** The trainer state a checkpoint holds (exact resume). */
  private snapshot(): TrainerState {
    const { model, data, cfg, started, tokenizerHash } = this.o;
    const s = this.state;
    return {
      format: 'llm-ts-trainer-state',
      version: 1,
      step: s.step,
      bestValLoss: s.bestValLoss,
      evalsWithoutImprovement: s.evalsWithoutImprovement,
      data: { train: this.o.trainPosition ? this.o.trainPosition() : data.train.getState(), val: data.val?.getState() ?? null, trainEval: data.trainEval?.getState() ?? null },
      dropout: this.o.dropoutState ? this.o.dropoutState() : model.getDropoutState(),
      tokensSeen: s.tokensSeen,
      elapsedMs: performance.now() - this.t0,
      config: cfg as unknown as Record<string, unknown>,
      ...(tokenizerHash ? { tokenizerHash } : {}),
      fingerprint: started.fingerprint,
    };
  }
}
