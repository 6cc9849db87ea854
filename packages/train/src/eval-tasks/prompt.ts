/**
 * k-shot prompts, as lm-evaluation-harness builds them: the description, then k other items of
 * the task rendered as context + targetDelimiter + answer, joined (and followed) by
 * fewshotDelimiter, then the item's own context. The shots of item i are drawn without replacement
 * from the other items by a generator seeded with (seed, i), so a prompt does not depend on --limit
 * or on which items came before it.
 *
 *   // items: [{context:'1+1=', target:'2'}, {context:'2+2=', target:'4'}, {context:'3+3=', target:'6'}]
 *   fewShotPrompt(task, 2, { shots: 1, seed: 1234 })   // e.g. '1+1= 2\n\n3+3='
 *   shotIndices(3, 2, 1, 1234)                          // e.g. [0] (never 2)
 */
import { Rng, hashSeed } from '@llm/tensor-gpu';
import { TrainError } from '../errors.js';
import type { Task } from './task.js';

export interface ShotOptions {
  /** Number of solved examples in front of the item (0 = zero-shot). */
  shots: number;
  /** Seed of the shot draw. Default 1234 (lm-eval's default fewshot seed). */
  seed?: number;
}

/** Indices of the `shots` items shown in front of item `index` (all ≠ index, distinct, in draw order). */
export function shotIndices(count: number, index: number, shots: number, seed = 1234): number[] {
  if (!Number.isInteger(shots) || shots < 0) throw new TrainError('INVALID_ARGUMENT', `shots must be an integer ≥ 0, got ${shots}`);
  if (shots > count - 1) throw new TrainError('INVALID_ARGUMENT', `${shots} shots need at least ${shots + 1} items in the task file, it has ${count}`);
  const rng = new Rng(hashSeed(seed, index));
  const pool = Array.from({ length: count - 1 }, (_, j) => (j < index ? j : j + 1)); // every index but `index`
  for (let j = 0; j < shots; j++) {
    const pick = j + Math.floor(rng.next() * (pool.length - j)); // partial Fisher–Yates
    [pool[j], pool[pick]] = [pool[pick]!, pool[j]!];
  }
  return pool.slice(0, shots);
}

/** The answer an item shows when it is a shot: the gold choice, or the target. */
export function answerOf(task: Task, index: number): string {
  if (task.type === 'multiple_choice') {
    const item = task.items[index]!;
    return item.choices[item.gold]!;
  }
  return task.items[index]!.target;
}

/** The prompt (context) for item `index` with its shots in front. */
export function fewShotPrompt(task: Task, index: number, opts: ShotOptions): string {
  const shots = shotIndices(task.items.length, index, opts.shots, opts.seed).map((j) => task.items[j]!.context + task.targetDelimiter + answerOf(task, j));
  return task.description + shots.map((s) => s + task.fewshotDelimiter).join('') + task.items[index]!.context;
}
