/**
 * Where benchmarks find the data that lives outside the repo: `../shared/data/<name>` beside the
 * repo root (CI and developer machines have it; a fresh clone does not), or `$LLM_SHARED_DATA/<name>`
 * when that variable is set. Tests never read it (see design.md).
 *
 *   const corpus = sharedDataPath('tinyshakespeare.txt');   // → '/work/shared/data/tinyshakespeare.txt'
 *   if (corpus === null) console.log(`tinyshakespeare.txt is not in ${sharedDataDir()}: nothing measured`);
 */
import { existsSync, writeFileSync } from 'node:fs';
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

/**
 * Tiny Shakespeare for a benchmark, or — on a fresh clone without ../shared — a seeded synthetic
 * text of Shakespeare-ish words (20,000 lines) written into `dir`, so the benchmark still runs
 * (its figures then mean less; `name` says which one was used).
 *
 *   const { path, name, synthetic } = benchmarkCorpus(workDir);
 */
export function benchmarkCorpus(dir: string): { path: string; name: string; synthetic: boolean } {
  const real = sharedDataPath('tinyshakespeare.txt');
  if (real !== null) return { path: real, name: 'Tiny Shakespeare', synthetic: false };
  let x = 1337;
  const rnd = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const words = ['the', 'king', 'queen', 'lord', 'of', 'and', 'to', 'my', 'thou', 'art', 'shall', 'not', 'be', 'love', 'death', 'night', 'day', 'what', 'say', 'come', 'go', 'good', 'sweet', 'fair'];
  const lines: string[] = [];
  for (let i = 0; i < 20000; i++) {
    const n = 3 + Math.floor(rnd() * 8);
    const w = Array.from({ length: n }, (_, j) => words[Math.floor(rnd() ** (1 + (j % 3)) * words.length)]!);
    lines.push(w.join(' ') + (rnd() < 0.3 ? '.' : ','));
  }
  const path = resolve(dir, 'synthetic.txt');
  writeFileSync(path, lines.join('\n') + '\n');
  return { path, name: 'seeded synthetic text (Tiny Shakespeare absent)', synthetic: true };
}
