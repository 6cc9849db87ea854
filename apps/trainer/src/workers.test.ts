// `--workers`: the auto rule and the batch split (unit), bad values refused before any work, and the
// built bin training data-parallel: the same kind of checkpoint, the same weights as one process with
// the same batch (trainParallel: 2 workers × B/2 windows = 1 process × B windows), exact resume with
// another worker count, and sft (full and LoRA) through the workers' setup module (an SFT resume
// keeps its micro-batch size: its data position counts them).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTO_MIN_RUN_FLOPS, AUTO_MIN_STEP_FLOPS, autoWorkers, splitBatch } from './workers.js';
import { CliError } from './options.js';

const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
let root: string;

function cli(args: string[]): { code: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: root, timeout: 120_000 });
  return { code: r.status, stderr: r.stderr };
}

/** name → float32 values of a safetensors file (F32 tensors). */
async function weights(path: string): Promise<Map<string, Float32Array>> {
  const buf = await readFile(path);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8')) as Record<string, { dtype: string; data_offsets: [number, number] }>;
  const out = new Map<string, Float32Array>();
  for (const [name, t] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const bytes = buf.subarray(8 + n + t.data_offsets[0], 8 + n + t.data_offsets[1]);
    out.set(name, new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)));
  }
  return out;
}

async function maxDiff(a: string, b: string): Promise<number> {
  const [wa, wb] = [await weights(a), await weights(b)];
  expect([...wa.keys()].sort()).toEqual([...wb.keys()].sort());
  let d = 0;
  for (const [k, x] of wa) {
    const y = wb.get(k)!;
    expect(y.length, k).toBe(x.length);
    for (let i = 0; i < x.length; i++) d = Math.max(d, Math.abs(x[i]! - y[i]!));
  }
  return d;
}

const TINY = ['--data', 'text.txt', '--n-layer', '1', '--n-head', '2', '--n-embd', '32', '--block-size', '32', '--batch-size', '4', '--eval-iters', '1', '--eval-interval', '4', '--warmup-iters', '2', '--lr-decay-iters', '8', '--lr', '3e-3'];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'llm-workers-'));
  const lines = Array.from({ length: 1500 }, (_, i) => `the ${['cat', 'dog', 'owl'][i % 3]} sat on mat ${i % 37}.`);
  await writeFile(join(root, 'text.txt'), lines.join(' '));
});
afterAll(() => rm(root, { recursive: true, force: true }));

describe('autoWorkers (the --workers auto rule)', () => {
  const nanoGpt = { params: 800_000, batchSize: 12, gradAccum: 1, blockSize: 64, iters: 2000 };
  it('one worker per core for a run big enough, dividing the step', () => {
    expect(6 * nanoGpt.params * 12 * 64).toBeGreaterThan(AUTO_MIN_STEP_FLOPS);
    expect(autoWorkers({ ...nanoGpt, cores: 2 }).workers).toBe(2);
    expect(autoWorkers({ ...nanoGpt, cores: 8 }).workers).toBe(6); // 8, 7 do not divide 12
    expect(autoWorkers({ ...nanoGpt, batchSize: 5, gradAccum: 2, cores: 4 }).workers).toBe(2);
    expect(autoWorkers({ ...nanoGpt, batchSize: 7, cores: 4 })).toMatchObject({ workers: 1, why: expect.stringMatching(/divides/) });
  });
  it('in-process for one core, a small step or a short run', () => {
    expect(autoWorkers({ ...nanoGpt, cores: 1 }).workers).toBe(1);
    expect(autoWorkers({ params: 21_600, batchSize: 4, gradAccum: 1, blockSize: 32, iters: 10_000, cores: 2 })).toMatchObject({ workers: 1, why: expect.stringMatching(/small step/) });
    const step = 6 * nanoGpt.params * 12 * 64;
    expect(autoWorkers({ ...nanoGpt, iters: Math.floor(AUTO_MIN_RUN_FLOPS / step) - 1, cores: 2 })).toMatchObject({ workers: 1, why: expect.stringMatching(/short run/) });
  });
});

