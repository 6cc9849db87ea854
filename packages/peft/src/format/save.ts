/**
 * Writing adapters in HF PEFT's format (peft/peft_model.py save_pretrained,
 * peft/utils/save_and_load.py get_peft_model_state_dict):
 *   <dir>/adapter_config.json        json.dumps(config, indent=2, sort_keys=True), inference_mode true
 *   <dir>/adapter_model.safetensors  F32 tensors by PEFT name, metadata {"format": "pt"}
 * The adapter 'default' goes to `dir`, any other to `dir/<name>` (PEFT's subfolders).
 *
 *   await saveAdapter(peft, 'out/adapter');
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { tf, writeFileAtomic, writeSafetensors } from '@llm/tensor-gpu';
import { PeftError } from '../errors.js';
import { FLOAT_FIELDS, toAdapterConfigJson, type ResolvedLayerConfig } from '../config.js';
import type { PeftModel } from '../peft-model.js';
import { pythonJson } from './python-json.js';

export const ADAPTER_CONFIG_NAME = 'adapter_config.json';
export const ADAPTER_WEIGHTS_NAME = 'adapter_model.safetensors';

export interface SaveAdapterOptions {
  /** Which adapters (default: all). */
  adapterName?: string | readonly string[];
}

/** The adapter_config.json text PEFT would write for this adapter. */
export function adapterConfigText(model: PeftModel, adapterName: string): string {
  const t = model.tuner(adapterName);
  return pythonJson(t.configJson ? t.configJson() : toAdapterConfigJson(t.config as ResolvedLayerConfig), FLOAT_FIELDS);
}

export async function saveAdapter(model: PeftModel, dir: string, opts: SaveAdapterOptions = {}): Promise<void> {
  const names = opts.adapterName === undefined ? model.adapterNames() : typeof opts.adapterName === 'string' ? [opts.adapterName] : [...opts.adapterName];
  if (names.length === 0) throw new PeftError('ADAPTER_NOT_FOUND', 'saveAdapter: the model has no adapter to save.');
  for (const name of names) {
    const tuner = model.tuner(name);
    const out = name === 'default' ? dir : join(dir, name);
    await mkdir(out, { recursive: true });
    const tensors = new Map<string, tf.Tensor>(tuner.stateDict());
    try {
      await writeSafetensors(join(out, ADAPTER_WEIGHTS_NAME), tensors, { format: 'pt' });
    } finally {
      for (const t of tensors.values()) if (!(t instanceof tf.Variable)) t.dispose(); // computed ones (a projected prefix)
    }
    await writeFileAtomic(join(out, ADAPTER_CONFIG_NAME), new TextEncoder().encode(adapterConfigText(model, name)));
  }
}
