// End to end through @llm/train's train(): DPO on a synthetic preference task (chosen responses use
// even token ids, rejected odd ones; held-out pairs never seen) with a frozen reference and with a
// LoRA policy whose reference is the adapter-disabled base; the other methods through the same loop;
// reward / classifier heads; no tensor leaks across steps.
import { beforeAll, describe, expect, it } from 'vitest';
import { tf, initBackend, Rng } from '@llm/tensor-gpu';
import { TransformerLM, SequenceClassifier, type ModelConfigInput } from '@llm/transformer';
import { getPeftModel } from '@llm/peft';
import { train, evaluateObjective, loadTrainingCheckpoint, type Objective, type TrainableModel } from '@llm/train';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expectError } from '@llm/kit';
import { AlignError } from '../errors.js';
import { pairSource, unpairedSource, textSource, type PairExample, type TextExample } from '../data/batches.js';
import type { TokenizedUnpaired } from '../data/tokenize.js';
import { precomputeReferenceLogps } from '../reference.js';
import { HeadModel } from '../heads/head-model.js';
import { dpoObjective, ipoObjective, orpoObjective, simpoObjective, ktoObjective, rewardObjective, classifierObjective, regressorObjective } from './index.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm', log: false });
});

const V = 32;
const CFG: ModelConfigInput = { family: 'gpt2', vocabSize: V, nLayer: 1, nHead: 2, nEmbd: 16, blockSize: 16, seed: 5 };

/** Pairs: prompt of 3 ids in [2, V); chosen 3 even ids, rejected 3 odd ids (seeded). */
function synthPairs(n: number, seed: number): PairExample[] {
  const r = new Rng(seed);
  const id = (parity: number) => 2 + 2 * Math.floor(r.next() * ((V - 2) / 2)) + parity;
  return Array.from({ length: n }, (_, i) => ({
    promptIds: [2 + Math.floor(r.next() * (V - 2)), 2 + Math.floor(r.next() * (V - 2)), 2 + Math.floor(r.next() * (V - 2))],
    chosenIds: [id(0), id(0), id(0)],
    rejectedIds: [id(1), id(1), id(1)],
    source: `synthetic:${seed}:${i}`,
  }));
}
const TRAIN = synthPairs(64, 1);
const HELD_OUT = synthPairs(32, 2);
const data = (trainPairs = TRAIN, val = HELD_OUT) => ({ train: pairSource(trainPairs, { batchSize: 8, seed: 3, padId: 0 }), val: pairSource(val, { batchSize: 8, seed: 0, padId: 0, shuffle: false }) });
const CONFIG = { maxIters: 30, lr: 1e-2, minLr: 1e-3, warmupIters: 2, evalInterval: 30, evalIters: 4, evalTrain: false, weightDecay: 0 };

/** Train with an objective; return held-out metrics before and after, and the live tensor count per step. */
async function run(model: TrainableModel, objective: Objective<any>, d = data(), cfg = CONFIG) { // eslint-disable-line @typescript-eslint/no-explicit-any
  const before = evaluateObjective(model, d.val, 4, objective).metrics;
  const counts: number[] = [];
  const evals: Array<Record<string, number>> = [];
  await train(model, d, cfg, { objective, onStep: () => counts.push(tf.memory().numTensors), onEval: (e) => evals.push(e.metrics) });
  return { before, after: evals.at(-1)!, counts };
}

