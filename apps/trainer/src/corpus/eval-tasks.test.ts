// The example task files: the committed ones are what the generator writes, they parse as task
// files, and each story-facts item is a recall (the right word already appears in its context;
// the three distractors never do).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseTask } from '@llm/train';
import { makeEvalTasks } from './eval-tasks.js';

const dir = fileURLToPath(new URL('../../tasks/', import.meta.url));

describe('example evaluation tasks', () => {
  const tasks = makeEvalTasks({ seed: 7, items: 100 });

  it('the committed tasks/*.jsonl are the generator’s output (node scripts/make-eval-tasks.mjs)', () => {
    expect(Object.keys(tasks).sort()).toEqual(['arithmetic-add', 'arithmetic-mc', 'story-facts']);
    for (const [name, lines] of Object.entries(tasks)) expect(readFileSync(`${dir}${name}.jsonl`, 'utf8'), name).toBe(`${lines.join('\n')}\n`);
  });

  it('parse as task files with 100 items each; arithmetic answers are the sums', () => {
    const add = parseTask(tasks['arithmetic-add']!.join('\n'));
    const mc = parseTask(tasks['arithmetic-mc']!.join('\n'));
    expect(add).toMatchObject({ name: 'arithmetic-add', type: 'generate', extract: '-?\\d+', until: ['\n'] });
    expect(add.items).toHaveLength(100);
    expect(mc.items).toHaveLength(100);
    for (const [i, item] of add.items.entries()) {
      const [, a, b] = /What is (\d+) plus (\d+)\?/.exec(item.context)!;
      expect((item as { target: string }).target).toBe(String(Number(a) + Number(b)));
      const m = mc.items[i] as { choices: string[]; gold: number; context: string };
      expect(m.context).toBe(item.context);
      expect(m.choices[m.gold]).toBe(String(Number(a) + Number(b)));
      expect(new Set(m.choices).size).toBe(4);
    }
  });

  it('story facts: the right word is in the story already, the distractors are not', () => {
    const facts = parseTask(tasks['story-facts']!.join('\n'));
    expect(facts.type).toBe('multiple_choice');
    expect(facts.items).toHaveLength(100);
    const golds = new Set<number>();
    for (const item of facts.items as Array<{ context: string; choices: string[]; gold: number }>) {
      const has = (w: string) => new RegExp(`\\b${w}\\b`).test(item.context);
      expect(has(item.choices[item.gold]!), item.context).toBe(true);
      expect(item.choices.filter((c, j) => j !== item.gold && has(c)), item.context).toEqual([]);
      golds.add(item.gold);
    }
    expect(golds.size).toBe(4); // the right answer is not always in the same place
  });
});
