/**
 * `<out>/run.json`: the command and resolved options that started a run. `--resume` reads it, so a
 * resumed run continues with the settings it was started with (learning rate, batch size, data,
 * tokenizer …) — flags given with `--resume` still win, e.g. `--max-iters 4000` to train longer.
 *
 *   await writeRunSettings('out', 'pretrain', { lr: 3e-3, batchSize: 12, … });
 *   (await readRunSettings('out'))?.options.lr;   // 3e-3
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '@llm/tensor-gpu';
import { CliError } from './options.js';

export interface RunSettings {
  /** The command that started the run: 'start', 'pretrain' or 'sft'. */
  command: string;
  /** Its options (camelCase, as in a --config file), resume and force left out. */
  options: Record<string, unknown>;
  /** The data-parallel workers it started with (--workers resolved; absent = 1: a run from before --workers). */
  workers?: number;
}

const FILE = 'run.json';
const NOT_SAVED = new Set(['resume', 'force', 'config']);

export async function writeRunSettings(out: string, command: string, options: Record<string, unknown>, workers = 1): Promise<void> {
  await mkdir(out, { recursive: true });
  const kept = Object.fromEntries(Object.entries(options).filter(([k, v]) => !NOT_SAVED.has(k) && v !== undefined));
  await writeFileAtomic(join(out, FILE), new TextEncoder().encode(JSON.stringify({ command, options: kept, workers }, null, 2) + '\n'));
}

/** The settings of the run in `out`, or null when it has none (a run from before run.json existed). */
export async function readRunSettings(out: string): Promise<RunSettings | null> {
  const path = join(out, FILE);
  const text = await readFile(path, 'utf8').catch(() => null);
  if (text === null) return null;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new CliError(`${path} is not valid JSON (${(e as Error).message}): fix or delete it`, 1);
  }
  const r = json as Partial<RunSettings> | null;
  if (typeof r?.command !== 'string' || typeof r.options !== 'object' || r.options === null || Array.isArray(r.options)) {
    throw new CliError(`${path} must hold { "command": string, "options": object }: fix or delete it`, 1);
  }
  return r as RunSettings;
}