describe('DPO through train()', () => {
  it('frozen reference: held-out rewards/accuracies 0 → > 0.9; no tensor leaks across steps', async () => {
    const policy = new TransformerLM(CFG);
    const ref = new TransformerLM(CFG); // same seed: the same weights as the policy at the start
    const live = tf.memory().numTensors;
    const { before, after, counts } = await run(policy, dpoObjective({ beta: 0.1, reference: ref, policy }));
    expect(before['rewards/accuracies']).toBe(0); // policy = reference: every reward is 0, TRL counts ties as wrong
    expect(after['eval_rewards/accuracies']).toBeGreaterThan(0.9);
    expect(after['eval_rewards/margins']).toBeGreaterThan(0);
    expect(after['eval_logps/chosen']).toBeGreaterThan(before['logps/chosen']!);
    expect(new Set(counts.slice(1, -1)).size).toBe(1); // steady across steps
    expect(tf.memory().numTensors).toBe(live);
    policy.dispose();
    ref.dispose();
  });

  it("LoRA policy, reference = the adapter-disabled base (no second copy): > 0.9; the base is unchanged", async () => {
    // width 64: LoRA cannot touch the tied embeddings, so "even ids up, odd ids down" must be a direction
    // of the residual stream; with 30 random 16-d embeddings no such direction exists (it plateaus at ≈ 0.75)
    const base = new TransformerLM({ ...CFG, nEmbd: 64 });
    const baseWeights = base.namedParameters().map(([n, v]) => [n, Float32Array.from(v.dataSync()), v] as const);
    const peft = getPeftModel(base, { peftType: 'LORA', r: 4, loraAlpha: 8, targetModules: 'all-linear' });
    const { before, after } = await run(peft, dpoObjective({ beta: 0.1, reference: 'adapters-disabled', policy: peft }), data(), { ...CONFIG, lr: 2e-2, maxIters: 30, evalInterval: 30 });
    expect(before['rewards/accuracies']).toBe(0); // LoRA B = 0: policy = base
    expect(after['eval_rewards/accuracies']).toBeGreaterThan(0.9);
    for (const [n, w, v] of baseWeights) expect(Array.from(v.dataSync()), n).toEqual(Array.from(w)); // the same variables, wrapped
    expect(peft.trainableParameters().every(([n]) => n.includes('lora_'))).toBe(true);
    // the default reference of a PeftModel policy is the adapter-disabled base too
    const d = data();
    expect(evaluateObjective(peft, d.val, 2, dpoObjective()).loss).toBeCloseTo(evaluateObjective(peft, data().val, 2, dpoObjective({ reference: 'adapters-disabled' })).loss, 6);
    peft.dispose();
  });

  it('a DPO run stopped at step 4 and resumed from its checkpoint = 8 steps in one go (pair batches resume exactly)', async () => {
    const ref = new TransformerLM(CFG);
    const cfg = { ...CONFIG, maxIters: 8, lrDecayIters: 8, evalInterval: 4, evalIters: 1, saveBest: false };
    const root = mkdtempSync(join(tmpdir(), 'align-resume-'));
    const a = new TransformerLM(CFG);
    await train(a, data(), { ...cfg, outDir: join(root, 'a') }, { objective: dpoObjective({ reference: ref }) });
    const b = new TransformerLM(CFG);
    await train(b, data(), { ...cfg, maxIters: 4, outDir: join(root, 'b') }, { objective: dpoObjective({ reference: ref }) });
    const ck = await loadTrainingCheckpoint(join(root, 'b', 'checkpoint'));
    await train(ck.model, data(), { ...cfg, outDir: join(root, 'b') }, { objective: dpoObjective({ reference: ref }), resume: ck });
    const wa = new Map(a.namedParameters().map(([n, v]) => [n, Array.from(v.dataSync())]));
    for (const [n, v] of ck.model.namedParameters()) expect(Array.from(v.dataSync()), n).toEqual(wa.get(n));
    tf.dispose([...(ck.optimizerState?.values() ?? [])]);
    [a, b, ck.model, ref].forEach((m) => m.dispose());
  });

  it('precomputed reference log-probs give the same loss and metrics as the frozen model', () => {
    const policy = new TransformerLM({ ...CFG, seed: 9 });
    const ref = new TransformerLM(CFG);
    const pre = precomputeReferenceLogps(ref, HELD_OUT, { padId: 0, batchSize: 5, policy });
    const a = evaluateObjective(policy, pairSource(pre, { batchSize: 8, seed: 0, padId: 0, shuffle: false }), 4, dpoObjective({ reference: 'precomputed' }));
    const b = evaluateObjective(policy, data().val, 4, dpoObjective({ reference: ref }));
    expect(a.loss).toBeCloseTo(b.loss, 5);
    for (const k of Object.keys(b.metrics)) expect(a.metrics[k], k).toBeCloseTo(b.metrics[k]!, 4);
    // IPO uses mean log-probs: precomputed sums are divided by the same response lengths
    expect(evaluateObjective(policy, pairSource(pre, { batchSize: 8, seed: 0, padId: 0, shuffle: false }), 4, ipoObjective({ reference: 'precomputed' })).loss).toBeCloseTo(evaluateObjective(policy, data().val, 4, ipoObjective({ reference: ref })).loss, 4);
    policy.dispose();
    ref.dispose();
  });

  it('a reference with another vocabulary is VOCAB_MISMATCH before any work; no reference is CONFIG_INVALID', () => {
    const policy = new TransformerLM(CFG);
    const other = new TransformerLM({ ...CFG, vocabSize: V + 8 });
    expectError(() => dpoObjective({ reference: other, policy }), 'VOCAB_MISMATCH', ['vocabulary of 40', 'policy 32'], AlignError);
    expectError(() => precomputeReferenceLogps(other, TRAIN, { padId: 0, policy }), 'VOCAB_MISMATCH', [], AlignError);
    expectError(() => evaluateObjective(policy, data().val, 1, dpoObjective()), 'CONFIG_INVALID', ['reference'], AlignError);
    expectError(() => ktoObjective({ reference: 'precomputed' }), 'UNSUPPORTED', [], AlignError);
    policy.dispose();
    other.dispose();
  });
});

