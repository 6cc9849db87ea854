// The training loop: it learns, resume is exact, abort/early stop save and stop, gradient
// accumulation averages, and a kill -9 during a checkpoint save never loses the last good one.
import { spawn } from 'node:child_process';
import { appendFile, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectErrorAsync } from '@llm/kit';
import { tf, initBackend } from '@llm/tensor-gpu';
import { TransformerLM, type ModelConfigInput } from '@llm/transformer';
import { train } from './train.js';
import { loadTrainingCheckpoint } from '../checkpoint/checkpoint.js';
import { TokenShard } from '../data/shard.js';
import { splitTokens, WindowSampler, type BatchSource, type HostBatch } from '../data/batches.js';

let root: string;
beforeAll(async () => {
  await initBackend({ backend: 'wasm', log: false });
  root = await mkdtemp(join(tmpdir(), 'llm-train-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

// a corpus with learnable structure: repeated "abcd…" phrases with noise
const ids = Array.from({ length: 6000 }, (_, i) => ((i * 7) % 13 === 0 ? (i * 31) % 40 : (i % 20) + 3));
const shard = TokenShard.fromIds(ids, { vocabSize: 48, tokenizer: { name: 'test', hash: 'h' }, documents: 1, sources: [] });
const MODEL: ModelConfigInput = { family: 'gpt2', vocabSize: 48, nLayer: 2, nHead: 2, nEmbd: 32, blockSize: 16, dropout: 0.1 };

function data(seed = 1) {
  const { train: tr, val } = splitTokens(shard, 0.1);
  return {
    train: new WindowSampler(tr, { batchSize: 4, blockSize: 16, seed }),
    val: new WindowSampler(val, { batchSize: 4, blockSize: 16, seed: seed + 1 }),
    trainEval: new WindowSampler(tr, { batchSize: 4, blockSize: 16, seed: seed + 2 }),
  };
}

const weights = (m: TransformerLM) => new Map(m.namedParameters().map(([n, v]) => [n, Float32Array.from(v.dataSync())]));

describe('train()', () => {
  it('learns: val loss falls well below the uniform-guess loss; writes metrics.jsonl, loss.svg, checkpoint/ and best/', async () => {
    const model = new TransformerLM(MODEL);
    const out = join(root, 'learn');
    const steps: number[] = [];
    const res = await train(model, data(), { maxIters: 120, lr: 3e-3, minLr: 3e-4, warmupIters: 10, evalInterval: 60, evalIters: 5, logInterval: 20, outDir: out }, { onStep: (s) => steps.push(s.loss) });
    expect(res.stoppedBy).toBe('max_iters');
    expect(res.steps).toBe(120);
    expect(res.lastValLoss!).toBeLessThan(0.6 * Math.log(48));
    const lines = (await readFile(join(out, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.filter((l) => l.val_loss !== null).map((l) => l.step)).toEqual([0, 60, 120]);
    expect(Object.keys(lines[1]!)).toEqual(expect.arrayContaining(['step', 'loss', 'val_loss', 'lr', 'grad_norm', 'tokens_per_sec', 'elapsed_ms']));
    expect((await readFile(join(out, 'loss.svg'), 'utf8')).startsWith('<')).toBe(true);
    for (const f of ['checkpoint/model.safetensors', 'checkpoint/optimizer.safetensors', 'checkpoint/trainer_state.json', 'best/model.safetensors']) {
      expect((await stat(join(out, f))).size, f).toBeGreaterThan(0);
    }
    model.dispose();
  });

  it('resume is exact: N steps + save + load + N steps = 2N steps in one run (dropout, grad accumulation)', async () => {
    const N = 6;
    const cfg = { lr: 2e-3, minLr: 2e-4, warmupIters: 2, lrDecayIters: 2 * N, evalInterval: 4, evalIters: 2, gradAccumSteps: 2, logInterval: 1 };
    const a = new TransformerLM(MODEL);
    await train(a, data(), { ...cfg, maxIters: 2 * N });
    const b = new TransformerLM(MODEL);
    const out = join(root, 'resume');
    await train(b, data(), { ...cfg, maxIters: N, outDir: out });
    b.dispose();
    const ck = await loadTrainingCheckpoint(join(out, 'checkpoint'));
    expect(ck.state!.step).toBe(N);
    // a line logged after the checkpoint (as by a run killed between a log line and its next save)
    await appendFile(join(out, 'metrics.jsonl'), JSON.stringify({ step: N + 1, loss: 9, val_loss: null }) + '\n');
    const res = await train(ck.model, data(), { ...cfg, maxIters: 2 * N, outDir: out }, { resume: ck });
    expect(res.steps).toBe(2 * N);
    // one run per log: the resumed run continues it once (no step twice, nothing from after the checkpoint)
    const steps = (await readFile(join(out, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => (JSON.parse(l) as { step: number; loss: number | null }));
    const trainSteps = steps.filter((l) => l.loss !== null).map((l) => l.step);
    expect(trainSteps).toEqual([...new Set(trainSteps)].sort((x, y) => x - y));
    expect(steps.some((l) => l.loss === 9)).toBe(false);
    expect(Math.max(...trainSteps)).toBe(2 * N);
    // a fresh run into the same folder is refused unless forced; forced, it starts a fresh log
    const c = new TransformerLM(MODEL);
    await expectErrorAsync(() => train(c, data(), { ...cfg, maxIters: 2, outDir: out }), 'CHECKPOINT_EXISTS', /already holds a training run/);
    await train(c, data(), { ...cfg, maxIters: 2, outDir: out }, { force: true });
    c.dispose();
    expect((await readFile(join(out, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => (JSON.parse(l) as { step: number }).step).every((st) => st <= 2)).toBe(true);
    const wa = weights(a);
    for (const [n, w] of weights(ck.model)) expect(Math.max(...w.map((x, i) => Math.abs(x - wa.get(n)![i]!))), n).toBeLessThanOrEqual(1e-6);
    tf.dispose([...ck.optimizerState!.values()]);
    a.dispose();
    ck.model.dispose();
  });

  it('abort via signal saves a resumable checkpoint and stops; early stop ends after `patience` evals without progress', async () => {
    const model = new TransformerLM(MODEL);
    const ctl = new AbortController();
    const out = join(root, 'abort');
    const res = await train(model, data(), { maxIters: 100, evalInterval: 50, evalIters: 1, outDir: out }, { signal: ctl.signal, onStep: (s) => s.step === 3 && ctl.abort() });
    expect(res).toMatchObject({ stoppedBy: 'abort', steps: 3 });
    const ck = await loadTrainingCheckpoint(join(out, 'checkpoint'));
    expect(ck.state!.step).toBe(3);
    // a stopped run ends like a finished one: a final eval at the step it stopped, in the log and the plot
    const evals = (await readFile(join(out, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { step: number; val_loss: number | null }).filter((l) => l.val_loss !== null);
    expect(evals.map((l) => l.step)).toEqual([0, 3]);
    expect(await readFile(join(out, 'loss.svg'), 'utf8')).toMatch(/<svg/);
    tf.dispose([...ck.optimizerState!.values()]);
    ck.model.dispose();
    // lr 0 and the same val batch every time: the val loss never improves after the first eval
    const d = data();
    const valBatch = d.val.next();
    const stuck = await train(model, { train: d.train, val: { next: () => valBatch, getState: () => 0, setState: () => undefined } }, { maxIters: 100, lr: 0, minLr: 0, evalInterval: 2, evalIters: 1, earlyStopPatience: 3 });
    expect(stuck).toMatchObject({ stoppedBy: 'early_stop', steps: 6 });
    model.dispose();
  });

  it('gradient accumulation over 2 micro-batches equals one step on the combined batch', async () => {
    const batches: HostBatch[] = [0, 1].map((k) => ({
      inputs: Int32Array.from({ length: 2 * 8 }, (_, i) => (i * 5 + k) % 48),
      targets: Int32Array.from({ length: 2 * 8 }, (_, i) => (i * 3 + k + 1) % 48),
      batch: 2,
      length: 8,
    }));
    const fixed = (list: HostBatch[]): BatchSource => {
      let i = 0;
      return { next: () => list[i++ % list.length]!, getState: () => i, setState: (s) => void (i = s as number) };
    };
    const combined: HostBatch = { inputs: Int32Array.from([...batches[0]!.inputs, ...batches[1]!.inputs]), targets: Int32Array.from([...batches[0]!.targets, ...batches[1]!.targets]), batch: 4, length: 8 };
    const cfg = { ...MODEL, dropout: 0 };
    const [a, b] = [new TransformerLM(cfg), new TransformerLM(cfg)];
    // eps 1 makes Adam's first step ≈ lr · g / (|g| + 1): linear in the gradient, so the comparison
    // is of gradients rather than of their signs (which float noise flips for tiny ones)
    const common = { maxIters: 1, warmupIters: 0, lr: 1, minLr: 0, eps: 1, evalInterval: 0, gradClip: 0 };
    await train(a, { train: fixed(batches) }, { ...common, gradAccumSteps: 2 });
    await train(b, { train: fixed([combined]) }, common);
    const wb = weights(b);
    for (const [n, w] of weights(a)) expect(Math.max(...w.map((x, i) => Math.abs(x - wb.get(n)![i]!))), n).toBeLessThan(1e-6);
    a.dispose();
    b.dispose();
  });

  it('distillation: with alpha 1 the student moves toward the teacher\'s distribution (KL falls), the teacher is untouched', async () => {
    const teacher = new TransformerLM({ ...MODEL, dropout: 0, seed: 9 });
    const student = new TransformerLM({ ...MODEL, dropout: 0, nLayer: 1, seed: 3 });
    const probe = data(5).val.next();
    const kl = () => tf.tidy(() => {
      const x = tf.tensor2d(probe.inputs, [probe.batch, probe.length], 'int32');
      const pt = tf.softmax(teacher.forward(x));
      return tf.sum(pt.mul(tf.log(pt).sub(tf.logSoftmax(student.forward(x))))).div(probe.batch * probe.length).dataSync()[0]!;
    });
    const teacherBefore = weights(teacher);
    const before = kl();
    await train(student, data(), { maxIters: 30, lr: 3e-3, warmupIters: 0, evalInterval: 0, distillAlpha: 1, distillTemperature: 1 }, { teacher });
    expect(kl()).toBeLessThan(0.7 * before);
    for (const [n, w] of weights(teacher)) expect(Math.max(...w.map((x, i) => Math.abs(x - teacherBefore.get(n)![i]!))), n).toBe(0);
    teacher.dispose();
    student.dispose();
  });

  it('bad config is rejected before any work', async () => {
    const model = new TransformerLM(MODEL);
    await expect(train(model, data(), { maxIters: 10, learningRate: 1 } as never)).rejects.toThrow(/unknown key "learningRate"/);
    await expect(train(model, data(), { maxIters: 0 })).rejects.toThrow(/maxIters must be an integer ≥ 1/);
    await expect(train(model, data(), { maxIters: 5, lr: 1e-4, minLr: 1e-3 })).rejects.toThrow(/minLr must be ≤ lr/);
    model.dispose();
  });
});

describe('crash safety', () => {
  it('kill -9 at random moments while checkpoints are being saved always leaves a complete, consistent checkpoint', async () => {
    const dir = join(root, 'kill', 'checkpoint');
    const child = fileURLToPath(new URL('../testing/kill-child.mjs', import.meta.url));
    let next = 1;
    for (let round = 0; round < 6; round++) {
      const p = spawn(process.execPath, [child, dir, String(next)], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      await new Promise<void>((resolve, reject) => {
        p.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('saved')) resolve();
        });
        p.on('exit', (code) => reject(new Error(`child exited early (${code})`)));
      });
      await new Promise((r) => setTimeout(r, 5 + round * 13)); // land inside a later save at varying offsets
      p.kill('SIGKILL');
      await new Promise((r) => p.once('close', r));
      const ck = await loadTrainingCheckpoint(dir);
      const k = ck.state!.step;
      expect(k).toBeGreaterThanOrEqual(next);
      for (const [n, v] of ck.model.namedParameters()) {
        const vals = v.dataSync();
        expect(vals[0], n).toBe(k); // weights and trainer state come from the same save
        expect(vals[vals.length - 1], n).toBe(k);
      }
      ck.model.dispose();
      next = k + 1;
    }
  });
});
