/**
 * Training checkpoints: the HF-compatible model directory plus what an exact resume needs, beside it.
 *
 *   out/checkpoint/
 *     config.json, model.safetensors, generation_config.json   ← loadModel / HF from_pretrained
 *     tokenizer.json                                            ← when the run knows its tokenizer
 *     optimizer.safetensors                                     ← AdamW moments (`<weight>.exp_avg`, `.exp_avg_sq`)
 *     trainer_state.json                                        ← step, RNG states, data position, best val loss, config
 *
 * Written with replaceDirAtomic, so a crash never leaves a half-new checkpoint.
 *
 *   await saveTrainingCheckpoint('out/checkpoint', { model, optimizer, state });
 *   const { model, optimizerState, state } = await loadTrainingCheckpoint('out/checkpoint');
 */
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tf, readSafetensors, writeSafetensors, rawToTensor, rawToFloat32, type RawTensor } from '@llm/tensor-gpu';
import { loadModel, TransformerError, type TransformerLM } from '@llm/transformer';
import type { TrainableModel } from '../loop/model.js';
import { toHfTokenizerJson, type TokenizerDefinition } from '@llm/tokenizer-bpe';
import { TrainError } from '../errors.js';
import { TRAIN_LIMITS } from '../limits.js';
import type { AdamW } from '../optim/adamw.js';
import { replaceDirAtomic, resolveCheckpointDir } from './atomic-dir.js';

export interface TrainerState {
  format: 'llm-ts-trainer-state';
  version: 1;
  /** Optimizer updates completed. */
  step: number;
  bestValLoss: number | null;
  evalsWithoutImprovement: number;
  /** BatchSource states (train, val, and the train-loss estimator's). */
  data: Record<string, unknown>;
  /** TransformerLM dropout RNG state. */
  dropout: number;
  tokensSeen: number;
  elapsedMs: number;
  /** The training config of the run (for reference; resume takes the caller's). */
  config: Record<string, unknown>;
  /** Tokenizer hash of the data the run trains on, when known. */
  tokenizerHash?: string;
  /**
   * What the run trains (the model's architecture) and on what (each batch source's data identity:
   * shard tokenizer, sizes and sources; SFT example count and hash). A resume with another model
   * or other data is refused unless forced (train's `force`).
   */
  fingerprint?: RunFingerprint;
}

/** The identity of a run's model and data, as train() records it (plain JSON). */
export interface RunFingerprint {
  model: Record<string, unknown>;
  data: Record<string, unknown>;
}

export interface SaveCheckpointInput {
  model: TrainableModel;
  optimizer?: AdamW;
  state?: TrainerState;
  tokenizer?: TokenizerDefinition;
}

/** Write a complete checkpoint directory atomically (model files always; optimizer/state when given). */
export async function saveTrainingCheckpoint(dir: string, input: SaveCheckpointInput): Promise<void> {
  await replaceDirAtomic(dir, async (tmp) => {
    await input.model.save(tmp);
    if (input.tokenizer) await writeFile(join(tmp, 'tokenizer.json'), JSON.stringify(toHfTokenizerJson(input.tokenizer)) + '\n');
    if (input.optimizer) await writeSafetensors(join(tmp, 'optimizer.safetensors'), input.optimizer.stateTensors(), { format: 'llm-ts', step: String(input.optimizer.stepCount) });
    if (input.state) await writeFile(join(tmp, 'trainer_state.json'), JSON.stringify(input.state, null, 2) + '\n');
  });
}

export interface LoadedCheckpoint<M extends TrainableModel = TransformerLM> {
  /** The directory actually read (dir, or dir.old after a crash mid-save). */
  dir: string;
  model: M;
  /** Optimizer moments by name (caller disposes), or null for a model-only directory. */
  optimizerState: Map<string, tf.Tensor> | null;
  optimizerStep: number;
  state: TrainerState | null;
}

