// Packs every publishable package with `npm pack`, installs the tarballs into an empty project
// in a temp dir, and imports each one there with ESM `import` and CJS `require`.
//   node scripts/pack-check.mjs
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const work = mkdtempSync(join(tmpdir(), 'llm-pack-'));
const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });

try {
  const pkgs = readdirSync(join(root, 'packages'))
    .map((d) => JSON.parse(readFileSync(join(root, 'packages', d, 'package.json'), 'utf8')))
    .filter((p) => !p.private) // @llm/kit: test and benchmark helpers, never published
    .map((p) => p.name);
  const tarballs = pkgs.map((name) => {
    const out = run('npm', ['pack', '--workspace', name, '--pack-destination', work, '--json'], root);
    return join(work, JSON.parse(out)[0].filename);
  });
  const app = join(work, 'app');
  execFileSync('mkdir', ['-p', app]);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'pack-check', private: true, version: '0.0.0' }));
  run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', ...tarballs], app);
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
  console.log(`pack-check: ${pkgs.length} packages packed, installed and imported (ESM and CJS)`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
