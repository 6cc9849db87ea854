// GRPO end to end on a tiny model and a verifiable task (testing.ts): the reward rises while the
// KL to the reference stays under a stated bound (and drifts further without the β·KL term);
// metrics, several weighted reward functions, a reward model, LoRA, errors, abort, leaks.
import { beforeAll, describe, expect, it } from 'vitest';
import { tf, initBackend } from '@llm/tensor-gpu';
import { SequenceClassifier, TransformerLM } from '@llm/transformer';
import { getPeftModel } from '@llm/peft';
import { grpoTrain, type GrpoConfig } from './grpo.js';
import { NEW_TOKENS, PROMPTS, TARGET, TINY, measure, targetShare, tinyPolicy } from './testing.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm', log: false });
});

const base = (o: Partial<GrpoConfig> = {}): GrpoConfig => ({
  prompts: PROMPTS,
  reward: targetShare,
  steps: 3,
  promptsPerStep: 2,
  numGenerations: 8,
  maxNewTokens: NEW_TOKENS,
  eosTokenId: null,
  learningRate: 1e-2,
  beta: 0.4,
  seed: 1,
  ...o,
});

/** Stated bound: mean per-token KL(π‖π_ref) ≤ 1.5 nats (a policy collapsed on the target token: ln 12 ≈ 2.48). */
const KL_BOUND = 1.5;

