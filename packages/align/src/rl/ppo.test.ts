// PPO end to end on a tiny model and a verifiable task (testing.ts): the reward rises while the
// KL to the reference stays under a stated bound; metrics, adaptive KL, LoRA, errors, abort, leaks.
import { beforeAll, describe, expect, it } from 'vitest';
import { tf, initBackend } from '@llm/tensor-gpu';
import { SequenceClassifier, TransformerLM } from '@llm/transformer';
import { getPeftModel } from '@llm/peft';
import { AlignError } from '../errors.js';
import { ppoTrain, type PpoConfig } from './ppo.js';
import { NEW_TOKENS, PROMPTS, TINY, measure, targetShare, tinyPolicy } from './testing.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm', log: false });
});

const base = (o: Partial<PpoConfig> = {}): PpoConfig => ({
  prompts: PROMPTS,
  reward: targetShare,
  steps: 3,
  batchSize: 16,
  miniBatchSize: 8,
  numPpoEpochs: 2,
  maxNewTokens: NEW_TOKENS,
  eosTokenId: null,
  learningRate: 1e-2,
  klCoef: 0.1,
  seed: 1,
  ...o,
});

/** Stated bound: mean per-token KL(π‖π_ref) ≤ 1 nat (a policy collapsed on the target token would be at ln 12 ≈ 2.48). */
const KL_BOUND = 1.0;

