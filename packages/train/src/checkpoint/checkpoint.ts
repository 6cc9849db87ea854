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
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tf, readSafetensors, writeSafetensors, rawToTensor } from '@llm/tensor-gpu';
import { loadModel, TransformerError, type TransformerLM } from '@llm/transformer';
import { toHfTokenizerJson, type TokenizerDefinition } from '@llm/tokenizer-bpe';
import { TrainError } from '../errors.js';
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
}

export interface SaveCheckpointInput {
  model: TransformerLM;
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

export interface LoadedCheckpoint {
  /** The directory actually read (dir, or dir.old after a crash mid-save). */
  dir: string;
  model: TransformerLM;
  /** Optimizer moments by name (caller disposes), or null for a model-only directory. */
  optimizerState: Map<string, tf.Tensor> | null;
  optimizerStep: number;
  state: TrainerState | null;
}

/** Read a checkpoint directory (falls back to dir.old if a save was interrupted). */
export async function loadTrainingCheckpoint(dir: string): Promise<LoadedCheckpoint> {
  const found = await resolveCheckpointDir(dir);
  if (!found) throw new TrainError('CHECKPOINT_INVALID', `no checkpoint at ${dir} (nothing to resume; start without --resume).`);
  let model: TransformerLM;
  try {
    model = await loadModel(found);
  } catch (e) {
    if (e instanceof TransformerError) throw new TrainError('CHECKPOINT_INVALID', `${found}: ${e.message}`, { cause: e });
    throw e;
  }
  let state: TrainerState | null = null;
  let optimizerState: Map<string, tf.Tensor> | null = null;
  let optimizerStep = 0;
  try {
    state = await readState(join(found, 'trainer_state.json'));
    const opt = await readSafetensors(join(found, 'optimizer.safetensors')).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return null;
      throw new TrainError('CHECKPOINT_INVALID', `${found}/optimizer.safetensors: ${e.message}`, { cause: e });
    });
    if (opt) {
      optimizerState = new Map([...opt.tensors].map(([k, raw]) => [k, rawToTensor(raw)]));
      optimizerStep = Number(opt.metadata.step ?? state?.step ?? 0);
    }
  } catch (e) {
    model.dispose();
    throw e;
  }
  return { dir: found, model, optimizerState, optimizerStep, state };
}

async function readState(path: string): Promise<TrainerState | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return null;
  }
  let s: TrainerState;
  try {
    s = JSON.parse(text) as TrainerState;
  } catch (e) {
    throw new TrainError('CHECKPOINT_INVALID', `${path} is not valid JSON: ${(e as Error).message}.`);
  }
  if (s?.format !== 'llm-ts-trainer-state' || s.version !== 1 || !Number.isInteger(s.step)) {
    throw new TrainError('CHECKPOINT_INVALID', `${path} is not an llm-ts trainer state (format, version, step).`);
  }
  return s;
}