export interface LoadCheckpointOptions<M extends TrainableModel> {
  /** Read the model part of the directory (default: loadModel, a full checkpoint; @llm/peft's loadAdapter for an adapter run). */
  loadModel?: (dir: string) => Promise<M>;
}

/**
 * Read a checkpoint directory (falls back to dir.old if a save was interrupted). An adapter run's
 * checkpoint holds the adapter: pass `loadModel: (d) => loadAdapter(base, d, { isTrainable: true })`.
 */
export async function loadTrainingCheckpoint<M extends TrainableModel = TransformerLM>(dir: string, opts: LoadCheckpointOptions<M> = {}): Promise<LoadedCheckpoint<M>> {
  const found = await resolveCheckpointDir(dir);
  if (!found) throw new TrainError('CHECKPOINT_INVALID', `no checkpoint at ${dir} (nothing to resume; start without --resume).`);
  let model: M;
  try {
    model = opts.loadModel ? await opts.loadModel(found) : ((await loadModel(found)) as unknown as M);
  } catch (e) {
    if (e instanceof TransformerError) throw new TrainError('CHECKPOINT_INVALID', `${found}: ${e.message}`, { cause: e });
    throw e;
  }
  let state: TrainerState | null = null;
  let optimizerState: Map<string, tf.Tensor> | null = null;
  let optimizerStep = 0;
  try {
    state = await readState(join(found, 'trainer_state.json'));
    const optPath = join(found, 'optimizer.safetensors');
    const opt = await readSafetensors(optPath).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return null;
      throw new TrainError('CHECKPOINT_INVALID', `${optPath}: ${e.message}`, { cause: e });
    });
    if (opt) {
      optimizerStep = checkOptimizer(optPath, opt.tensors, opt.metadata.step, state);
      optimizerState = new Map([...opt.tensors].map(([k, raw]) => [k, rawToTensor(raw)]));
    }
  } catch (e) {
    model.dispose();
    throw e;
  }
  return { dir: found, model, optimizerState, optimizerStep, state };
}

/** Largest trainer_state.json read (it holds a few numbers and the config: kilobytes). */
const MAX_STATE_BYTES = TRAIN_LIMITS.maxStateBytes;

async function readState(path: string): Promise<TrainerState | null> {
  const info = await stat(path).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return null;
    throw new TrainError('CHECKPOINT_INVALID', `${path} cannot be read: ${e.message}.`, { cause: e });
  });
  if (info === null) return null;
  if (!info.isFile()) throw new TrainError('CHECKPOINT_INVALID', `${path} is not a file.`);
  if (info.size > MAX_STATE_BYTES) throw new TrainError('CHECKPOINT_INVALID', `${path} is ${info.size} bytes, more than a trainer state can be (limit ${MAX_STATE_BYTES}); the checkpoint is damaged.`);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new TrainError('CHECKPOINT_INVALID', `${path} cannot be read: ${(e as Error).message}.`, { cause: e });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new TrainError('CHECKPOINT_INVALID', `${path} is not valid JSON: ${(e as Error).message}.`);
  }
  return validateTrainerState(json, path);
}

const U32 = 2 ** 32;

/**
 * Checks a parsed trainer_state.json field by field (it is untrusted: a resume takes its step as
 * the learning-rate schedule's position and overwrites checkpoint/ and best/ from it). Any problem
 * is CHECKPOINT_INVALID naming the file and the field; nothing is resumed from a bad state.
 *
 *   validateTrainerState({ ...state, step: -5 }, 'out/checkpoint/trainer_state.json')
 *   // throws: out/checkpoint/trainer_state.json: field "step" must be an integer ≥ 0, got -5 …
 */
