import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { tf } from './tf.js';
import { initBackend, resolveBackendRequest } from './backend.js';
import { TensorGpuError } from './errors.js';

const pkgRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

describe('initBackend', () => {
  afterEach(() => {
    delete process.env.LLM_BACKEND;
  });

  it('auto picks wasm here and says why the native backends were skipped', async () => {
    const lines: string[] = [];
    const info = await initBackend({ log: (l) => lines.push(l) });
    expect(info.backend).toBe('wasm');
    expect(info.simd).toBe(true);
    expect(info.threads).toBeGreaterThanOrEqual(1);
    expect(info.attempts.map((a) => a.backend)).toEqual(['tensorflow-gpu', 'tensorflow', 'wasm']);
    expect(info.reason).toMatch(/tensorflow-gpu: not installed; tensorflow: not installed/);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^\[tensor-gpu\] backend wasm \(SIMD, \d+ threads?\)/);
    expect(tf.getBackend()).toBe('wasm');
  });

  it('honours an explicit backend and the LLM_BACKEND variable', async () => {
    expect((await initBackend({ backend: 'cpu', log: false })).backend).toBe('cpu');
    process.env.LLM_BACKEND = 'wasm';
    expect((await initBackend({ log: false })).backend).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
  });

  it('rejects unknown names with a typed error naming the choices', async () => {
    expect(() => resolveBackendRequest('webgpu')).toThrow(TensorGpuError);
    process.env.LLM_BACKEND = 'cuda';
    await expect(initBackend({ log: false })).rejects.toThrow(/Unknown backend "cuda" \(from the LLM_BACKEND/);
  });

  it('a requested backend that is not installed is a clear error, not a crash', async () => {
    const err = await initBackend({ backend: 'tensorflow-gpu', log: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TensorGpuError);
    expect((err as TensorGpuError).code).toBe('BACKEND_UNAVAILABLE');
    expect((err as Error).message).toMatch(/tensorflow-gpu: not installed/);
  });

  describe('with an installed-but-broken @tensorflow/tfjs-node (no libtensorflow)', () => {
    const fake = join(pkgRoot, 'node_modules', '@tensorflow', 'tfjs-node');
    afterAll(() => rmSync(fake, { recursive: true, force: true }));

    it('reports it as broken and falls back to wasm', async () => {
      mkdirSync(fake, { recursive: true });
      writeFileSync(join(fake, 'package.json'), JSON.stringify({ name: '@tensorflow/tfjs-node', version: '4.22.0', main: 'index.js' }));
      // What tfjs-node does when npm skipped its install script: the native binding is missing.
      writeFileSync(join(fake, 'index.js'), "require('./lib/napi-v8/tfjs_binding.node');\n");
      const info = await initBackend({ log: false });
      expect(info.backend).toBe('wasm');
      const attempt = info.attempts.find((a) => a.backend === 'tensorflow')!;
      expect(attempt.ok).toBe(false);
      expect(attempt.reason).toMatch(/installed but broken/);
    });
  });
});

describe('initBackend leaves the host process alone', () => {
  const dist = join(pkgRoot, 'dist/index.js'); // built before tests (turbo test → build)
  const run = (body: string) =>
    spawnSync(process.execPath, ['--input-type=module', '-e', `import { initBackend } from ${JSON.stringify(dist)}; await initBackend({ log: false }); ${body}`], { encoding: 'utf8' });

  it('an uncaught error after initBackend() exits 1 with the program\'s own stack, not from inside tfjs', () => {
    const r = run(`setTimeout(function userBug() { throw new Error('user bug 42'); }, 1);`);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/Error: user bug 42\n\s+at Timeout\.userBug/);
    expect(r.stderr).not.toMatch(/tf-backend-wasm/);
  });

  it('an unhandled rejection exits 1 as in plain Node, and no error handler is left installed', () => {
    const r = run(`console.log(process.listenerCount('uncaughtException'), process.listenerCount('unhandledRejection')); Promise.reject(new Error('user rejection 7'));`);
    expect(r.stdout.trim()).toBe('0 0');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/user rejection 7/);
    expect(r.stderr).not.toMatch(/tf-backend-wasm/);
  });
});
