// Task evaluation of checkpoints on the shipped example tasks (apps/trainer/tasks: arithmetic-add,
// arithmetic-mc, story-facts) through `llm-train eval --task`, one results file per checkpoint and
// the tables side by side. For the README's "npm start model before and after SFT":
//
//   npm start                                                 # → out/ (pretrained on the generated corpus)
//   node apps/trainer/dist/bin.js sft --init out/best --data chat.jsonl --out out/sft
//   node benchmarks/train/eval-tasks.mjs out/best out/sft/best [--shots 3] [--limit 100]
//   → benchmarks/results/eval-tasks.json
//
// Needs apps/trainer built (npx tsup in apps/trainer).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const here = fileURLToPath(new URL('.', import.meta.url));
const BIN = join(here, '../../apps/trainer/dist/bin.js');
const TASKS = ['arithmetic-add', 'arithmetic-mc', 'story-facts'].map((t) => join(here, `../../apps/trainer/tasks/${t}.jsonl`));
const args = process.argv.slice(2);
const flag = (name, def) => {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return def;
  const v = args[i + 1];
  args.splice(i, 2);
  return v;
};
const shots = flag('shots', '3');
const limit = flag('limit', undefined);
const checkpoints = args.length ? args : ['out/best'];
mkdirSync(join(here, '../results'), { recursive: true });
const all = [];
for (const ckpt of checkpoints) {
  const tmp = join(here, '../results/eval-tasks.tmp');
  const r = spawnSync(process.execPath, [BIN, 'eval', '--checkpoint', ckpt, '--task', ...TASKS, '--shots', shots, ...(limit ? ['--limit', limit] : []), '--out', tmp], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) {
    console.error(`llm-train eval failed on ${ckpt} (exit ${r.status})`);
    process.exit(1);
  }
  console.log(`## ${ckpt}\n${r.stdout}`);
  const json = JSON.parse(readFileSync(tmp, 'utf8'));
  all.push({ checkpoint: ckpt, model: json.model, shots: json.shots, limit: json.limit, results: json.results.map(({ samples, ...rest }) => rest) });
}
writeFileSync(join(here, '../results/eval-tasks.json'), `${JSON.stringify({ date: new Date().toISOString(), runs: all }, null, 2)}\n`);
console.log('wrote benchmarks/results/eval-tasks.json');
