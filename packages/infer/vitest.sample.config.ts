// @llm/sample's own test suite on the engine (issue #16: every @llm/sample test also passes on
// it). Sample's tests build their models through src/testing/lm.ts; here that module resolves to
// src/testing/sample-lm.ts, which compiles each one for the engine. src/testing/sample-lm.spec.ts
// checks that the swap happened (a suite that silently ran on tfjs would prove nothing).
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
 * Sample tests that cannot run on the engine, by full name (also listed in README.md, Verified):
 *   - "in their own process": each case spawns a child node process that imports @llm/sample's
 *     dist and (three of them) builds its own TransformerLM: the swap cannot reach it.
 */
const EXCLUDED = ['in their own process'];

export default defineConfig({
  plugins: [engineLM],
  server: { fs: { allow: [resolve(here, '../..')] } },
  test: {
    ...shared.test,
    include: ['../sample/src/**/*.test.ts', 'src/testing/sample-lm.spec.ts'],
    testNamePattern: new RegExp(`^(?!.*(${EXCLUDED.join('|')}))`),
  },
});