describe('the other methods through the same loop', () => {
  it.each([
    ['ipo', (ref: TransformerLM) => ipoObjective({ beta: 0.1, reference: ref })],
    ['orpo', () => orpoObjective({ beta: 0.1 })],
    ['simpo', () => simpoObjective({ beta: 2, gamma: 0.5 })],
  ] as const)('%s raises held-out rewards/accuracies above 0.9', async (_name, make) => {
    const policy = new TransformerLM(CFG);
    const ref = new TransformerLM(CFG);
    const { after } = await run(policy, make(ref));
    expect(after['eval_rewards/accuracies']).toBeGreaterThan(0.9);
    policy.dispose();
    ref.dispose();
  });

  it('kto (unpaired rows, KL rows) raises held-out rewards/chosen above rewards/rejected', async () => {
    const unpair = (pairs: PairExample[]): TokenizedUnpaired[] => pairs.flatMap((p, i) => [{ promptIds: p.promptIds, completionIds: p.chosenIds, label: true, source: `${p.source}+` }, { promptIds: p.promptIds, completionIds: p.rejectedIds, label: false, source: `${p.source}-` }].slice(i % 2, i % 2 + 1 + (i % 3 === 0 ? 1 : 0)));
    const policy = new TransformerLM(CFG);
    const ref = new TransformerLM(CFG);
    const d = { train: unpairedSource(unpair(TRAIN), { batchSize: 8, seed: 3, padId: 0 }), val: unpairedSource(unpair(HELD_OUT), { batchSize: 8, seed: 0, padId: 0, shuffle: false }) };
    const { after } = await run(policy, ktoObjective({ beta: 0.1, reference: ref }), d as never);
    expect(after['eval_rewards/chosen']! - after['eval_rewards/rejected']!).toBeGreaterThan(0.05);
    expect(after.eval_kl).toBeGreaterThanOrEqual(0);
    policy.dispose();
    ref.dispose();
  });
});

describe('heads through train()', () => {
  it('reward model (SequenceClassifier, 1 output) learns the preference: held-out accuracy > 0.9', async () => {
    const rm = new HeadModel(new SequenceClassifier(new TransformerLM(CFG), { numLabels: 1 }));
    const { after } = await run(rm, rewardObjective(), data(), { ...CONFIG, lr: 1e-2, maxIters: 40, evalInterval: 40 });
    expect(after.eval_accuracy).toBeGreaterThan(0.9);
    rm.dispose();
  });

  it('classifier on a frozen backbone: only the head changes; accuracy rises', async () => {
    const r = new Rng(4);
    const mk = (n: number): TextExample[] => Array.from({ length: n }, () => {
      const label = r.next() < 0.5 ? 1 : 0;
      return { ids: Array.from({ length: 4 }, () => 2 + 2 * Math.floor(r.next() * 15) + label), label };
    });
    const backbone = new TransformerLM(CFG);
    const frozen = backbone.namedParameters().map(([, v]) => Float32Array.from(v.dataSync()));
    const clf = new HeadModel(new SequenceClassifier(backbone, { numLabels: 2 }), { freezeBackbone: true });
    expect(clf.trainableParameters().map(([n]) => n)).toEqual(['score.weight']);
    const d = { train: textSource(mk(64), { batchSize: 16, seed: 1, padId: 0 }), val: textSource(mk(64), { batchSize: 16, seed: 0, padId: 0, shuffle: false }) };
    const { after } = await run(clf, classifierObjective(), d as never, { ...CONFIG, lr: 0.1, minLr: 0.01, maxIters: 150, evalInterval: 150 });
    expect(after.eval_accuracy).toBeGreaterThan(0.75);
    expect(after.eval_f1).toBeGreaterThan(0.7);
    backbone.namedParameters().forEach(([n, v], i) => expect(Array.from(v.dataSync()), n).toEqual(Array.from(frozen[i]!)));
    expectError(() => evaluateObjective(backbone, d.val, 1, classifierObjective()), 'INVALID_ARGUMENT', ['HeadModel'], AlignError);
    clf.dispose();
  });

  it('regressor head (1 output) fits a target: held-out mse falls below a third of the untrained one', async () => {
    const r = new Rng(6);
    const mk = (n: number): TextExample[] => Array.from({ length: n }, () => {
      const ids = Array.from({ length: 4 }, () => 2 + Math.floor(r.next() * 30));
      return { ids, target: ids.filter((x) => x % 2 === 0).length / 4 }; // share of even ids
    });
    const reg = new HeadModel(new SequenceClassifier(new TransformerLM(CFG), { numLabels: 1 }));
    const d = { train: textSource(mk(64), { batchSize: 16, seed: 1, padId: 0 }), val: textSource(mk(32), { batchSize: 16, seed: 0, padId: 0, shuffle: false }) };
    const { before, after } = await run(reg, regressorObjective(), d as never, { ...CONFIG, evalIters: 2, lr: 1e-2, maxIters: 60, evalInterval: 60 });
    expect(after.eval_mse).toBeLessThan(before.mse! / 3);
    reg.dispose();
  });
});
