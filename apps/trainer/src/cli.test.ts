// llm-train end to end, as a user runs it (the built bin in a child process): help, bad config
// rejected before any work, pretrain → resume → eval → sample → sft, config files, SIGINT.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
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
    // the default engine (@llm/infer) and the tfjs training model draw the same tokens
    expect(cli(['sample', '--checkpoint', 'run/best', '--prompt', 'Once', '--max-tokens', '40', '--seed', '3', '--engine', 'tfjs']).stdout).toBe(s.stdout);
    const distilled = cli(['pretrain', '--data', 'stories.txt', '--out', 'student', '--teacher', 'run/best', '--max-iters', '4', '--eval-interval', '2', ...TINY, '--n-embd', '16', '--no-scale-residual-init']);
    expect(distilled.code, distilled.stderr).toBe(0);
    expect(distilled.stderr).toMatch(/teacher: gpt2 .* distillation T 2, alpha 0\.5/);
    expect(JSON.parse(await readFile(join(root, 'student/checkpoint/config.json'), 'utf8')).llm_ts.scale_residual_init).toBe(false);
    const bad = cli(['eval', '--checkpoint', 'nowhere', '--data', 'stories.txt']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/no model in nowhere: .*Train one first/);
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

  it('start (what npm start runs): the lifecycle up to serve; sample and eval with no flags read what it wrote; again → every stage skipped', async () => {
    const tiny = ['--quick', '--no-serve', '--data', 'stories.txt', '--vocab-size', '300', '--pretrain-iters', '3', '--sft-iters', '2', '--dpo-iters', '2'];
    const r = cli(['start', ...tiny]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/tokenizer: 300 symbols learned from stories\.txt/);
    expect(r.stderr).toMatch(/done: 3 steps/);
    for (const stage of ['tokenizer', 'pretrain', 'sft', 'dpo', 'quantize']) expect(r.stderr).toMatch(new RegExp(`\\] ${stage}: done in `));
    expect(r.stderr).toMatch(/serve: skipped \(--no-serve\); serve the model with: llm-chat serve --model out[/\\]quant[/\\]model-q8_0\.gguf/);
    expect(existsSync(join(root, 'out/quant/model-q8_0.gguf'))).toBe(true);
    // one layout: with no flags, the later commands take the newest model under out/ — the aligned one
    const s = cli(['sample', '--prompt', 'Once', '--max-tokens', '8']);
    expect(s.code, s.stderr).toBe(0);
    expect(s.stdout.startsWith('Once')).toBe(true);
    if (!existsSync(join(root, 'cfg.json'))) await writeFile(join(root, 'cfg.json'), '{"lr": 0.001}\n'); // an earlier test writes it
    const e = cli(['eval', '--data', 'stories.txt', 'cfg.json']);
    expect(e.code, e.stderr).toBe(0);
    expect(e.stderr).toMatch(/^model: out[/\\]dpo[/\\]best$/m);
    expect(e.stdout).toMatch(/^stories\.txt: [\d,]+ tokens · loss [\d.]+ nats\/token[^\n]*\ncfg\.json: [\d,]+ tokens[^\n]*\ntotal: [\d,]+ tokens · loss /);
    const run = JSON.parse(await readFile(join(root, 'out/run.json'), 'utf8'));
    expect(run).toMatchObject({ command: 'start', options: { lr: 3e-3, blockSize: 128 } });
    // running it again redoes nothing
    const again = cli(['start', ...tiny]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr.match(/— skipped$/gm)).toHaveLength(5);
    expect(again.stderr).not.toMatch(/done: \d+ steps/);
    const bad = cli(['start', '--data', 'nope.txt']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe('llm-train: data file nope.txt does not exist');
    expect(cli(['start', ...tiny]).stderr.match(/— skipped$/gm)).toHaveLength(5); // the refused run cost nothing
  });

  it('pretrain --resume takes the run\'s saved settings; a fresh run into an existing one is refused unless --force', async () => {
    const first = cli(['pretrain', '--data', 'stories.txt', '--out', 'keep', '--max-iters', '2', '--eval-interval', '0', ...TINY, '--lr', '2e-3']);
    expect(first.code, first.stderr).toBe(0);
    const r = cli(['pretrain', '--data', 'stories.txt', '--out', 'keep', '--max-iters', '4', '--resume']);
    expect(r.code, r.stderr).toBe(0);
    const state = JSON.parse(await readFile(join(root, 'keep/checkpoint/trainer_state.json'), 'utf8'));
    expect(state).toMatchObject({ step: 4, config: { lr: 2e-3, maxIters: 4 } });
    const refused = cli(['pretrain', '--data', 'stories.txt', '--out', 'keep', '--max-iters', '2', ...TINY]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/keep already holds a training run \(checkpoint at step 4\): --resume continues it, --force starts over/);
    const forced = cli(['pretrain', '--data', 'stories.txt', '--out', 'keep', '--max-iters', '2', '--eval-interval', '0', ...TINY, '--force']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(JSON.parse(await readFile(join(root, 'keep/checkpoint/trainer_state.json'), 'utf8')).step).toBe(2);
  });

  it('hostile state and paths: one line and an exit code, nothing overwritten (issue 12)', async () => {
    // the error is one `llm-train:` line (progress lines may come before it), never a stack
    const oneLine = (r: { stderr: string }, what: string) => {
      const lines = r.stderr.trim().split('\n');
      expect(lines.filter((l) => l.startsWith('llm-train: ')), `${what}: ${r.stderr}`).toHaveLength(1);
      expect(lines.at(-1), what).toMatch(/^llm-train: /);
      expect(r.stderr, what).not.toMatch(/^\s+at /m);
    };
    const first = cli(['pretrain', '--data', 'stories.txt', '--out', 'h', '--max-iters', '2', '--eval-interval', '0', ...TINY]);
    expect(first.code, first.stderr).toBe(0);
    const ckpt = join(root, 'h', 'checkpoint');
    const weights = await readFile(join(ckpt, 'model.safetensors'));
    // a hostile trainer_state.json: refused, the checkpoint untouched
    const state = JSON.parse(await readFile(join(ckpt, 'trainer_state.json'), 'utf8'));
    await writeFile(join(ckpt, 'trainer_state.json'), JSON.stringify({ ...state, step: -5 }));
    const neg = cli(['pretrain', '--out', 'h', '--resume', '--max-iters', '4']);
    expect(neg.code).toBe(1);
    expect(neg.stderr).toMatch(/^llm-train: .*trainer_state\.json: field "step" must be an integer in \[0, \d+\], got -5/);
    oneLine(neg, 'step -5');
    // no trainer_state.json: neither a fresh run nor a resume restarts at step 0 over it
    await rm(join(ckpt, 'trainer_state.json'));
    const fresh = cli(['pretrain', '--data', 'stories.txt', '--out', 'h', '--max-iters', '2', ...TINY]);
    expect(fresh.code).toBe(2);
    expect(fresh.stderr.trim()).toBe('llm-train: h already holds a training run (a checkpoint without trainer_state.json): --resume continues it, --force starts over in it, or choose another --out');
    const resumed = cli(['pretrain', '--out', 'h', '--resume', '--max-iters', '4']);
    expect(resumed.code).toBe(1);
    expect(resumed.stderr.trim()).toMatch(/^llm-train: --resume: h[/\\]checkpoint has no trainer_state\.json, so it cannot be resumed .*add --force to start over from its weights$/);
    expect(await readFile(join(ckpt, 'model.safetensors'))).toEqual(weights);
    await writeFile(join(ckpt, 'trainer_state.json'), JSON.stringify(state));
    // resuming with another model or other data is refused, unless --force
    const wider = cli(['pretrain', '--out', 'h', '--resume', '--max-iters', '4', '--n-layer', '2']);
    expect(wider.code).toBe(2);
    expect(wider.stderr.trim()).toBe("llm-train: --resume: --n-layer 2 (the checkpoint has 1): a resumed run keeps the checkpoint's model; drop that flag, or add --force to resume with the checkpoint's model anyway");
    await writeFile(join(root, 'other.txt'), text.slice(0, 30_000));
    const otherData = cli(['pretrain', '--out', 'h', '--resume', '--max-iters', '4', '--data', 'other.txt']);
    expect(otherData.code).toBe(2);
    expect(otherData.stderr).toMatch(/^llm-train: resume: the checkpoint was trained with other data \(tokens: \d+ → \d+ \(train, val, trainEval\); sources: .*"other\.txt".*pass --force to continue anyway\.$/m);
    oneLine(otherData, 'other data');
    expect(await readFile(join(ckpt, 'model.safetensors'))).toEqual(weights);
    // --out where a file is, or a place nothing may be written: one line
    await writeFile(join(root, 'afile'), 'x');
    for (const out of ['afile', 'afile/sub']) {
      const r = cli(['pretrain', '--data', 'stories.txt', '--out', out, '--max-iters', '1', ...TINY]);
      expect(r.code, out).toBe(2);
      expect(r.stderr.trim(), out).toMatch(/^llm-train: --out afile(\/sub)?: (it|.*afile) is a file, not a folder; choose another --out$/);
    }
    if (process.platform === 'linux') {
      const r = cli(['pretrain', '--data', 'stories.txt', '--out', '/sys/llm-train-test', '--max-iters', '1', ...TINY]);
      expect(r.code).toBe(1);
      expect(r.stderr.trim()).toMatch(/^llm-train: \/sys\/llm-train-test.*: (operation not permitted|permission denied|the file system is read-only) \(mkdir, E[A-Z]+\)$/);
    }
    if (process.getuid?.() !== 0) {
      await mkdir(join(root, 'ro'));
      await chmod(join(root, 'ro'), 0o555);
      const r = cli(['pretrain', '--data', 'stories.txt', '--out', 'ro/run', '--max-iters', '1', ...TINY]);
      expect(r.code).toBe(1);
      expect(r.stderr.trim()).toMatch(/^llm-train: .*ro\/run.*: permission denied \(mkdir, EACCES\)$/);
    }
    // a tokenizer file that is not one: the tokenizer's error, in one line
    await writeFile(join(root, 'garbage.json'), '{"model": {"type": "BPE", "vocab": 7}}');
    const tok = cli(['sample', '--checkpoint', 'h/checkpoint', '--tokenizer', 'garbage.json']);
    expect(tok.code).toBe(1);
    expect(tok.stderr).toMatch(/^llm-train: tokenizer garbage\.json: /);
    oneLine(tok, 'garbage tokenizer');
    // a model whose weights are NaN never prints garbage with exit 0
    const nan = join(root, 'nan');
    await cp(ckpt, nan, { recursive: true });
    const st = await readFile(join(nan, 'model.safetensors'));
    const headerLength = Number(st.readBigUInt64LE(0));
    st.fill(0xff, 8 + headerLength); // every float NaN
    await writeFile(join(nan, 'model.safetensors'), st);
    const s = cli(['sample', '--checkpoint', 'nan', '--prompt', 'Once', '--max-tokens', '5']);
    expect(s.code).toBe(1);
    oneLine(s, 'NaN model');
    expect(s.stderr).toMatch(/NaN|not finite/i);
    expect(cli(['sft', '--help']).stdout).toMatch(/--allow-special-tokens-in-data/);
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
    expect(err).toMatch(/stopped at step \d+ \(SIGINT received\); checkpoint saved to .*continue with llm-train pretrain --out sig --resume/);
    const state = JSON.parse(await readFile(join(root, 'sig/checkpoint/trainer_state.json'), 'utf8'));
    expect(state.step).toBeGreaterThanOrEqual(3);
    const r = cli(['pretrain', '--data', 'stories.txt', '--out', 'sig', '--max-iters', String(state.step + 2), '--eval-interval', '0', '--resume', ...TINY]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`resumed at step ${state.step}`));
  });
});
