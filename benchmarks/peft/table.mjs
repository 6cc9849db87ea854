// Merge sft.mjs result files of one base and task (e.g. learning-rate sweeps run as separate
// processes) into one table: every run is kept under `runs`, the table shows each method at the
// learning rate with the lowest best val loss, and the verdict compares the best full fine-tuning
// run with the best LoRA run with < 1% trainable (the margin is the files' own, stated up front).
//
//   node benchmarks/peft/table.mjs --out benchmarks/results/peft.json benchmarks/results/peft-continue-*.json
import { readFileSync, writeFileSync } from 'node:fs';
import { tableOf, verdictOf } from './report.mjs';

const args = process.argv.slice(2);
const outAt = args.indexOf('--out');
const out = outAt >= 0 ? args[outAt + 1] : null;
const files = args.filter((_, i) => outAt < 0 || (i !== outAt && i !== outAt + 1));
if (!out || files.length === 0) throw new Error('usage: node benchmarks/peft/table.mjs --out FILE result.json…');
const docs = files.map((f) => ({ file: f, ...JSON.parse(readFileSync(f, 'utf8')) }));
const same = (pick, what) => {
  const vs = new Set(docs.map((d) => JSON.stringify(pick(d))));
  if (vs.size > 1) throw new Error(`the files differ in ${what}: ${[...vs].join(' vs ')}`);
};
same((d) => d.base, 'base');
same((d) => ({ ...d.task }), 'task');
same((d) => d.training, 'training');
same((d) => d.margin, 'margin');
same((d) => d.mode, 'mode');
const runs = docs.flatMap((d) => d.rows.map((r) => ({ ...r, file: d.file, command: d.command })));
const KEYS = ['full', 'lora', 'lora-all', 'lora-attn', 'dora', 'qlora', 'prompt', 'prefix', 'ia3', 'adapter'];
const rank = (k) => (KEYS.includes(k) ? KEYS.indexOf(k) : KEYS.length);
const order = [...new Set(runs.map((r) => r.key))].sort((a, b) => rank(a) - rank(b));
const chosen = order.map((k) => runs.filter((r) => r.key === k).reduce((a, r) => (r.bestValLoss < a.bestValLoss ? r : a)));
const lines = tableOf(chosen);
const { margin } = docs[0];
const verdict = verdictOf(runs, margin);
const sweep = order.map((k) => `${k}: ${runs.filter((r) => r.key === k).map((r) => `lr ${r.lr} → ${r.bestValLoss.toFixed(4)}`).join(', ')}`);
console.log(lines.join('\n'));
console.log(`\nsweeps (best val loss):\n${sweep.join('\n')}\n\n${verdict}`);
const d0 = docs[0];
writeFileSync(
  out,
  JSON.stringify(
    {
      machine: [...new Set(docs.map((d) => d.machine))].join(' | '),
      commands: docs.map((d) => d.command),
      merged: `node benchmarks/peft/table.mjs --out ${out} ${files.join(' ')}`,
      date: docs.map((d) => d.date).sort().at(-1),
      mode: d0.mode,
      data: d0.data,
      base: d0.base,
      task: d0.task,
      training: d0.training,
      baseTaskValLoss: d0.baseTaskValLoss,
      margin,
      selection: 'each method at the swept learning rate with the lowest best val loss (selected on the same val set: the same optimism for every method)',
      rows: chosen,
      runs,
      sweep,
      skipped: docs.flatMap((d) => d.skipped ?? []),
      verdict,
      table: lines.join('\n'),
    },
    null,
    2,
  ) + '\n',
);