describe('grpoTrain', () => {
  it('raises the reward on the target-token task while the KL to the reference stays under the bound', async () => {
    const run = async (beta: number) => {
      const policy = tinyPolicy();
      const counts: number[] = [];
      const n0 = tf.memory().numTensors;
      const r = await grpoTrain(policy, base({ steps: 40, beta, logKl: true, onStep: () => void counts.push(tf.memory().numTensors) }));
      expect(tf.memory().numTensors).toBe(n0 + 0); // the frozen reference copy and optimizer state are freed
      expect(new Set(counts.slice(1)).size).toBe(1);
      return { policy, history: r.history };
    };
    const reference = new TransformerLM(TINY); // the initial weights
    const fresh = tinyPolicy();
    const before = measure(fresh, (fn) => fn(reference), 99);
    fresh.dispose();
    const { policy, history } = await run(0.4);
    const after = measure(policy, (fn) => fn(reference), 99);
    const first = [history[0]!].reduce((a, m) => a + m.reward!, 0); // the first rollout, from the initial weights
    const last = history.slice(-10).reduce((a, m) => a + m.reward!, 0) / 10;
    expect(before.reward).toBeLessThan(0.15);
    expect(first).toBeLessThan(0.2);
    expect(last).toBeGreaterThan(first + 0.25);
    expect(after.reward).toBeGreaterThan(before.reward + 0.25);
    expect(history[0]!.kl).toBeCloseTo(0, 5);
    expect(after.klPerToken).toBeGreaterThan(0.05);
    expect(after.klPerToken).toBeLessThan(KL_BOUND);
    for (const m of history.slice(-10)) expect(m.kl!).toBeLessThan(2 * KL_BOUND); // the logged k3 estimate on sampled tokens
    // without the KL term (TRL's default β = 0) the same run drifts further from the reference
    const free = await run(0);
    const freeAfter = measure(free.policy, (fn) => fn(reference), 99);
    expect(freeAfter.klPerToken).toBeGreaterThan(after.klPerToken);
    free.policy.dispose();
    policy.dispose();
    reference.dispose();
  });

  it("logs TRL's metric names; weighted reward functions sum; seeded runs repeat", async () => {
    const isFirstTarget = function startsWithTarget(_p: string | readonly number[], c: readonly number[]) {
      return c[0] === TARGET ? 1 : 0;
    };
    const run = async () => {
      const policy = tinyPolicy();
      const r = await grpoTrain(policy, base({ steps: 2, reward: [targetShare, isFirstTarget], rewardWeights: [1, 0.5], numIterations: 2 }));
      policy.dispose();
      return r.history;
    };
    const h = await run();
    for (const k of ['reward', 'reward_std', 'kl', 'completions/mean_length', 'completions/min_length', 'completions/max_length', 'clip_ratio', 'clip_ratio/low_mean', 'clip_ratio/high_mean', 'clip_ratio/region_mean', 'entropy', 'frac_reward_zero_std', 'loss', 'rewards/targetShare/mean', 'rewards/targetShare/std', 'rewards/startsWithTarget/mean']) {
      expect(Number.isFinite(h[1]![k]), k).toBe(true);
    }
    for (const m of h) expect(m.reward).toBeCloseTo(m['rewards/targetShare/mean']! + 0.5 * m['rewards/startsWithTarget/mean']!, 6);
    expect(h[0]!['completions/mean_length']).toBe(NEW_TOKENS);
    const again = await run();
    expect(again.map((m) => m.loss)).toEqual(h.map((m) => m.loss));
  });

  it('trains only a LoRA adapter (reference = adapter off) and takes a reward model', async () => {
    const model = tinyPolicy();
    const frozen = model.namedParameters().map(([, v]) => [v, Float32Array.from(v.dataSync())] as const);
    const peft = getPeftModel(model, { peftType: 'LORA', r: 4, loraAlpha: 8 });
    const rm = new SequenceClassifier(new TransformerLM({ ...TINY, seed: 3 }), { numLabels: 1 });
    const { history } = await grpoTrain(peft, base({ steps: 3, reward: [rm, targetShare] }));
    expect(history[0]!.kl).toBeCloseTo(0, 5);
    expect(history[2]!.kl).toBeGreaterThan(0);
    for (const [v, w] of frozen) expect(Array.from(v.dataSync())).toEqual(Array.from(w));
    rm.dispose();
    rm.backbone.dispose();
    peft.dispose();
  });

  it('takes text prompts through a tokenizer and passes texts to reward functions', async () => {
    const chars = 'abcdefghijkl'; // a 12-character vocabulary, one id per character
    const tokenizer = { encode: (t: string) => [...t].map((c) => chars.indexOf(c)), decode: (ids: ArrayLike<number>) => Array.from(ids, (i) => chars[i]).join('') };
    const seen: Array<[unknown, string | null]> = [];
    const policy = tinyPolicy();
    await grpoTrain(policy, base({ steps: 1, prompts: ['abc', 'kj'], tokenizer, beta: 0, reward: (p, c, text) => (seen.push([p, text]), text === tokenizer.decode(c) ? 1 : 0) }));
    expect(seen).toHaveLength(16);
    expect(seen.every(([p, t]) => (p === 'abc' || p === 'kj') && typeof t === 'string' && t.length === NEW_TOKENS)).toBe(true);
    policy.dispose();
  });

  it('refuses another vocabulary and bad settings with typed errors; stops on abort', async () => {
    const policy = tinyPolicy();
    const other = new TransformerLM({ ...TINY, vocabSize: 20 });
    await expect(grpoTrain(policy, base({ reference: other }))).rejects.toMatchObject({ name: 'AlignError', code: 'VOCAB_MISMATCH' });
    const rm = new SequenceClassifier(other, { numLabels: 1 });
    await expect(grpoTrain(policy, base({ reward: [targetShare, rm] }))).rejects.toMatchObject({ code: 'VOCAB_MISMATCH' });
    await expect(grpoTrain(policy, base({ numGenerations: 1 }))).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await expect(grpoTrain(policy, base({ lossType: 'nope' as never }))).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await expect(grpoTrain(policy, base({ rewardWeights: [1, 2] }))).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await expect(grpoTrain(policy, base({ prompts: ['text'] }))).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    const ac = new AbortController();
    const n0 = tf.memory().numTensors;
    const r = await grpoTrain(policy, base({ steps: 10, signal: ac.signal, onStep: (_m, s) => (s === 2 ? ac.abort() : undefined) }));
    expect(r).toMatchObject({ aborted: true });
    expect(r.history).toHaveLength(3);
    expect(tf.memory().numTensors).toBe(n0);
    rm.dispose();
    other.dispose();
    policy.dispose();
  });
});
