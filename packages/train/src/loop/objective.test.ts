// A custom objective through the loop: an objective that computes the default next-token loss
// itself must give bit-for-bit the weights of the default path (the independent reference), with
// gradient accumulation, dropout and resume; its metrics reach onStep / onEval / metrics.jsonl.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf, initBackend, crossEntropy } from '@llm/tensor-gpu';
import { TransformerLM, type ModelConfigInput } from '@llm/transformer';
import { train } from './train.js';
import type { Objective } from './objective.js';
import { TokenShard } from '../data/shard.js';
import { splitTokens, WindowSampler, type HostBatch } from '../data/batches.js';

let root: string;
beforeAll(async () => {
  await initBackend({ backend: 'wasm', log: false });
  root = await mkdtemp(join(tmpdir(), 'llm-objective-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

const ids = Array.from({ length: 4000 }, (_, i) => ((i * 7) % 13 === 0 ? (i * 31) % 40 : (i % 20) + 3));
const shard = TokenShard.fromIds(ids, { vocabSize: 48, tokenizer: { name: 'test', hash: 'h' }, documents: 1, sources: [] });
const MODEL: ModelConfigInput = { family: 'gpt2', vocabSize: 48, nLayer: 2, nHead: 2, nEmbd: 32, blockSize: 16, dropout: 0.1 };
const data = () => {
  const { train: tr, val } = splitTokens(shard, 0.1);
  return { train: new WindowSampler(tr, { batchSize: 4, blockSize: 16, seed: 1 }), val: new WindowSampler(val, { batchSize: 4, blockSize: 16, seed: 2 }) };
};
const weights = (m: TransformerLM) => new Map(m.namedParameters().map(([n, v]) => [n, Float32Array.from(v.dataSync())]));

/** Next-token cross-entropy written as an objective, with two metrics (one tensor, one number). */
const ce: Objective<HostBatch> = {
  loss(model, b, { training }) {
    const x = tf.tensor2d(b.inputs, [b.batch, b.length], 'int32');
    const y = tf.tensor2d(b.targets, [b.batch, b.length], 'int32');
    const loss = crossEntropy(model.run(x, { training }).logits!, y) as tf.Scalar;
    return { loss, metrics: { 'custom/loss_copy': loss.clone(), 'custom/rows': b.batch } };
  },
  tokens: (b) => b.batch * b.length,
};

describe('train() with an objective', () => {
  it('the default loss as an objective = the default path bit for bit (grad accumulation, dropout); metrics logged', async () => {
    const cfg = { maxIters: 6, lr: 3e-3, warmupIters: 2, evalInterval: 3, evalIters: 2, logInterval: 1, gradAccumSteps: 2 };
    const a = new TransformerLM(MODEL);
    await train(a, data(), cfg);
    const b = new TransformerLM(MODEL);
    const out = join(root, 'obj');
    const steps: Array<Record<string, number>> = [];
    const evals: Array<Record<string, number>> = [];
    const losses: number[] = [];
    await train(b, data(), { ...cfg, outDir: out }, { objective: ce, onStep: (s) => (steps.push(s.metrics), losses.push(s.loss)), onEval: (e) => evals.push(e.metrics) });
    const wa = weights(a);
    for (const [n, w] of weights(b)) expect([...w], n).toEqual([...wa.get(n)!]);
    expect(steps).toHaveLength(6);
    steps.forEach((m, i) => {
      expect(m['custom/rows']).toBe(4);
      expect(Math.abs(m['custom/loss_copy']! - losses[i]!)).toBeLessThan(1e-5); // mean over micro-batches = the step's loss
    });
    expect(evals.length).toBe(3);
    expect(Object.keys(evals[0]!).sort()).toEqual(['eval_custom/loss_copy', 'eval_custom/rows']);
    const lines = (await readFile(join(out, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.some((l) => typeof l['custom/loss_copy'] === 'number')).toBe(true);
    expect(lines.some((l) => typeof l['eval_custom/rows'] === 'number')).toBe(true);
    a.dispose();
    b.dispose();
  });

  it('no tensor leaks across steps and evaluations', async () => {
    const m = new TransformerLM(MODEL);
    await train(m, data(), { maxIters: 1, evalInterval: 0 }, { objective: ce });
    const n0 = tf.memory().numTensors;
    await train(m, data(), { maxIters: 4, evalInterval: 2, evalIters: 2 }, { objective: ce });
    expect(tf.memory().numTensors).toBe(n0);
    m.dispose();
  });
});
