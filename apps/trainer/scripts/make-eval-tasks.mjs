// Writes the example evaluation tasks (apps/trainer/tasks/*.jsonl) from the project's own
// generators (src/corpus/eval-tasks.ts; no third-party text). Run after `npx tsup` in apps/trainer:
//
//   node apps/trainer/scripts/make-eval-tasks.mjs        # → tasks/arithmetic-add.jsonl, arithmetic-mc.jsonl, story-facts.jsonl
//
// src/corpus/eval-tasks.test.ts checks the committed files equal what this writes.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { makeEvalTasks } from '../dist/index.js';

const dir = fileURLToPath(new URL('../tasks/', import.meta.url));
for (const [name, lines] of Object.entries(makeEvalTasks({ seed: 7, items: 100 }))) {
  writeFileSync(`${dir}${name}.jsonl`, `${lines.join('\n')}\n`);
  console.log(`tasks/${name}.jsonl: ${lines.length - 1} items`);
}
