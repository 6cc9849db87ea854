/**
 * Stage 5: the aligned model as a quantized GGUF file (`<out>/quant/model-<type>.gguf`, e.g. Q8_0),
 * with its tokenizer and chat template inside — what `llm-chat serve --model` and llama.cpp load.
 * Written under a temporary name, read back, then renamed: a crash never leaves a partial file
 * under the final name.
 *
 *   await quantizeStage(cfg, log)   // → ['quant/model-q8_0.gguf']
 */
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { initBackend } from '@llm/tensor-gpu';
import { findModelDir } from '@llm/transformer';
import { exportGguf, readGguf } from '@llm/quant';
import { CliError } from '../options.js';
import { stageBar } from './bar.js';
import type { LifecycleConfig } from './config.js';
import { DPO_DIR } from './train-stages.js';

export const QUANT_DIR = 'quant';

/** Where the quantize stage writes its model, relative to the run folder: quant/model-q8_0.gguf. */
export const ggufPath = (cfg: LifecycleConfig) => join(QUANT_DIR, `model-${cfg.quantType}.gguf`);

export async function quantizeStage(cfg: LifecycleConfig, log: (s: string) => void): Promise<string[]> {
  await initBackend({ log: false });
  const from = await findModelDir(join(cfg.out, DPO_DIR), { nested: false }).catch((e: unknown) => {
    throw new CliError(`quantize: no model in ${join(cfg.out, DPO_DIR)} (${(e as Error).message}); run npm start again to redo the dpo stage`, 1);
  });
  const rel = ggufPath(cfg);
  const file = join(cfg.out, rel);
  const tmp = `${file}.tmp-${process.pid}`;
  await mkdir(join(cfg.out, QUANT_DIR), { recursive: true });
  const bar = stageBar('quantize', 3);
  const t0 = performance.now();
  try {
    bar.update(0, 'export');
    await exportGguf(from, tmp, { type: cfg.quantType, name: 'llm-ts start' });
    bar.update(1, 'verify');
    const g = await readGguf(tmp);
    if (g.tensors.length === 0) throw new CliError(`quantize: ${tmp} holds no tensors`, 1);
    bar.update(2, 'rename');
    await rename(tmp, file);
    bar.update(3, 'done');
  } finally {
    bar.stop();
    await rm(tmp, { force: true });
  }
  const bytes = (await stat(file)).size;
  log(`quantize: ${from} → ${file} (${cfg.quantType.toUpperCase()}, ${(bytes / 1e6).toFixed(2)} MB, tokenizer and chat template inside) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return [rel];
}
