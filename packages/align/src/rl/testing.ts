/**
 * Test helpers for the RL trainers (not part of the public API): a tiny policy, a verifiable task
 * and an independent measurement of the KL to the reference.
 *
 * The task: reward = fraction of the completion's tokens equal to TARGET. A freshly initialised
 * model spreads its mass over the vocabulary, so the reward starts near 1/V, not at its maximum 1.
 */
import { tf } from '@llm/tensor-gpu';
import { generate } from '@llm/sample';
import { TransformerLM } from '@llm/transformer';
import type { RlReference } from './rollout.js';

export const TINY = { family: 'gpt2', vocabSize: 12, nLayer: 1, nHead: 2, nEmbd: 16, blockSize: 16, seed: 7 } as const;
export const TARGET = 5;
export const PROMPTS: number[][] = [[1, 2], [3, 4], [6, 7], [8, 9], [10, 11], [2, 9]];
export const NEW_TOKENS = 4;

/** Reward: the share of completion tokens equal to TARGET (named, so GRPO logs rewards/targetShare/mean). */
export function targetShare(_prompt: string | readonly number[], completion: readonly number[]): number {
  return completion.length ? completion.filter((t) => t === TARGET).length / completion.length : 0;
}

export const tinyPolicy = (): TransformerLM => new TransformerLM(TINY);

/**
 * Independent check: sample `rows` completions from `policy` (seeded), then the exact KL of the
 * policy's next-token distribution to the reference's, Σ_v π(v)·(log π(v) − log π_ref(v)), averaged
 * over the sampled completion positions (per token, nats), and the mean reward of those samples.
 */
export function measure(policy: TransformerLM | { forward: TransformerLM['forward']; run: TransformerLM['run']; config: TransformerLM['config']; createCache: TransformerLM['createCache'] }, reference: (fn: (m: RlReference) => tf.Tensor) => tf.Tensor, seed: number, rows = 48): { klPerToken: number; reward: number } {
  const prompts = Array.from({ length: rows }, (_, i) => PROMPTS[i % PROMPTS.length]!);
  const { sequences } = generate(policy, prompts, { maxNewTokens: NEW_TOKENS, temperature: 1, seed, eosTokenId: null });
  let kl = 0;
  let n = 0;
  let reward = 0;
  sequences.forEach((c, b) => {
    reward += targetShare([], c);
    const ids = [...prompts[b]!, ...c];
    tf.tidy(() => {
      const x = tf.tensor2d([ids], [1, ids.length], 'int32');
      const lp = tf.logSoftmax(policy.forward(x)); // [1, T, V]
      const lq = tf.logSoftmax(reference((m) => m.run(x).logits!));
      const perPos = tf.exp(lp).mul(lp.sub(lq)).sum(-1).dataSync(); // [1, T]
      for (let t = prompts[b]!.length - 1; t < ids.length - 1; t++) {
        kl += perPos[t]!;
        n++;
      }
    });
  });
  return { klPerToken: kl / n, reward: reward / rows };
}