export function validateTrainerState(json: unknown, path: string): TrainerState {
  const bad = (field: string, want: string, got: unknown): never => {
    const shown = JSON.stringify(got);
    throw new TrainError(
      'CHECKPOINT_INVALID',
      `${path}: field "${field}" must be ${want}, got ${shown === undefined ? 'nothing' : shown.length > 80 ? `${shown.slice(0, 80)}…` : shown}. ` +
        'The trainer state is damaged or was not written by llm-ts; restore it from a backup or start a fresh run.',
    );
  };
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObj(json)) return bad('(the file)', 'a JSON object', json);
  const s = json;
  if (s.format !== 'llm-ts-trainer-state') bad('format', '"llm-ts-trainer-state"', s.format);
  if (s.version !== 1) bad('version', '1', s.version);
  const int = (field: string, max = Number.MAX_SAFE_INTEGER) => {
    const v = s[field];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) bad(field, `an integer in [0, ${max}]`, v);
  };
  int('step');
  int('evalsWithoutImprovement');
  int('tokensSeen');
  int('dropout', U32 - 1);
  if (typeof s.elapsedMs !== 'number' || !Number.isFinite(s.elapsedMs) || s.elapsedMs < 0) bad('elapsedMs', 'a finite number ≥ 0', s.elapsedMs);
  if (s.bestValLoss !== null && (typeof s.bestValLoss !== 'number' || !Number.isFinite(s.bestValLoss) || s.bestValLoss < 0)) {
    bad('bestValLoss', 'null or a finite loss ≥ 0', s.bestValLoss);
  }
  if (!isObj(s.config)) bad('config', 'an object (the training config of the run)', s.config);
  const maxIters = (s.config as Record<string, unknown>).maxIters;
  if (maxIters !== undefined && (typeof maxIters !== 'number' || !Number.isInteger(maxIters) || maxIters < 1)) bad('config.maxIters', 'an integer ≥ 1', maxIters);
  if (typeof maxIters === 'number' && (s.step as number) > maxIters) bad('step', `at most the run's config.maxIters (${maxIters})`, s.step);
  if (!isObj(s.data)) bad('data', 'an object with the batch sources\' states ({ train, val, trainEval })', s.data);
  if (s.tokenizerHash !== undefined && (typeof s.tokenizerHash !== 'string' || s.tokenizerHash.length > 128)) bad('tokenizerHash', 'a string', s.tokenizerHash);
  if (s.fingerprint !== undefined) {
    const f = s.fingerprint;
    if (!isObj(f) || !isObj(f.model) || !isObj(f.data)) bad('fingerprint', 'an object { model, data }', f);
  }
  return s as unknown as TrainerState;
}

/**
 * Checks optimizer.safetensors beside a trainer state: its step (metadata) is an integer equal to
 * the state's, every moment is finite and every second moment ≥ 0 (NaN moments would turn every
 * weight into NaN at the first update). Returns the step.
 */
function checkOptimizer(path: string, tensors: ReadonlyMap<string, RawTensor>, metaStep: string | undefined, state: TrainerState | null): number {
  const step = metaStep === undefined ? (state?.step ?? 0) : Number(metaStep);
  if (!Number.isSafeInteger(step) || step < 0) throw new TrainError('CHECKPOINT_INVALID', `${path}: metadata "step" must be an integer ≥ 0, got ${JSON.stringify(metaStep)}.`);
  if (state && step !== state.step) {
    throw new TrainError('CHECKPOINT_INVALID', `${path} is at step ${step}, trainer_state.json at step ${state.step}: the two files are from different saves; the checkpoint is damaged.`);
  }
  for (const [name, raw] of tensors) {
    if (raw.dtype !== 'F32') throw new TrainError('CHECKPOINT_INVALID', `${path}: tensor "${name}" is ${raw.dtype}; optimizer moments are F32.`);
    const values = rawToFloat32(raw);
    const second = name.endsWith('.exp_avg_sq');
    for (let i = 0; i < values.length; i++) {
      const x = values[i]!;
      if (!Number.isFinite(x) || (second && x < 0)) {
        throw new TrainError('CHECKPOINT_INVALID', `${path}: tensor "${name}" holds ${x} at index ${i}; optimizer moments must be finite${second ? ' and ≥ 0' : ''}. The run diverged or the file is damaged.`);
      }
    }
  }
  return step;
}
