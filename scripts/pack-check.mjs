// Packs every publishable package with `npm pack`, installs the tarballs into an empty project
// in a temp dir, imports each one there with ESM `import` and CJS `require`, checks each tarball
// carries its LICENSE and bins, installs and imports each package alone (with only the @llm
// packages it declares), and runs every package README's code examples there
// (scripts/readme-examples.mjs).
//   node scripts/pack-check.mjs
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { README_ORDER, runReadmeExamples } from './readme-examples.mjs';
import { generateCorpus } from '../apps/trainer/dist/index.js';

const root = resolve(import.meta.dirname, '..');
const work = mkdtempSync(join(tmpdir(), 'llm-pack-'));
const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });

try {
  const manifests = readdirSync(join(root, 'packages'))
    .map((d) => JSON.parse(readFileSync(join(root, 'packages', d, 'package.json'), 'utf8')))
    .filter((p) => !p.private); // @llm/kit: test and benchmark helpers, never published
  const pkgs = manifests.map((p) => p.name);
  const tarballs = pkgs.map((name) => {
    const out = run('npm', ['pack', '--workspace', name, '--pack-destination', work, '--json'], root);
    return join(work, JSON.parse(out)[0].filename);
  });
  // each package alone: only its own tarball and those of the @llm packages it declares (no hoisted
  // neighbour can hide a missing dependency), imported with ESM and CJS
  const tarballOf = new Map(pkgs.map((n, i) => [n, tarballs[i]]));
  const closure = (name, seen = new Set()) => {
    seen.add(name);
    const deps = Object.keys(manifests.find((m) => m.name === name).dependencies ?? {});
    for (const d of deps) if (tarballOf.has(d) && !seen.has(d)) closure(d, seen);
    return seen;
  };
  for (const name of pkgs) {
    const alone = join(work, `alone-${name.replace('@llm/', '')}`);
    execFileSync('mkdir', ['-p', alone]);
    writeFileSync(join(alone, 'package.json'), JSON.stringify({ name: 'alone', private: true, version: '0.0.0' }));
    run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', ...[...closure(name)].map((n) => tarballOf.get(n))], alone);
    run('node', ['--input-type=module', '-e', `await import('${name}')`], alone);
    run('node', ['-e', `require('${name}')`], alone);
    console.log(`${name} installs and imports alone (with ${closure(name).size - 1} @llm dependencies)`);
  }
  const app = join(work, 'app');
  execFileSync('mkdir', ['-p', app]);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'pack-check', private: true, version: '0.0.0' }));
  // tiktoken: the optional peer the tokenizer README's getEncoding example names in its install line
  run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', ...tarballs, 'tiktoken@1.0.22'], app);
  for (const t of tarballs) {
    const files = run('tar', ['-tzf', t], work).split('\n');
    if (!files.includes('package/LICENSE')) throw new Error(`${t} has no LICENSE`);
  }
  // a bin of a published package runs from the installed tarball
  const help = run(join(app, 'node_modules/.bin/llm-tokenizer'), ['--help'], app);
  if (!/llm-tokenizer/.test(help)) throw new Error(`llm-tokenizer --help printed: ${help}`);
  for (const name of pkgs) {
    const esm = `import * as m from '${name}'; console.log('${name} esm', Object.keys(m).length, 'exports');`;
    const cjs = `const m = require('${name}'); console.log('${name} cjs', Object.keys(m).length, 'exports');`;
    process.stdout.write(run('node', ['--input-type=module', '-e', esm], app));
    process.stdout.write(run('node', ['-e', cjs], app));
  }
  // tensor-gpu must work, not just import: backend, chained ops and gradients, from ESM and CJS.
  const body = `const i = await initBackend(); const g = tf.grad((x) => x.mul(x).sum())(tf.tensor1d([3])).dataSync();
    if (g[0] !== 6) throw new Error('gradient ' + g[0]); console.log('tensor-gpu computes gradients on', i.backend);`;
  process.stdout.write(run('node', ['--input-type=module', '-e', `import { initBackend, tf } from '@llm/tensor-gpu'; ${body}`], app));
  process.stdout.write(run('node', ['-e', `const { initBackend, tf } = require('@llm/tensor-gpu'); (async () => { ${body} })().catch((e) => { console.error(e); process.exit(1); });`], app));
  // transformer: a model builds, runs with a KV cache and round-trips a checkpoint from the tarballs.
  const lm = `await initBackend({ log: false }); const m = new TransformerLM({ family: 'llama', vocabSize: 32, nLayer: 1, nHead: 2, nEmbd: 8, intermediateSize: 16, blockSize: 8 });
    const c = m.createCache(1); const l = m.forward(tf.tensor2d([[1, 2]], [1, 2], 'int32'), { cache: c }); await m.save(dir + '/m'); const b = await loadModel(dir + '/m');
    const l2 = b.forward(tf.tensor2d([[1, 2]], [1, 2], 'int32')); if (l2.shape.join() !== '1,2,32' || Math.abs(l2.dataSync()[5] - l.dataSync()[5]) > 0) throw new Error('transformer round trip');
    console.log('transformer runs and round-trips a checkpoint:', summarize(b));`;
  const dirs = [mkdtempSync(join(work, 'tm-')), mkdtempSync(join(work, 'tm-'))];
  process.stdout.write(run('node', ['--input-type=module', '-e', `import { initBackend, tf } from '@llm/tensor-gpu'; import { TransformerLM, loadModel, summarize } from '@llm/transformer'; const dir = ${JSON.stringify(dirs[0])}; ${lm}`], app));
  process.stdout.write(run('node', ['-e', `const { initBackend, tf } = require('@llm/tensor-gpu'); const { TransformerLM, loadModel, summarize } = require('@llm/transformer'); const dir = ${JSON.stringify(dirs[1])}; (async () => { ${lm} })().catch((e) => { console.error(e); process.exit(1); });`], app));
  const dirs2 = README_ORDER.map((d) => join(root, 'packages', d));
  const examples = runReadmeExamples(app, dirs2, { generatedText: generateCorpus({ seed: 7, bytes: 300_000 }) });
  console.log(`pack-check: ${pkgs.length} packages packed, installed and imported (ESM and CJS); ${examples} README examples ran against the tarballs`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
