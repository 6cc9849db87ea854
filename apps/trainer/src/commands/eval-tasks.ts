/**
 * `llm-train eval --task`: lm-evaluation-harness-style task evaluation of a checkpoint. Each task
 * file is read (@llm/train's format: an optional {"task": {...}} line, then items), scored with
 * k-shot prompts — multiple choice by log-likelihood (acc, acc_norm), generation greedily with
 * exact match after the task's regex — with a progress bar, then printed as one table; --out
 * writes the results and every item's prompt, scores and prediction as JSON.
 *
 *   llm-train eval --checkpoint out/best --task tasks/arithmetic-mc.jsonl tasks/story-facts.jsonl --shots 3
 *   // | task          | n-shot | metric   |  value |   stderr |
 *   // | arithmetic-mc |      3 | acc      | 0.3100 | ± 0.0465 |
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { CausalLM } from '@llm/transformer';
import { evaluateTask, formatResultsTable, readTask, TrainError, type EvalTokenizer, type TaskResult } from '@llm/train';
import { CliError } from '../options.js';
import { createCountProgress } from '../progress.js';

export async function evalTasks(model: CausalLM, tok: EvalTokenizer, o: Record<string, unknown>, label: string): Promise<TaskResult[]> {
  const tasks = await Promise.all(
    (o.task as string[]).map((f) =>
      readTask(f).catch((e: unknown) => {
        if (e instanceof TrainError) throw new CliError(e.message, e.code === 'DATA_MISSING' ? 2 : 1);
        throw e;
      }),
    ),
  );
  const shots = o.shots as number;
  const tooFew = tasks.find((t) => t.items.length <= shots);
  if (tooFew) throw new CliError(`--shots ${shots}: task ${tooFew.name} has ${tooFew.items.length} items; shots are drawn from the other items, so it needs at least ${shots + 1}`);
  const results: TaskResult[] = [];
  for (const task of tasks) {
    let progress: ReturnType<typeof createCountProgress> | null = null;
    const r = evaluateTask(model, tok, task, {
      shots,
      seed: o.seed as number,
      batchSize: o.batchSize as number,
      samples: o.out !== undefined,
      ...(o.limit !== undefined ? { limit: o.limit as number } : {}),
      onProgress: (done, total) => {
        progress ??= createCountProgress(`${task.name} (${task.type === 'generate' ? 'items' : 'choices'})`, total, { tty: Boolean(process.stderr.isTTY) });
        progress.update(done);
      },
    });
    (progress as ReturnType<typeof createCountProgress> | null)?.stop();
    results.push(r);
  }
  process.stdout.write(`${formatResultsTable(results)}\n`);
  if (o.out) {
    const path = o.out as string;
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, `${JSON.stringify({ model: label, shots, seed: o.seed, limit: o.limit ?? null, batchSize: o.batchSize, date: new Date().toISOString(), results }, null, 2)}\n`);
    process.stderr.write(`wrote ${path}\n`);
  }
  return results;
}
