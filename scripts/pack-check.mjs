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
  const pkgs = readdirSync(join(root, 'packages')).map((d) => JSON.parse(readFileSync(join(root, 'packages', d, 'package.json'), 'utf8')).name);
  const tarballs = pkgs.map((name) => {
    const out = run('npm', ['pack', '--workspace', name, '--pack-destination', work, '--json'], root);
    return join(work, JSON.parse(out)[0].filename);
  });
  const app = join(work, 'app');
  execFileSync('mkdir', ['-p', app]);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'pack-check', private: true, version: '0.0.0' }));
  run('npm', ['install', '--no-audit', '--no-fund', ...tarballs], app);
  for (const name of pkgs) {
    const esm = `import * as m from '${name}'; console.log('${name} esm', Object.keys(m).length, 'exports');`;
    const cjs = `const m = require('${name}'); console.log('${name} cjs', Object.keys(m).length, 'exports');`;
    process.stdout.write(run('node', ['--input-type=module', '-e', esm], app));
    process.stdout.write(run('node', ['-e', cjs], app));
  }
  const smoke = `import { initBackend, tf } from '@llm/tensor-gpu'; const i = await initBackend(); const y = tf.matMul(tf.ones([2, 3]), tf.ones([3, 2]), false, false).dataSync(); if (y[0] !== 3) throw new Error('bad'); console.log('tensor-gpu runs on', i.backend);`;
  process.stdout.write(run('node', ['--input-type=module', '-e', smoke], app));
  console.log(`pack-check: ${pkgs.length} packages packed, installed and imported (ESM and CJS)`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
