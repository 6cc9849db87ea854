// @llm/sample's own test suite on the engine (issue #16: every @llm/sample test also passes on
// it). Sample's tests build their models through src/testing/lm.ts; here that module resolves to
// src/testing/sample-lm.ts, which compiles each one for the engine. Sample's src/testing/lm.engine.spec.ts
// (run here only) checks that the swap happened (a suite that silently ran on tfjs would prove nothing). Sample's
// files, outside this package, need no server.fs setting: vite allows the workspace root.
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vitest/config';
import shared from '../../vitest.shared.js';

const here = dirname(fileURLToPath(import.meta.url));
const SAMPLE_LM = resolve(here, '../sample/src/testing/lm');
const ENGINE_LM = resolve(here, 'src/testing/sample-lm.ts');

/** Resolves every import of sample's testing/lm module (whatever the relative path) to ENGINE_LM. */
const engineLM: Plugin = {
  name: 'sample-lm-on-engine',
  enforce: 'pre',
  resolveId(source, importer) {
    if (!importer || !source.startsWith('.')) return null;
    const path = resolve(dirname(importer), source).replace(/\.[jt]s$/, '');
    return path === SAMPLE_LM ? ENGINE_LM : null;
  },
};

/**
 * Sample tests that cannot run on the engine, by name (also listed in README.md, Verified): three
 * "in their own process" cases spawn a node process that imports sample's build and makes its own
 * TransformerLM, which the swap cannot reach. (The five model-free cases there run, as on tfjs.)
 */
const EXCLUDED = ['beamSearch numBeams 1e6', 'speculative numDraftTokens 1e9', 'generate maxNewTokens 1e12'];

export default defineConfig({
  plugins: [engineLM],
  test: {
    ...shared.test,
    include: ['../sample/src/**/*.test.ts', '../sample/src/testing/lm.engine.spec.ts'],
    testNamePattern: new RegExp(`^(?!.*(${EXCLUDED.join('|')}))`),
  },
});
