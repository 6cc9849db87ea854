// llm-train's alignment commands end to end, as a user runs them (the built bin in a child process):
// dpo (full and --peft lora) writes checkpoints and TRL-named metrics, bad preference data and a
// reference with another vocabulary are one line, exit 1 and nothing in --out; reward / classify
// print their held-out metric; grpo runs a reward module; rlaif critique writes rows sft accepts.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
let root: string;

function cli(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: root, timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const lines = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n');
const metrics = async (dir: string) => (await readFile(join(root, dir, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
const TINY = ['--n-layer', '1', '--n-head', '2', '--n-embd', '32', '--batch-size', '2', '--eval-iters', '1', '--warmup-iters', '1', '--max-iters', '1', '--eval-interval', '0'];
const RUN = ['--init', 'base/checkpoint', '--template', 'none', '--batch-size', '4', '--eval-iters', '1', '--warmup-iters', '1', '--log-interval', '1'];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'llm-align-'));
  await writeFile(join(root, 'text.txt'), 'the cat sat on the mat and the dog ran. '.repeat(300));
  // the preferred answer is known: " yes" over " no"
  await writeFile(join(root, 'prefs.jsonl'), lines(Array.from({ length: 24 }, (_, i) => ({ prompt: `Q${i % 6}:`, chosen: ' yes', rejected: ' no' }))));
  await writeFile(join(root, 'identical.jsonl'), lines([{ prompt: 'a', chosen: 'x', rejected: 'y' }, { prompt: 'b', chosen: 'same', rejected: 'same' }]));
  await writeFile(join(root, 'empty.jsonl'), lines([{ prompt: 'a', chosen: 'x', rejected: 'y' }, { prompt: 'b', chosen: '', rejected: 'y' }]));
  await writeFile(join(root, 'cls.jsonl'), lines(Array.from({ length: 24 }, (_, i) => ({ text: i % 2 ? 'good cat' : 'bad dog', label: i % 2 ? 'pos' : 'neg' }))));
  await writeFile(join(root, 'prompts.txt'), 'Say hi.\nName a color.\n');
  await writeFile(join(root, 'reward.mjs'), 'export default function countA({ completion }) { return [...completion].filter((c) => c === "a").length; }\n');
  const b = cli(['pretrain', '--data', 'text.txt', '--out', 'base', '--tokenizer', 'byte', '--block-size', '512', ...TINY]);
  expect(b.code, b.stderr).toBe(0);
  const c = cli(['pretrain', '--data', 'text.txt', '--out', 'other', '--tokenizer', 'char', '--block-size', '32', ...TINY]);
  expect(c.code, c.stderr).toBe(0);
});
afterAll(() => rm(root, { recursive: true, force: true }));

