// llm-train eval --task and llm-train plan as a user runs them (the built bin in a child process):
// a tiny model trained for a few steps, scored on the shipped example tasks; bad usage → exit 2.
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCorpus } from './corpus/generator.js';

const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const TASKS = fileURLToPath(new URL('../tasks/', import.meta.url));
let root: string;

function cli(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: root, timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'llm-evalplan-'));
  await writeFile(join(root, 'stories.txt'), generateCorpus({ seed: 3, bytes: 20_000 }));
  const r = cli(['pretrain', '--data', 'stories.txt', '--out', 'run', '--max-iters', '3', '--eval-interval', '0', '--n-layer', '1', '--n-head', '2', '--n-embd', '16', '--block-size', '32', '--batch-size', '2', '--eval-iters', '1', '--warmup-iters', '1']);
  if (r.code !== 0) throw new Error(r.stderr);
});
afterAll(() => rm(root, { recursive: true, force: true }));

describe('llm-train eval --task', () => {
  it('multiple choice and generation tasks: a table on stdout, JSON with every item to --out', async () => {
    const r = cli(['eval', '--checkpoint', 'run', '--task', join(TASKS, 'story-facts.jsonl'), join(TASKS, 'arithmetic-add.jsonl'), '--limit', '4', '--shots', '1', '--batch-size', '3', '--out', 'res/eval.json']);
    expect(r.code, r.stderr).toBe(0);
    const rows = r.stdout.trim().split('\n');
    expect(rows[0]).toMatch(/^\| task +\| n-shot \| metric +\| +value \| +stderr \|$/);
    expect(rows.slice(2).map((l) => l.split('|')[3]!.trim())).toEqual(['acc', 'acc_norm', 'exact_match']);
    expect(r.stderr).toMatch(/story-facts \(choices\): 16\/16/); // 4 items × 4 choices, the last progress line
    const json = JSON.parse(await readFile(join(root, 'res/eval.json'), 'utf8'));
    expect(json).toMatchObject({ shots: 1, limit: 4, seed: 1234, batchSize: 3 });
    const [facts, add] = json.results;
    expect(facts).toMatchObject({ task: 'story-facts', type: 'multiple_choice', n: 4, shots: 1 });
    expect(facts.samples).toHaveLength(4);
    expect(facts.samples[0].logprobs).toHaveLength(4);
    // acc is the mean of the items' scores, and each score is the argmax of its log-likelihoods
    const mean = facts.samples.reduce((a: number, s: { scores: { acc: number } }) => a + s.scores.acc, 0) / 4;
    expect(facts.metrics.acc.value).toBeCloseTo(mean, 12);
    const items = (await readFile(join(TASKS, 'story-facts.jsonl'), 'utf8')).trim().split('\n').slice(1, 5).map((l) => JSON.parse(l) as { choices: string[]; gold: number });
    const argmax = (xs: number[]) => xs.indexOf(Math.max(...xs));
    facts.samples.forEach((s: { logprobs: number[]; scores: { acc: number; acc_norm: number } }, i: number) => {
      const { choices, gold } = items[i]!;
      expect(s.scores.acc).toBe(argmax(s.logprobs) === gold ? 1 : 0);
      expect(s.scores.acc_norm).toBe(argmax(s.logprobs.map((lp, j) => lp / choices[j]!.length)) === gold ? 1 : 0);
    });
    expect(add).toMatchObject({ task: 'arithmetic-add', type: 'generate', n: 4 });
    expect(add.samples[0]).toHaveProperty('answer');
    expect(add.samples[0].prompt).toMatch(/^Question: What is \d+ plus \d+\?\nAnswer: \d+\n\nQuestion: /); // one shot in front
  });

  it('bad usage: one line, exit 2', async () => {
    await writeFile(join(root, 'two.jsonl'), '{"context":"a","target":"b"}\n{"context":"c","target":"d"}\n');
    const cases: Array<[string[], RegExp]> = [
      [['eval', '--checkpoint', 'run'], /--data \(perplexity\) or --task \(task evaluation\) is required/],
      [['eval', '--checkpoint', 'run', '--data', 'stories.txt', '--task', 'two.jsonl'], /not both/],
      [['eval', '--checkpoint', 'run', '--task', 'missing.jsonl'], /task file missing\.jsonl does not exist/],
      [['eval', '--checkpoint', 'run', '--task', 'two.jsonl', '--shots', '2'], /--shots 2: task two has 2 items/],
      [['eval', '--checkpoint', 'run', '--data', 'stories.txt', '--limit', '3'], /--limit applies to --task only/],
    ];
    for (const [args, msg] of cases) {
      const r = cli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n').at(-1), args.join(' ')).toMatch(msg);
    }
  });
});

describe('llm-train plan', () => {
  it('--params without a probe: Chinchilla tokens, 6·N·D, the model config’s memory', () => {
    const r = cli(['plan', '--params', '1e4', '--no-probe', '--n-layer', '1', '--n-head', '2', '--n-embd', '8', '--block-size', '4', '--vocab-size', '10', '--batch-size', '2', '--bias']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/model: gpt2 · 1.00K params · 1 layers/); // the hand-counted 1,000 of plan.test.ts
    expect(r.stdout).toMatch(/tokens D +200,000 \(20\.0 tokens per parameter/);
    expect(r.stdout).toMatch(/6·N·D = 1\.200e\+10 FLOPs/);
    expect(r.stdout).toMatch(/memory of this model at batch 2 .*: 20\.75 KiB = weights 3\.91 KiB \+ gradients 3\.91 KiB \+ AdamW m, v 7\.81 KiB \+ activations 5\.13 KiB/); // 21,248 B; 5,248 B
    expect(r.stdout).toMatch(/wall time +not estimated/);
  });

  it('--minutes probes the real loop here and turns the time into tokens; --json via --out', async () => {
    const r = cli(['plan', '--minutes', '2', '--n-layer', '1', '--n-head', '2', '--n-embd', '16', '--block-size', '16', '--vocab-size', '64', '--batch-size', '2', '--probe-steps', '2', '--probe-warmup', '1', '--out', 'plan.json']);
    expect(r.code, r.stderr).toBe(0);
    const p = JSON.parse(await readFile(join(root, 'plan.json'), 'utf8'));
    expect(p.tokens).toBeCloseTo(p.probe.tokensPerSec * 120, 6);
    expect(p.seconds).toBeCloseTo(120, 6);
    expect(p.measuredPeakBytes).toBeGreaterThan(p.memory.weights);
    expect(r.stdout).toMatch(/wall time +2m 00s/);
  });

  it('bad usage: exit 2', () => {
    expect(cli(['plan', '--no-probe']).stderr).toMatch(/one of --params, --tokens, --minutes is required/);
    expect(cli(['plan', '--params', '1', '--tokens', '2', '--no-probe']).code).toBe(2);
    expect(cli(['plan', '--minutes', '1', '--no-probe']).stderr).toMatch(/--minutes needs the probe/);
  });
});

describe('formatDuration', () => {
  it('rounds before splitting into units', async () => {
    const { formatDuration } = await import('./commands/plan.js');
    expect(formatDuration(9.5)).toBe('9.5 s');
    expect(formatDuration(75)).toBe('1m 15s');
    expect(formatDuration(119.9999)).toBe('2m 00s');
    expect(formatDuration(3599.6)).toBe('1h 00m');
    expect(formatDuration(19_512)).toBe('5h 25m');
    expect(formatDuration(400_000)).toBe('4.6 days');
  });
});