describe('ppoTrain', () => {
  it('raises the reward on the target-token task while the KL to the reference stays under the bound', async () => {
    const policy = tinyPolicy();
    const reference = new TransformerLM(TINY); // same seed: the initial policy's weights
    const before = measure(policy, (fn) => fn(reference), 99);
    const counts: number[] = [];
    const tensors0 = tf.memory().numTensors;
    const { history, aborted } = await ppoTrain(policy, base({ steps: 40, reference, onStep: () => void counts.push(tf.memory().numTensors) }));
    expect(tf.memory().numTensors).toBe(tensors0); // optimizer state and the value head are freed
    expect(new Set(counts.slice(1)).size).toBe(1); // no growth from step to step
    const after = measure(policy, (fn) => fn(reference), 99);
    expect(aborted).toBe(false);
    expect(history).toHaveLength(40);
    const first = [history[0]!].reduce((a, m) => a + m['objective/scores']!, 0); // the first rollout, from the initial weights
    const last = history.slice(-10).reduce((a, m) => a + m['objective/scores']!, 0) / 10;
    // not satisfied at the start (≈ 1/12 of tokens hit the target by chance)
    expect(before.reward).toBeLessThan(0.15);
    expect(first).toBeLessThan(0.2);
    // raised: on the training rollouts and on fresh samples
    expect(last).toBeGreaterThan(first + 0.2);
    expect(after.reward).toBeGreaterThan(before.reward + 0.2);
    // KL: measured exactly on fresh samples, and the logged k1 estimate (per sequence of NEW_TOKENS)
    expect(before.klPerToken).toBeLessThan(1e-6);
    expect(after.klPerToken).toBeGreaterThan(0.05);
    expect(after.klPerToken).toBeLessThan(KL_BOUND);
    for (const m of history.slice(-10)) expect(m['objective/kl']! / NEW_TOKENS).toBeLessThan(1.5 * KL_BOUND);
    reference.dispose();
    policy.dispose();
  });

  it("logs TRL's metric names; rlhf_reward = scores + non_score_reward; seeded runs repeat", async () => {
    const run = async () => {
      const policy = tinyPolicy();
      const r = await ppoTrain(policy, base({ steps: 2, klEstimator: 'k3' }));
      policy.dispose();
      return r.history;
    };
    const h = await run();
    for (const k of ['objective/kl', 'objective/entropy', 'objective/non_score_reward', 'objective/rlhf_reward', 'objective/scores', 'policy/approxkl_avg', 'policy/clipfrac_avg', 'loss/policy_avg', 'loss/value_avg', 'val/clipfrac_avg', 'policy/entropy_avg', 'val/ratio', 'val/ratio_var', 'val/num_eos_tokens', 'objective/kl_coef', 'lr', 'episode']) {
      expect(Number.isFinite(h[1]![k]), k).toBe(true);
    }
    expect(h[1]!['objective/rlhf_reward']).toBeCloseTo(h[1]!['objective/scores']! + h[1]!['objective/non_score_reward']!, 5);
    expect(h[0]!['objective/kl']).toBeCloseTo(0, 5); // the first rollout comes from the reference weights
    expect(h[1]!['objective/kl']).toBeGreaterThanOrEqual(0); // k3 ≥ 0
    expect(h[1]!.episode).toBe(32);
    const again = await run();
    expect(again.map((m) => m['objective/scores'])).toEqual(h.map((m) => m['objective/scores']));
    expect(again[1]!['loss/policy_avg']).toBe(h[1]!['loss/policy_avg']);
  });

  it('adaptive KL: the coefficient follows Ziegler et al.’s update from the logged KL', async () => {
    const policy = tinyPolicy();
    const target = 0.5;
    const horizon = 40;
    const { history, klCoef } = await ppoTrain(policy, base({ steps: 4, klCoef: 0.2, adaptiveKl: { target, horizon } }));
    policy.dispose();
    expect(history[0]!['objective/kl_coef']).toBe(0.2);
    const coefs = [...history.map((m) => m['objective/kl_coef']!), klCoef];
    for (let s = 0; s < history.length; s++) {
      const e = Math.min(0.2, Math.max(-0.2, history[s]!['objective/kl']! / target - 1));
      expect(coefs[s + 1]).toBeCloseTo(coefs[s]! * (1 + (e * 16) / horizon), 10);
    }
    expect(coefs.some((c) => c !== 0.2)).toBe(true);
  });

  it('trains only a LoRA adapter; the reference is the base with the adapter off', async () => {
    const model = tinyPolicy();
    const baseWeights = model.namedParameters().map(([n, v]) => [n, v, Float32Array.from(v.dataSync())] as const);
    const peft = getPeftModel(model, { peftType: 'LORA', r: 4, loraAlpha: 8, targetModules: 'all-linear' });
    const adapter0 = peft.trainableParameters().map(([, v]) => Float32Array.from(v.dataSync()));
    const { history } = await ppoTrain(peft, base({ steps: 3 }));
    expect(history[0]!['objective/kl']).toBeCloseTo(0, 5); // B = 0 at init: policy = base = reference
    expect(history[2]!['objective/kl']).not.toBe(0);
    for (const [n, v, w] of baseWeights) expect(Array.from(v.dataSync()), n).toEqual(Array.from(w));
    const moved = peft.trainableParameters().some(([, v], i) => Array.from(v.dataSync()).some((x, j) => x !== adapter0[i]![j]));
    expect(moved).toBe(true);
    peft.dispose();
  });

  it('takes a reward model (SequenceClassifier, one label)', async () => {
    const policy = tinyPolicy();
    const rm = new SequenceClassifier(new TransformerLM({ ...TINY, seed: 3 }), { numLabels: 1 });
    const { history } = await ppoTrain(policy, base({ steps: 1, reward: rm }));
    expect(Number.isFinite(history[0]!['objective/scores'])).toBe(true);
    expect(history[0]!['objective/scores']).not.toBe(0);
    rm.dispose();
    rm.backbone.dispose();
    policy.dispose();
  });

  it('refuses another vocabulary (VOCAB_MISMATCH) and bad settings (CONFIG_INVALID), leaking nothing', async () => {
    const policy = tinyPolicy();
    const n0 = tf.memory().numTensors;
    const other = new TransformerLM({ ...TINY, vocabSize: 20 });
    const n1 = tf.memory().numTensors;
    await expect(ppoTrain(policy, base({ reference: other }))).rejects.toMatchObject({ name: 'AlignError', code: 'VOCAB_MISMATCH' });
    const rm = new SequenceClassifier(other, { numLabels: 1 });
    const n2 = tf.memory().numTensors;
    await expect(ppoTrain(policy, base({ reward: rm }))).rejects.toMatchObject({ code: 'VOCAB_MISMATCH' });
    await expect(ppoTrain(policy, base({ reward: new SequenceClassifier(policy, { numLabels: 2 }) }))).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await expect(ppoTrain(policy, base({ klEstimator: 'k2' as never }))).rejects.toBeInstanceOf(AlignError);
    await expect(ppoTrain(policy, base({ batchSize: 1 }))).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await expect(ppoTrain(policy, base({ prompts: [[1, 99]] }))).rejects.toMatchObject({ code: 'DATA_INVALID' });
    await expect(ppoTrain(policy, base({ reward: () => NaN }))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(tf.memory().numTensors).toBe(n2 + 1); // the 2-label classifier's score weight only
    rm.dispose();
    expect(n1).toBeGreaterThan(n0);
    other.dispose();
    policy.dispose();
  });

  it('stops on an AbortSignal with the steps done so far', async () => {
    const policy = tinyPolicy();
    const ac = new AbortController();
    const n0 = tf.memory().numTensors;
    const r = await ppoTrain(policy, base({ steps: 10, signal: ac.signal, onStep: (_m, s) => (s === 1 ? ac.abort() : undefined) }));
    expect(r.aborted).toBe(true);
    expect(r.history).toHaveLength(2);
    expect(tf.memory().numTensors).toBe(n0);
    policy.dispose();
  });
});
