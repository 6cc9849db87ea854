/**
 * The start of a run (train() and every data-parallel replica): refuse to overwrite a run already in
 * outDir, check that a resume continues what its checkpoint trained (model, data, tokenizer), create
 * AdamW and restore the step, data position, optimizer and dropout state.
 *
 *   const { params, opt, state, fingerprint } = await startRun(model, data, cfg, { resume, force });
 */
import { join } from 'node:path';
import type { tf } from '@llm/tensor-gpu';
import { TrainError } from '../errors.js';
import { AdamW } from '../optim/adamw.js';
import type { LoadedCheckpoint, RunFingerprint } from '../checkpoint/checkpoint.js';
import { resolveCheckpointDir } from '../checkpoint/atomic-dir.js';
import type { TrainConfig } from './config.js';
import type { TrainableModel } from './model.js';
import type { TrainData } from './train.js';
import { runFingerprint, differences, dataDifferences } from './fingerprint.js';

/** The counters a run carries across a resume. */
export interface LoopState {
  step: number;
  bestValLoss: number | null;
  evalsWithoutImprovement: number;
  tokensSeen: number;
  elapsedMs: number;
}

export interface StartOptions {
  /** Continue a run (the checkpoint's model must be the `model` given). */
  resume?: Pick<LoadedCheckpoint, 'optimizerState' | 'optimizerStep' | 'state'> | undefined;
  tokenizerHash?: string | undefined;
  /** As train()'s `force`: skip the safety checks. */
  force?: boolean | undefined;
  /** Check outDir for a run already there (default true; data-parallel ranks other than 0: false). */
  checkOutDir?: boolean;
}

export interface StartedRun {
  params: Array<[string, tf.Variable]>;
  opt: AdamW;
  state: LoopState;
  fingerprint: RunFingerprint;
}

/** Checks, AdamW and the restored state of a run (the caller disposes `opt`). */
export async function startRun(model: TrainableModel, data: TrainData<unknown>, cfg: TrainConfig, o: StartOptions): Promise<StartedRun> {
  const params = model.trainableParameters();
  if (params.length === 0) throw new TrainError('CONFIG_INVALID', 'the model has no trainable weights (all frozen).');
  const fingerprint = runFingerprint(model, data);
  if (o.checkOutDir !== false && !o.resume?.state && cfg.outDir !== null && !o.force) await refuseExistingRun(cfg.outDir, o.resume !== undefined);
  const opt = new AdamW(params, { beta1: cfg.beta1, beta2: cfg.beta2, eps: cfg.eps, weightDecay: cfg.weightDecay, decay: cfg.decayRule });
  try {
    return { params, opt, state: restore(model, data, opt, cfg, fingerprint, o), fingerprint };
  } catch (e) {
    opt.dispose();
    throw e;
  }
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

function restore(model: TrainableModel, data: TrainData<unknown>, opt: AdamW, cfg: TrainConfig, now: RunFingerprint, o: StartOptions): LoopState {
  const resume = o.resume;
  const st = resume?.state;
  const fresh = { step: 0, bestValLoss: null, evalsWithoutImprovement: 0, tokensSeen: 0, elapsedMs: 0 };
  if (!resume) return fresh;
  if (!st) {
    if (o.force) return fresh;
    throw new TrainError('CHECKPOINT_INVALID', 'the checkpoint to resume has no trainer_state.json, so the step, data position and schedule are unknown; restore it, or pass `force: true` to start over from its weights.');
  }
  if (st.step > cfg.maxIters) {
    throw new TrainError('CONFIG_INVALID', `the checkpoint is at step ${st.step}, beyond maxIters ${cfg.maxIters}: raise maxIters to continue it (it counts the steps before the resume too).`);
  }
  const mismatch: string[] = [];
  if (st.tokenizerHash && o.tokenizerHash && st.tokenizerHash !== o.tokenizerHash) mismatch.push(`another tokenizer (${st.tokenizerHash} → ${o.tokenizerHash})`);
  const modelDiff = st.fingerprint ? differences(st.fingerprint.model, now.model) : [];
  if (modelDiff.length) mismatch.push(`another model (${modelDiff.join(', ')})`);
  const dataDiff = st.fingerprint ? dataDifferences(st.fingerprint.data, now.data) : [];
  if (dataDiff.length) mismatch.push(`other data (${dataDiff.join('; ')})`);
  if (mismatch.length && !o.force) {
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
