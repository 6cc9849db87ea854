// Data-parallel training: two workers with a global batch of two micro-batches make the updates one
// process makes with gradient accumulation over the same two micro-batches (the reference is the
// single-process train()); resume with workers is exact; a worker that exits mid-run gives
// WORKER_FAILED and leaves the last checkpoint intact; diverged replicas are caught; no tensor is
// left alive on the main thread or in a replica.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectErrorAsync } from '@llm/kit';
import { tf, initBackend } from '@llm/tensor-gpu';
import { TransformerLM, type ModelConfigInput } from '@llm/transformer';
import { train, type StepInfo } from '../loop/train.js';
import { loadTrainingCheckpoint } from '../checkpoint/checkpoint.js';
import { trainParallel, type TrainParallelOptions } from './train-parallel.js';
import { fixtureData, type FixtureArgs } from '../testing/parallel-fixture-setup.js';
import { bundleForTests, type TestBundles } from '../testing/parallel-bundle.js';

let root: string;
let bundles: TestBundles;
beforeAll(async () => {
  await initBackend({ backend: 'wasm', log: false });
  root = await mkdtemp(join(tmpdir(), 'llm-train-parallel-'));
  bundles = await bundleForTests();
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
  await bundles?.cleanup();
});

const MODEL: ModelConfigInput = { family: 'gpt2', vocabSize: 48, nLayer: 2, nHead: 2, nEmbd: 32, blockSize: 16, dropout: 0, seed: 5 };
const B = 4; // sequences per micro-batch

const run = (args: FixtureArgs, o: Omit<TrainParallelOptions, 'setup' | 'args' | 'workerEntry'>) => trainParallel({ setup: bundles.setup, workerEntry: bundles.worker, args, ...o });

const weights = (m: TransformerLM) => new Map(m.namedParameters().map(([n, v]) => [n, Float32Array.from(v.dataSync())]));
function maxDiff(a: Map<string, Float32Array>, b: Map<string, Float32Array>): number {
  let worst = 0;
  for (const [n, w] of a) {
    const o = b.get(n)!;
    expect(o, n).toBeDefined();
    for (let i = 0; i < w.length; i++) worst = Math.max(worst, Math.abs(w[i]! - o[i]!));
  }
  return worst;
}
async function checkpointWeights(dir: string) {
  const ck = await loadTrainingCheckpoint(dir);
  const w = weights(ck.model);
  ck.model.dispose();
  if (ck.optimizerState) tf.dispose([...ck.optimizerState.values()]);
  return { w, state: ck.state! };
}

const CFG = { lr: 3e-3, minLr: 3e-4, warmupIters: 5, weightDecay: 0.1, gradClip: 0.5, evalInterval: 0, evalTrain: false, logInterval: 10 };

