// Test helper: the worker entry and the fixture setup module bundled from src (TypeScript) with
// esbuild, so the data-parallel tests always run the code under test, never a stale dist/.
// Packages (@llm/tensor-gpu, @llm/transformer, …) stay external and load from node_modules.
// Written under packages/train/node_modules/.cache (bare imports resolve from there).
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const pkg = fileURLToPath(new URL('../../', import.meta.url));

export interface TestBundles {
  worker: string;
  setup: string;
  dir: string;
  cleanup: () => Promise<void>;
}

export async function bundleForTests(): Promise<TestBundles> {
  const dir = join(pkg, 'node_modules', '.cache', `llm-train-parallel-${process.pid}`);
  await mkdir(dir, { recursive: true });
  const entries = { worker: join(pkg, 'src/parallel/worker.ts'), setup: join(pkg, 'src/testing/parallel-fixture-setup.ts') };
  await build({ entryPoints: entries, outdir: dir, outExtension: { '.js': '.mjs' }, bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', logLevel: 'error' });
  return { worker: join(dir, 'worker.mjs'), setup: join(dir, 'setup.mjs'), dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