describe('llm-train alignment', () => {
  it('dpo writes checkpoint/ best/ and metrics.jsonl with TRL names; held-out accuracy on stdout; --peft lora writes an adapter', async () => {
    const d = cli(['dpo', ...RUN, '--data', 'prefs.jsonl', '--out', 'dpo', '--max-iters', '4', '--eval-interval', '2', '--lr', '1e-2', '--val-fraction', '0.25']);
    expect(d.code, d.stderr).toBe(0);
    expect(d.stderr).toMatch(/^dpo: 18 train \/ 6 val pairs · β 0\.1 · lr 0\.01 · reference: frozen base[/\\]checkpoint · template none$/m);
    expect(d.stdout).toMatch(/^held-out \(6 pairs\): rewards\/accuracies 1\.0000 · rewards\/margins \d/);
    for (const f of ['checkpoint/model.safetensors', 'checkpoint/trainer_state.json', 'best/model.safetensors', 'loss.svg', 'run.json']) expect(existsSync(join(root, 'dpo', f)), f).toBe(true);
    const m = await metrics('dpo');
    expect(m.find((l) => l.loss !== null)).toHaveProperty('rewards/accuracies');
    expect(m.find((l) => l.loss !== null)).toHaveProperty('logps/chosen');
    expect(m.at(-1)).toHaveProperty('eval_rewards/accuracies', 1);

    const l = cli(['dpo', ...RUN, '--data', 'prefs.jsonl', '--out', 'lora', '--max-iters', '2', '--eval-interval', '0', '--peft', 'lora', '--lora-r', '4']);
    expect(l.code, l.stderr).toBe(0);
    expect(l.stderr).toMatch(/reference: the base with the adapter disabled/);
    expect(l.stderr).toMatch(/^peft: lora r 4 .* lr 0\.0005$/m);
    expect(JSON.parse(await readFile(join(root, 'lora/adapter/adapter_config.json'), 'utf8'))).toMatchObject({ peft_type: 'LORA', r: 4 });
    expect(existsSync(join(root, 'lora/checkpoint/model.safetensors'))).toBe(false);
  });

  it('bad preference rows and a reference with another vocabulary: one line naming the cause, exit 1, nothing written', () => {
    const cases: Array<[string[], RegExp]> = [
      [['--data', 'identical.jsonl'], /^llm-train: identical\.jsonl:2: "chosen" and "rejected" are identical/],
      [['--data', 'empty.jsonl'], /^llm-train: empty\.jsonl:2: field "chosen" is empty/],
      [['--data', 'prefs.jsonl', '--ref', 'other/checkpoint'], /^llm-train: --ref other\/checkpoint: its vocabulary has \d+ tokens and the policy's \(base\/checkpoint\) 256/],
    ];
    for (const [args, msg] of cases) {
      const r = cli(['dpo', ...RUN, ...args, '--out', 'never']);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr.trim().split('\n').at(-1), args.join(' ')).toMatch(msg);
      expect(existsSync(join(root, 'never')), args.join(' ')).toBe(false);
    }
  });

  it('reward and classify train a head and print the held-out metric', async () => {
    const r = cli(['reward', ...RUN, '--data', 'prefs.jsonl', '--out', 'rm', '--max-iters', '3', '--eval-interval', '3', '--lr', '1e-2']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^held-out \(2 pairs\): accuracy [\d.]+ · margin -?[\d.]+/);
    expect(JSON.parse(await readFile(join(root, 'rm/best/config.json'), 'utf8'))).toMatchObject({ architectures: ['GPT2ForSequenceClassification'] });
    const c = cli(['classify', '--init', 'base/checkpoint', '--data', 'cls.jsonl', '--out', 'cls', '--max-iters', '3', '--eval-interval', '3', '--eval-iters', '1', '--warmup-iters', '1', '--batch-size', '4', '--lr', '1e-2', '--freeze-backbone']);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout).toMatch(/^held-out \(2 rows\): accuracy [\d.]+ · f1 [\d.]+ \(macro\)$/m);
    expect(JSON.parse(await readFile(join(root, 'cls/best/config.json'), 'utf8'))).toMatchObject({ id2label: { 0: 'neg', 1: 'pos' } });
  });

  it('grpo with a reward module runs 2 steps and writes metrics; rlaif critique writes rows that sft accepts', async () => {
    const g = cli(['grpo', '--init', 'base/checkpoint', '--prompts', 'prompts.txt', '--reward', 'reward.mjs', '--out', 'grpo', '--steps', '2', '--num-generations', '2', '--max-new-tokens', '4', '--template', 'none', '--beta', '0.04']);
    expect(g.code, g.stderr).toBe(0);
    const m = await metrics('grpo');
    expect(m.map((l) => l.step)).toEqual([1, 2]);
    for (const k of ['reward', 'reward_std', 'rewards/countA/mean', 'kl', 'entropy']) expect(m[1], k).toHaveProperty(k);
    expect(existsSync(join(root, 'grpo/checkpoint/model.safetensors'))).toBe(true);
    expect(g.stdout).toMatch(/^grpo: reward [\d.]+ \(step 1\) → [\d.]+ \(step 2\) · kl /);

    const c = cli(['rlaif', 'critique', '--init', 'base/checkpoint', '--prompts', 'prompts.txt', '--out', 'cai.jsonl', '--template', 'none', '--max-new-tokens', '4']);
    expect(c.code, c.stderr).toBe(0);
    const rows = (await readFile(join(root, 'cai.jsonl'), 'utf8')).trim().split('\n').map((x) => JSON.parse(x) as Record<string, unknown>);
    expect(rows.map((x) => x.prompt)).toEqual(['Say hi.', 'Name a color.']);
    const s = cli(['sft', '--init', 'base/checkpoint', '--data', 'cai.jsonl', '--out', 'sft', '--max-iters', '1', '--eval-interval', '0', '--batch-size', '2', '--val-fraction', '0']);
    expect(s.code, s.stderr).toBe(0);
  });
});
