// llm-train end to end, as a user runs it (the built bin in a child process): help, bad config
// rejected before any work, pretrain → resume → eval → sample → sft, config files, SIGINT.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCorpus } from './corpus/generator.js';

const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
let root: string;
let text: string;

function cli(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: root, timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const TINY = ['--n-layer', '1', '--n-head', '2', '--n-embd', '32', '--block-size', '32', '--batch-size', '4', '--eval-iters', '2', '--warmup-iters', '2', '--lr', '3e-3'];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'llm-cli-'));
  text = generateCorpus({ seed: 3, bytes: 60_000 });
  await writeFile(join(root, 'stories.txt'), text);
  await writeFile(join(root, 'empty.txt'), '');
});
afterAll(() => rm(root, { recursive: true, force: true }));

describe('llm-train', () => {
  it('--help works for the program and every command', () => {
    const top = cli(['--help']);
    expect(top.code).toBe(0);
    for (const c of ['tokenizer', 'pretrain', 'sft', 'eval', 'sample', 'start']) expect(top.stdout).toContain(c);
    for (const c of ['tokenizer', 'pretrain', 'sft', 'eval', 'sample', 'start']) {
      const r = cli([c, '--help']);
      expect(r.code, c).toBe(0);
      expect(r.stdout, c).toContain('--config');
    }
    expect(cli(['pretrain', '--help']).stdout).toMatch(/--n-layer <int>[\s\S]*--max-iters <int>[\s\S]*--resume/);
  });

  it('bad usage and config: one clear line, exit 2, nothing written', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['pretrain', '--data', 'stories.txt', '--bogus'], /unknown option '--bogus'/],
      [['pretrain', '--data', 'stories.txt', '--n-embd', '130', '--n-head', '4'], /nEmbd \(130\) must be divisible by nHead \(4\)/],
      [['pretrain', '--data', 'missing.txt'], /data file missing\.txt does not exist/],
      [['pretrain', '--data', 'empty.txt'], /data file empty\.txt is empty/],
      [['pretrain', '--data', 'stories.txt', '--lr', 'fast'], /--lr must be a number, got "fast"/],
      [['pretrain', '--data', 'stories.txt', '--dropout', '2'], /--dropout must be in \[0, 0\.99\]/],
      [['pretrain', '--data', 'stories.txt', '--min-lr', '1', '--lr', '0.1'], /minLr must be ≤ lr/],
      [['pretrain'], /--data is required/],
      [['pretrain', '--data', 'stories.txt', '--tokenizer', 'nope.json'], /tokenizer file nope\.json does not exist/],
      [['frobnicate'], /unknown command 'frobnicate'/],
    ];
    for (const [args, msg] of cases) {
      const r = cli([...args, '--out', 'never']);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(msg);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
    }
    await writeFile(join(root, 'bad.json'), JSON.stringify({ nLayers: 2 }));
    const r = cli(['pretrain', '--data', 'stories.txt', '--config', 'bad.json', '--out', 'never']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad\.json: unknown key "nLayers" \(valid: .*nLayer/);
    expect(existsSync(join(root, 'never'))).toBe(false);
  });

  it('pretrain → resume → eval → sample, with a config file whose values flags override', async () => {
    await writeFile(join(root, 'cfg.json'), JSON.stringify({ nLayer: 1, nHead: 2, nEmbd: 32, blockSize: 32, batchSize: 4, evalIters: 2, maxIters: 999, lr: 3e-3 }));
    const r1 = cli(['pretrain', '--data', 'stories.txt', '--out', 'run', '--config', 'cfg.json', '--max-iters', '20', '--eval-interval', '10', '--warmup-iters', '2']);
    expect(r1.code, r1.stderr).toBe(0);
    expect(r1.stderr).toMatch(/model: gpt2 · .* 1 layers · width 32/);
    expect(r1.stderr).toMatch(/step 20\/20 loss/);
    expect(r1.stderr).toMatch(/done: 20 steps/);
    const state1 = JSON.parse(await readFile(join(root, 'run/checkpoint/trainer_state.json'), 'utf8'));
    expect(state1.step).toBe(20);
    const r2 = cli(['pretrain', '--data', 'stories.txt', '--out', 'run', '--config', 'cfg.json', '--max-iters', '30', '--eval-interval', '10', '--warmup-iters', '2', '--resume']);
    expect(r2.code, r2.stderr).toBe(0);
    expect(r2.stderr).toMatch(/reusing .*tokens\.bin/);
    expect(r2.stderr).toMatch(/resumed at step 20/);
    expect(r2.stderr).toMatch(/done: 30 steps/);
    const lines = (await readFile(join(root, 'run/metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(Math.max(...lines.map((l) => l.step))).toBe(30);
    const ev = cli(['eval', '--checkpoint', 'run/best', '--data', 'stories.txt']);
    expect(ev.code, ev.stderr).toBe(0);
    const m = ev.stdout.match(/([\d,]+) tokens · loss ([\d.]+) nats\/token · perplexity ([\d.]+)/);
    expect(m).not.toBeNull();
    expect(Number(m![1]!.replace(/,/g, ''))).toBe(Buffer.byteLength(text) - 1);
    expect(Number(m![3])).toBeLessThan(256); // better than a uniform guess over bytes
    const s = cli(['sample', '--checkpoint', 'run/best', '--prompt', 'Once', '--max-tokens', '40', '--seed', '3']);
    expect(s.code, s.stderr).toBe(0);
    expect(s.stdout.startsWith('Once')).toBe(true);
    expect(s.stdout.length).toBeGreaterThan(10);
    expect(cli(['sample', '--checkpoint', 'run/best', '--prompt', 'Once', '--max-tokens', '40', '--seed', '3']).stdout).toBe(s.stdout);
    const distilled = cli(['pretrain', '--data', 'stories.txt', '--out', 'student', '--teacher', 'run/best', '--max-iters', '4', '--eval-interval', '2', ...TINY, '--n-embd', '16', '--no-scale-residual-init']);
    expect(distilled.code, distilled.stderr).toBe(0);
    expect(distilled.stderr).toMatch(/teacher: gpt2 .* distillation T 2, alpha 0\.5/);
    expect(JSON.parse(await readFile(join(root, 'student/checkpoint/config.json'), 'utf8')).llm_ts.scale_residual_init).toBe(false);
    const bad = cli(['eval', '--checkpoint', 'nowhere', '--data', 'stories.txt']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/cannot load checkpoint nowhere/);
  });

  it('tokenizer → pretrain with it; sft on chat JSONL from that checkpoint', async () => {
    const t = cli(['tokenizer', '--data', 'stories.txt', '--vocab-size', '400', '--out', 'tok.json']);
    expect(t.code, t.stderr).toBe(0);
    const p = cli(['pretrain', '--data', 'stories.txt', '--out', 'bpe', '--tokenizer', 'tok.json', '--max-iters', '6', '--eval-interval', '3', ...TINY, '--block-size', '128']);
    expect(p.code, p.stderr).toBe(0);
    expect(p.stderr).toMatch(/vocab 400/); // 399 byte-level ranks + <|endoftext|>
    const chat = [
      { prompt: 'What does a cow say?', response: 'A cow says moo.' },
      { messages: [{ role: 'system', content: 'Be kind.' }, { role: 'user', content: 'Hi!' }, { role: 'assistant', content: 'Hello, friend!' }] },
    ];
    await writeFile(join(root, 'chat.jsonl'), Array.from({ length: 20 }, (_, i) => JSON.stringify(chat[i % 2])).join('\n'));
    const s = cli(['sft', '--init', 'bpe/checkpoint', '--data', 'chat.jsonl', '--out', 'sft', '--max-iters', '6', '--eval-interval', '3', '--batch-size', '4', '--eval-iters', '1', '--val-fraction', '0.2']);
    expect(s.code, s.stderr).toBe(0);
    expect(s.stderr).toMatch(/sft: 16 train \/ 4 val examples/);
    expect(existsSync(join(root, 'sft/checkpoint/model.safetensors'))).toBe(true);
    await writeFile(join(root, 'broken.jsonl'), '{"prompt": "a", "response": "b"}\n{"prompt": 1}\n');
    const b = cli(['sft', '--init', 'bpe/checkpoint', '--data', 'broken.jsonl', '--out', 'sft2']);
    expect(b.code).not.toBe(0);
    expect(b.stderr).toMatch(/broken\.jsonl:2/);
  });

  it('start (what npm start runs) on --data: BPE, a few steps, a sample; a missing file is one line, exit 2', () => {
    const r = cli(['start', '--data', 'stories.txt', '--max-iters', '3', '--vocab-size', '300', '--out', 'st', '--prompt', 'Once']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/tokenizer: 300 symbols learned from stories\.txt/);
    expect(r.stderr).toMatch(/done: 3 steps/);
    expect(r.stdout.startsWith('Once')).toBe(true);
    const bad = cli(['start', '--data', 'nope.txt']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe('llm-train: data file nope.txt does not exist');
  });

  it('SIGINT saves a checkpoint and exits cleanly; --resume continues from it', async () => {
    const p = spawn(process.execPath, [BIN, 'pretrain', '--data', 'stories.txt', '--out', 'sig', '--max-iters', '100000', '--eval-interval', '0', '--log-interval', '1', ...TINY], { cwd: root });
    let err = '';
    await new Promise<void>((resolve, reject) => {
      p.stderr.on('data', (d: Buffer) => {
        err += d.toString();
        if (/step 3\/100000/.test(err)) resolve();
      });
      p.on('close', (c) => reject(new Error(`exited (${c}) before step 3: ${err}`)));
    });
    p.kill('SIGINT');
    const code = await new Promise<number | null>((r) => p.on('close', r));
    expect(code, err).toBe(0);
    expect(err).toMatch(/stopped at step \d+ \(SIGINT received\); checkpoint saved to .*continue with --resume/);
    const state = JSON.parse(await readFile(join(root, 'sig/checkpoint/trainer_state.json'), 'utf8'));
    expect(state.step).toBeGreaterThanOrEqual(3);
    const r = cli(['pretrain', '--data', 'stories.txt', '--out', 'sig', '--max-iters', String(state.step + 2), '--eval-interval', '0', '--resume', ...TINY]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`resumed at step ${state.step}`));
  });
});
