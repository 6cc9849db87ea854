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
 *
 * Its parts, shared with the data-parallel replicas (parallel/replica.ts): start.ts (checks, AdamW,
 * resume), gradients.ts (micro-batch accumulation), update.ts (clip + AdamW), recorder.ts (step
 * reports, evaluation, metrics.jsonl, checkpoints, early stop, the result).
 */
import type { CausalLM } from '@llm/transformer';
import type { TokenizerDefinition } from '@llm/tokenizer-bpe';
import type { TrainableModel } from './model.js';
import { resolveTrainConfig, type TrainConfigInput } from './config.js';
import type { BatchSource, HostBatch } from '../data/batches.js';
import type { LoadedCheckpoint } from '../checkpoint/checkpoint.js';
import type { Objective } from './objective.js';
import { startRun } from './start.js';
import { RunRecorder } from './recorder.js';
import { accumulateGradients, microBatches } from './gradients.js';
import { applyUpdate } from './update.js';
import { learningRate } from './lr.js';

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
  const started = await startRun(model, data, cfg, { resume: hooks.resume, tokenizerHash: hooks.tokenizerHash, force: hooks.force });
  const { params, opt } = started;
  let stoppedBy: TrainResult['stoppedBy'] = 'max_iters';
  try {
    const rec = await RunRecorder.open({ model, data, cfg, started, resumed: Boolean(hooks.resume?.state), objective: hooks.objective, tokenizer: hooks.tokenizer, tokenizerHash: hooks.tokenizerHash, onStep: hooks.onStep, onEval: hooks.onEval });
    await rec.evaluateAtStart();
    while (rec.step < cfg.maxIters) {
      if (hooks.signal?.aborted) {
        stoppedBy = 'abort';
        break;
      }
      const lr = learningRate(cfg, rec.step);
      const startedAt = performance.now();
      const { grads, loss, tokens, metrics } = accumulateGradients(model, params, microBatches(data.train, cfg.gradAccumSteps), cfg.gradAccumSteps, cfg, hooks.teacher, hooks.objective);
      const gradNorm = applyUpdate(grads, opt, lr, cfg.gradClip);
      rec.completeStep(loss, tokens, lr);
      if (await rec.afterStep({ loss, metrics, lr, gradNorm, tokens, startedAt })) {
        stoppedBy = 'early_stop';
        break;
      }
      await new Promise<void>((r) => setImmediate(r)); // let signal handlers run
    }
    if (stoppedBy === 'abort') await rec.finishStopped();
    return rec.result(stoppedBy);
  } finally {
    opt.dispose();
  }
}
