/**
 * Where benchmarks find the data that lives outside the repo: `../shared/data/<name>` beside the
 * repo root (CI and developer machines have it; a fresh clone does not), or `$LLM_SHARED_DATA/<name>`
 * when that variable is set. Tests never read it (see design.md).
 *
 *   const corpus = sharedDataPath('tinyshakespeare.txt');   // → '/work/shared/data/tinyshakespeare.txt'
 *   if (corpus === null) console.log(`tinyshakespeare.txt is not in ${sharedDataDir()}: nothing measured`);
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { repoRoot } from './repo-root.js';

/** The shared data folder, whether or not it exists. */
export function sharedDataDir(): string {
  return resolve(process.env.LLM_SHARED_DATA || resolve(repoRoot(), '../shared/data'));
}

/** The absolute path of `name` in the shared data folder, or null when that file is absent. */
export function sharedDataPath(name: string): string | null {
  const path = resolve(sharedDataDir(), name);
  return existsSync(path) ? path : null;
}