describe('trainParallel', () => {
  it('2 workers × 1 micro-batch = 1 process accumulating the same 2 micro-batches: weights within 1e-5 after 50 steps; no tensor leak', async () => {
    const steps = 50;
    // reference: one process, gradAccumSteps 2, the same seeded source
    const ref = new TransformerLM(MODEL);
    const refLosses: number[] = [];
    const refOut = join(root, 'ref');
    await train(ref, fixtureData(B, 11), { ...CFG, maxIters: steps, gradAccumSteps: 2, outDir: refOut }, { onStep: (s) => refLosses.push(s.loss) });
    // two workers, each one micro-batch of B per step (global batch 2·B)
    const before = tf.memory().numTensors;
    const out = join(root, 'dp');
    const seen: StepInfo[] = [];
    const res = await run({ model: MODEL, batchSize: B, seed: 11 }, { workers: 2, config: { ...CFG, maxIters: steps, outDir: out }, verifyEvery: 10, onStep: (s) => seen.push(s) });
    expect(tf.memory().numTensors).toBe(before); // the main thread holds no tensors
    expect(res).toMatchObject({ steps, stoppedBy: 'max_iters', workers: 2, leakedTensors: [0, 0], tokensSeen: steps * 2 * B * 16 });
    expect(seen.map((s) => s.step)).toEqual(Array.from({ length: steps }, (_, i) => i + 1));
    seen.forEach((s, i) => expect(Math.abs(s.loss - refLosses[i]!), `loss of step ${i + 1}`).toBeLessThan(1e-5));
    const dp = await checkpointWeights(join(out, 'checkpoint'));
    const diff = maxDiff(weights(ref), dp.w);
    expect(diff).toBeLessThanOrEqual(1e-5); // measured: 0 (the same float32 adds in the same order)
    // the checkpoint records what the single process's does: step and data position
    const single = await checkpointWeights(join(refOut, 'checkpoint'));
    expect(dp.state.step).toBe(steps);
    expect(dp.state.data.train).toEqual(single.state.data.train);
    // the comparison can fail: one worker (half the batch) trains other weights
    const half = await run({ model: MODEL, batchSize: B, seed: 11 }, { workers: 1, config: { ...CFG, maxIters: steps, outDir: join(root, 'dp1') } });
    expect(half.leakedTensors).toEqual([0]);
    expect(maxDiff(weights(ref), (await checkpointWeights(join(root, 'dp1', 'checkpoint'))).w)).toBeGreaterThan(1e-3);
    ref.dispose();
    // a fresh run into a folder that holds one is refused with train()'s own code, from the worker
    await expectErrorAsync(() => run({ model: MODEL, batchSize: B, seed: 11 }, { workers: 2, config: { ...CFG, maxIters: 2, outDir: out } }), 'CHECKPOINT_EXISTS', /already holds a training run/);
  });

  it('one batch split across 2 workers = the whole batch in one process (the sampler draws the same windows)', async () => {
    // eps 1 makes Adam's step ≈ lr · g / (|g| + 1), linear in the gradient: a comparison of gradients
    // (mean over 2·2 sequences as two means over 2, vs one mean over 4: equal up to float rounding)
    const common = { maxIters: 3, warmupIters: 0, lr: 1, minLr: 0, eps: 1, evalInterval: 0, gradClip: 0, evalTrain: false };
    const whole = new TransformerLM(MODEL);
    await train(whole, fixtureData(4, 21), common);
    const out = join(root, 'split-batch');
    const phases: Array<[number, number]> = [];
    await run({ model: MODEL, batchSize: 2, seed: 21 }, { workers: 2, config: { ...common, outDir: out }, onPhases: (p) => phases.push([p.rank, p.step]) });
    expect(phases.sort()).toEqual([[0, 1], [0, 2], [0, 3], [1, 1], [1, 2], [1, 3]]); // every replica reports every step
    expect(maxDiff(weights(whole), (await checkpointWeights(join(out, 'checkpoint'))).w)).toBeLessThan(1e-5);
    whole.dispose();
  });

  it('resume with workers is exact (dropout on, explicit objective): N steps + resume N = 2N steps in one go', async () => {
    const N = 5;
    const model = { ...MODEL, dropout: 0.2 };
    const cfg = { ...CFG, lrDecayIters: 2 * N, evalInterval: 3, evalIters: 2, gradAccumSteps: 2 };
    const args: FixtureArgs = { model, batchSize: 2, seed: 3, objective: true };
    const straight = join(root, 'straight');
    const evals: number[] = [];
    const res = await run(args, { workers: 2, config: { ...cfg, maxIters: 2 * N, outDir: straight }, onEval: (e) => evals.push(e.step) });
    expect(res.lastValLoss).not.toBeNull();
    expect(evals).toEqual([0, 3, 6, 9, 10]);
    const metrics = (await readFile(join(straight, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, number | null>);
    expect(metrics.find((l) => l.step === 10 && l.loss !== null)!.tokens_seen).toBe(2 * 16); // the objective's metric, mean over micro-batches
    const split = join(root, 'split');
    await run(args, { workers: 2, config: { ...cfg, maxIters: N, outDir: split } });
    const resumed = await run({ ...args, resume: join(split, 'checkpoint') }, { workers: 2, config: { ...cfg, maxIters: 2 * N, outDir: split } });
    expect(resumed.steps).toBe(2 * N);
    const [a, b] = [await checkpointWeights(join(straight, 'checkpoint')), await checkpointWeights(join(split, 'checkpoint'))];
    expect(maxDiff(a.w, b.w)).toBe(0);
    expect(b.state.data.train).toEqual(a.state.data.train); // (val differs: the split run also evaluated at its end, step N)
  });

  it('a worker that exits mid-run: WORKER_FAILED naming it, the last checkpoint intact and resumable', async () => {
    const out = join(root, 'killed');
    const args: FixtureArgs = { model: MODEL, batchSize: 2, seed: 4, exitAt: { rank: 1, call: 7, code: 9 } };
    const err = await expectErrorAsync(() => run(args, { workers: 2, config: { ...CFG, maxIters: 20, evalInterval: 5, evalIters: 1, outDir: out } }), 'WORKER_FAILED', /worker 1 of 2 exited with code 9/);
    expect(err.message).toMatch(/last checkpoint .* is intact/);
    const ck = await checkpointWeights(join(out, 'checkpoint'));
    expect(ck.state.step).toBe(5);
    for (const [n, w] of ck.w) expect(w.every(Number.isFinite), n).toBe(true);
    // and the run continues from it
    const res = await run({ model: MODEL, batchSize: 2, seed: 4, objective: true, resume: join(out, 'checkpoint') }, { workers: 2, config: { ...CFG, maxIters: 8, evalInterval: 5, evalIters: 1, outDir: out } });
    expect(res.steps).toBe(8);
  });

  it('replicas that diverge are caught by the checksum (verifyEvery)', async () => {
    await expectErrorAsync(() => run({ model: MODEL, batchSize: 2, seed: 4, perturbAt: { rank: 1, call: 2 } }, { workers: 2, config: { ...CFG, maxIters: 10 }, verifyEvery: 2 }), 'WORKER_FAILED', /replicas diverged at step 4: the weights of rank\(s\) 1 differ/);
  });

  it('abort via signal: every replica stops, rank 0 saves a checkpoint at the step it stopped', async () => {
    const ctl = new AbortController();
    const out = join(root, 'abort');
    const res = await run({ model: MODEL, batchSize: 2, seed: 4 }, { workers: 2, config: { ...CFG, maxIters: 200, outDir: out }, signal: ctl.signal, onStep: (s) => s.step === 3 && ctl.abort() });
    expect(res.stoppedBy).toBe('abort');
    expect(res.steps).toBeGreaterThanOrEqual(3);
    expect(res.steps).toBeLessThan(200);
    expect((await checkpointWeights(join(out, 'checkpoint'))).state.step).toBe(res.steps);
  });

  it('bad options are refused before any worker starts', async () => {
    await expectErrorAsync(() => run({ model: MODEL, batchSize: 2, seed: 1 }, { workers: 0, config: { maxIters: 1 } }), 'CONFIG_INVALID', /workers must be an integer/);
    await expectErrorAsync(() => run({ model: MODEL, batchSize: 2, seed: 1 }, { workers: 2, config: { maxIters: 1, learningRate: 1 } as never }), 'CONFIG_UNKNOWN_KEY', /learningRate/);
    await expectErrorAsync(() => trainParallel({ setup: join(root, 'nope.mjs'), workerEntry: bundles.worker, config: { maxIters: 1 } }), 'DATA_MISSING', /setup module .* does not exist/);
  });
});
