/**
 * Writing HF-compatible checkpoint directories (reading is checkpoint.ts). This module does not
 * import the model class, so model.ts can delegate `save()` here without an import cycle.
 *
 *   await saveModel(model, 'out/ckpt');   // config.json, model.safetensors, generation_config.json
 *
 * Every file is written atomically (temp file + rename), so a crash mid-save leaves the previous
 * file intact.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { tf, writeSafetensors, writeFileAtomic } from '@llm/tensor-gpu';
import type { ModelConfig } from './config.js';
import { TransformerError } from './errors.js';
import { toHfConfig } from './hf-config.js';
import { checkpointShapes, hfZeroBiases } from './layout.js';
import { generationConfigFromModelConfig, hasGenerationConfig, toHfGenerationConfig, type ModelGenerationConfig } from './generation-config.js';

export interface SaveOptions {
  /** HF architectures entry (default the LM class of the family). */
  architecture?: string;
  /** Extra fields merged into config.json (e.g. num_labels). */
  configExtra?: Record<string, unknown>;
  /** Extra tensors saved beside the model's (e.g. score.weight). */
  extraTensors?: Map<string, tf.Tensor>;
}

/** What save needs of a model (TransformerLM has it; a structural type keeps this module free of model.ts). */
export interface SavableModel {
  readonly config: ModelConfig;
  namedParameters(): Array<[string, tf.Tensor]>;
  readonly generationConfig?: ModelGenerationConfig;
}

/**
 * Write config.json, model.safetensors and generation_config.json into dir: the model's
 * generationConfig when it has one (as loaded, unknown fields included), else HF's
 * from_model_config file (bos / eos / pad of config.json) when the config sets bos or eos.
 */
export async function saveModel(model: SavableModel, dir: string, opts: SaveOptions = {}): Promise<void> {
  const cfg = model.config;
  await mkdir(dir, { recursive: true });
  const byName = new Map(model.namedParameters());
  const out = new Map<string, tf.Tensor>();
  for (const name of checkpointShapes(cfg).keys()) {
    const v = byName.get(name);
    if (!v) {
      throw new TransformerError('INVALID_ARGUMENT', `save: the model has no plain weight "${name}" (was its module replaced by a wrapper? merge adapters into the base weights, or save them separately).`);
    }
    out.set(name, v);
  }
  const zeros = [...hfZeroBiases(cfg)].map(([name, shape]) => {
    const z = tf.zeros(shape);
    out.set(name, z);
    return z;
  });
  for (const [n, t] of opts.extraTensors ?? []) out.set(n, t);
  try {
    await writeSafetensors(join(dir, 'model.safetensors'), out, { format: 'pt' });
  } finally {
    tf.dispose(zeros);
  }
  const json = { ...toHfConfig(cfg, opts.architecture), ...(opts.configExtra ?? {}) };
  await writeFileAtomic(join(dir, 'config.json'), new TextEncoder().encode(JSON.stringify(json, null, 2) + '\n'));
  const gen = hasGenerationConfig(model.generationConfig) ? model.generationConfig : generationConfigFromModelConfig(cfg);
  if (gen) await writeFileAtomic(join(dir, 'generation_config.json'), new TextEncoder().encode(JSON.stringify(toHfGenerationConfig(gen), null, 2) + '\n'));
}
