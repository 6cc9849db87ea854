/**
 * Greedy generation for generation tasks: a prefill and then one token per step over the model's
 * KV cache, argmax each time (no sampling, so no seed). @llm/train does not depend on @llm/sample;
 * this plain loop is all a task needs. Stops at an EOS id of the model's config, when `stop` says
 * so (e.g. an `until` string appeared), or after maxNewTokens. The prompt keeps its last
 * blockSize − maxNewTokens tokens (lm-eval: max_length − max_gen_toks).
 *
 *   greedyGenerate(model, [5, 9, 2], { maxNewTokens: 4 })   // → e.g. [7, 7, 1, 3] (new ids only)
 */
import { tf } from '@llm/tensor-gpu';
import type { CausalLM } from '@llm/transformer';
import { TrainError } from '../errors.js';

export interface GreedyOptions {
  maxNewTokens: number;
  /** Called with the new ids after each token; true ends the generation. */
  stop?: (newIds: readonly number[]) => boolean;
}

export function greedyGenerate(model: CausalLM, prompt: readonly number[], opts: GreedyOptions): number[] {
  const T = model.config.blockSize;
  const max = Math.min(opts.maxNewTokens, T - 1);
  if (prompt.length === 0) throw new TrainError('INVALID_ARGUMENT', 'greedyGenerate: empty prompt');
  if (!Number.isInteger(max) || max < 1) throw new TrainError('INVALID_ARGUMENT', `maxNewTokens must be an integer ≥ 1, got ${opts.maxNewTokens}`);
  const eos = model.config.eosTokenId;
  const eosIds = new Set(eos === null || eos === undefined ? [] : typeof eos === 'number' ? [eos] : eos);
  const ids = prompt.slice(-(T - max));
  const cache = model.createCache(1, T);
  const out: number[] = [];
  try {
    let input = ids;
    while (out.length < max) {
      const next = tf.tidy(() => tf.argMax(model.forward(tf.tensor2d(input, [1, input.length], 'int32'), { cache, logitsToKeep: 1 }).reshape([-1]))); // [V] → []
      const id = next.dataSync()[0]!;
      next.dispose();
      if (eosIds.has(id)) break;
      out.push(id);
      if (opts.stop?.(out)) break;
      input = [id];
    }
  } finally {
    cache.dispose();
  }
  return out;
}
