/**
 * Which model a path means: a checkpoint directory itself, or a run folder as `llm-train` writes
 * it (`<run>/best`, `<run>/checkpoint`, and runs one level down, e.g. `out/sft/best`). In a run
 * folder the most recently trained run wins, and within a run `best/` (the lowest val loss) wins
 * over `checkpoint/` (the latest step). So tools that default to `out` load what the previous
 * command wrote:
 *
 *   await findModelDir('out/best')   // 'out/best' (it holds config.json)
 *   await findModelDir('out')        // 'out/best' after `npm start`; 'out/sft/best' after a later `llm-train sft`
 *   await findModelDir('out', { nested: false })   // 'out/best': the run in out/ itself
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { TransformerError } from './errors.js';

/** Sub-directories holding a model, in preference order within one run. */
const MODEL_DIRS = ['best', 'checkpoint'] as const;

export interface FindModelDirOptions {
  /** Also look one level down (runs nested in a run folder, like out/sft). Default true. */
  nested?: boolean;
}

export async function findModelDir(path: string, opts: FindModelDirOptions = {}): Promise<string> {
  if (await configTime(path) !== null) return path;
  const runs = [path, ...(opts.nested === false ? [] : await subdirectories(path))];
  let found: { dir: string; time: number } | null = null;
  for (const run of runs) {
    const times = await Promise.all(MODEL_DIRS.map((d) => configTime(join(run, d))));
    const newest = Math.max(...times.map((t) => t ?? -Infinity));
    const preferred = MODEL_DIRS.find((_, i) => times[i] !== null);
    if (preferred && (found === null || newest > found.time)) found = { dir: join(run, preferred), time: newest };
  }
  if (found) return found.dir;
  throw new TransformerError(
    'CHECKPOINT_INVALID',
    `no model in ${path}: expected a checkpoint directory (config.json + model.safetensors) or a run folder with best/ or checkpoint/ in it${opts.nested === false ? '' : ' or one level down'}. Train one first (npm start, llm-train pretrain) or pass the checkpoint's path.`,
  );
}

/** mtime (ms) of dir/config.json, or null when there is none. */
async function configTime(dir: string): Promise<number | null> {
  const st = await stat(join(dir, 'config.json')).catch(() => null);
  return st?.isFile() ? st.mtimeMs : null;
}

async function subdirectories(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isDirectory() || e.isSymbolicLink()).map((e) => join(dir, e.name));
}