describe('splitBatch', () => {
  it("each replica's micro-batch and accumulation cover the step's sequences", () => {
    expect(splitBatch(12, 1, 2)).toEqual({ batchSize: 6, gradAccum: 1 });
    expect(splitBatch(12, 4, 2)).toEqual({ batchSize: 12, gradAccum: 2 }); // whole micro-batches
    expect(splitBatch(6, 2, 4)).toEqual({ batchSize: 3, gradAccum: 1 });
    expect(splitBatch(4, 1, 1)).toEqual({ batchSize: 4, gradAccum: 1 });
    expect(() => splitBatch(4, 1, 3)).toThrow(CliError);
    expect(() => splitBatch(4, 1, 3)).toThrow(/--workers 3 must divide the sequences of a step \(--batch-size 4 × --grad-accum 1 = 4\)/);
  });
});

describe('llm-train --workers', () => {
  it('bad values: one clear line, exit 2, nothing written', async () => {
    await writeFile(join(root, 'bad.json'), JSON.stringify({ workers: 'many' }));
    const cases: Array<[string[], RegExp]> = [
      [['--workers', 'lots'], /--workers must be "auto" or an integer in \[1, 48\], got "lots"/],
      [['--workers', '0'], /--workers must be "auto" or an integer in \[1, 48\], got "0"/],
      [['--workers', '1.5'], /--workers must be "auto" or an integer/],
      [['--workers', '3'], /--workers 3 must divide the sequences of a step \(--batch-size 4 × --grad-accum 1 = 4\)/],
      [['--config', 'bad.json'], /"workers" in bad\.json must be "auto" or an integer/],
    ];
    for (const [args, msg] of cases) {
      const r = cli(['pretrain', ...TINY, ...args, '--out', 'never']);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(msg);
    }
    const s = cli(['sft', '--data', 'x.jsonl', '--batch-size', '4', '--workers', '3', '--out', 'never']);
    expect(s.code).toBe(2);
    expect(s.stderr).toMatch(/--workers 3 must divide/);
    expect(existsSync(join(root, 'never'))).toBe(false);
    expect(cli(['pretrain', '--help']).code).toBe(0);
  });

  it('2 workers: the checkpoint and weights of 1 process with the same batch; resume with either count is exact', async () => {
    const one = cli(['pretrain', ...TINY, '--max-iters', '8', '--out', 'w1', '--workers', '1']);
    expect(one.code, one.stderr).toBe(0);
    expect(one.stderr).not.toMatch(/workers:/);
    const two = cli(['pretrain', ...TINY, '--max-iters', '4', '--out', 'w2', '--workers', '2']);
    expect(two.code, two.stderr).toBe(0);
    expect(two.stderr).toMatch(/workers: 2 data-parallel replicas/);
    expect(two.stderr).toMatch(/model: gpt2 · .*params/);
    for (const f of ['config.json', 'model.safetensors', 'optimizer.safetensors', 'tokenizer.json', 'trainer_state.json']) expect(existsSync(join(root, 'w2/checkpoint', f)), f).toBe(true);
    for (const f of ['best/model.safetensors', 'metrics.jsonl', 'loss.svg']) expect(existsSync(join(root, 'w2', f)), f).toBe(true);
    expect(JSON.parse(await readFile(join(root, 'w2/run.json'), 'utf8'))).toMatchObject({ options: { workers: 2 }, workers: 2 });
    expect(JSON.parse(await readFile(join(root, 'w2/checkpoint/trainer_state.json'), 'utf8')).step).toBe(4);
    // resume the 2-worker run with 1 worker (run.json says 2; the flag wins)
    const r1 = cli(['pretrain', '--out', 'w2', '--resume', '--max-iters', '8', '--workers', '1']);
    expect(r1.code, r1.stderr).toBe(0);
    expect(r1.stderr).toMatch(/resumed at step 4/);
    expect(await maxDiff(join(root, 'w1/checkpoint/model.safetensors'), join(root, 'w2/checkpoint/model.safetensors'))).toBeLessThan(1e-5);
    // a 1-worker run resumed with 2 (its run.json says 1; the flag wins)
    const a = cli(['pretrain', ...TINY, '--max-iters', '4', '--out', 'w3', '--workers', '1']);
    expect(a.code, a.stderr).toBe(0);
    const r2 = cli(['pretrain', '--out', 'w3', '--resume', '--max-iters', '8', '--workers', '2']);
    expect(r2.code, r2.stderr).toBe(0);
    expect(r2.stderr).toMatch(/workers: 2 data-parallel replicas[\s\S]*resumed at step 4/);
    expect(await maxDiff(join(root, 'w1/checkpoint/model.safetensors'), join(root, 'w3/checkpoint/model.safetensors'))).toBeLessThan(1e-5);
    const metrics = (await readFile(join(root, 'w3/metrics.jsonl'), 'utf8')).trim().split('\n');
    expect(metrics.length).toBeGreaterThan(2);
  });

  it('with --grad-accum: 2 workers × 1 micro-batch of 3 = 1 process × 2 micro-batches of 3', async () => {
    const args = [...TINY, '--batch-size', '3', '--grad-accum', '2', '--max-iters', '3'];
    const one = cli(['pretrain', ...args, '--out', 'ga1', '--workers', '1']);
    expect(one.code, one.stderr).toBe(0);
    const two = cli(['pretrain', ...args, '--out', 'ga2', '--workers', '2']);
    expect(two.code, two.stderr).toBe(0);
    expect(await maxDiff(join(root, 'ga1/checkpoint/model.safetensors'), join(root, 'ga2/checkpoint/model.safetensors'))).toBeLessThan(1e-5);
  });

  it('sft and sft --peft lora with 2 workers', async () => {
    const chat = [
      { prompt: 'What does a cow say?', response: 'A cow says moo.' },
      { messages: [{ role: 'user', content: 'Hi!' }, { role: 'assistant', content: 'Hello, friend!' }] },
    ];
    await writeFile(join(root, 'chat.jsonl'), Array.from({ length: 20 }, (_, i) => JSON.stringify(chat[i % 2])).join('\n'));
    const base = cli(['pretrain', ...TINY, '--block-size', '128', '--max-iters', '2', '--out', 'base', '--workers', '1']);
    expect(base.code, base.stderr).toBe(0);
    const common = ['--init', 'base/checkpoint', '--data', 'chat.jsonl', '--max-iters', '4', '--eval-interval', '2', '--batch-size', '4', '--eval-iters', '1', '--val-fraction', '0.2', '--workers', '2'];
    const s = cli(['sft', ...common, '--out', 'sft2']);
    expect(s.code, s.stderr).toBe(0);
    expect(s.stderr).toMatch(/workers: 2 data-parallel replicas/);
    expect(existsSync(join(root, 'sft2/checkpoint/model.safetensors'))).toBe(true);
    const l = cli(['sft', ...common, '--out', 'lora2', '--peft', 'lora']);
    expect(l.code, l.stderr).toBe(0);
    expect(existsSync(join(root, 'lora2/adapter/adapter_model.safetensors'))).toBe(true);
    // its data position counts micro-batches of 2 examples: 1 worker (micro-batches of 4) is refused, auto keeps 2
    const other = cli(['sft', '--out', 'lora2', '--resume', '--max-iters', '6', '--workers', '1']);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/--resume --workers 1: this SFT run started with 2 worker\(s\), drawing micro-batches of 2 example\(s\)/);
    const r = cli(['sft', '--out', 'lora2', '--resume', '--max-iters', '6']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/workers: 2 data-parallel replicas/);
    expect(JSON.parse(await readFile(join(root, 'lora2/checkpoint/trainer_state.json'), 'utf8')).step).toBe(6);
  });
});
