/**
 * Log-probability scoring of a continuation (used by evaluation and alignment): one forward pass
 * over prompt + continuation; the log-probability the model gives each continuation token.
 *
 *   const s = scoreContinuation(model, encode('The capital of France is'), encode(' Paris'));
 *   s.total;        // Σ log p(token | prefix), e.g. −1.73
 *   s.perplexity;   // exp(−total / tokens)
 */
import { tf } from '@llm/tensor-gpu';
import { SampleError } from './errors.js';
import type { CausalLMLike } from './model.js';
import { checkTokenIds } from './prompt.js';

export interface ContinuationScore {
  /** log p of each continuation token given everything before it. */
  logProbs: number[];
  total: number;
  mean: number;
  perplexity: number;
}

export function scoreContinuation(model: CausalLMLike, prompt: readonly number[], continuation: readonly number[]): ContinuationScore {
  if (!isIdList(prompt) || !isIdList(continuation)) throw new SampleError('INVALID_ARGUMENT', 'scoreContinuation takes the prompt and the continuation as arrays of token ids.');
  if (prompt.length === 0) throw new SampleError('INVALID_ARGUMENT', 'the prompt must have at least one token (the first token has no prediction).');
  if (continuation.length === 0) throw new SampleError('INVALID_ARGUMENT', 'the continuation is empty.');
  const ids = [...prompt, ...continuation];
  checkTokenIds(ids, model.config.vocabSize, 'prompt + continuation');
  if (ids.length - 1 > model.config.blockSize) throw new SampleError('INVALID_ARGUMENT', `prompt + continuation (${ids.length} tokens) exceed the model's context of ${model.config.blockSize} + 1.`);
  const V = model.config.vocabSize;
  const input = ids.slice(0, -1);
  const C = continuation.length;
  const logProbs = tf.tidy(() => {
    const logits = model.forward(tf.tensor2d([input], [1, input.length], 'int32'), { logitsToKeep: C }); // [1, C, V]
    const lsm = tf.logSoftmax(logits.reshape([C, V])); // [C, V]
    const picked = tf.gather(lsm.reshape([C * V]), tf.tensor1d(continuation.map((id, i) => i * V + id), 'int32')); // [C]
    return Array.from(picked.dataSync());
  });
  const bad = logProbs.findIndex((x) => Number.isNaN(x));
  if (bad >= 0) throw new SampleError('NON_FINITE_LOGITS', `scoreContinuation: the model's logits at continuation token ${bad} are not finite (NaN): its weights or activations are broken; check the model`);
  const total = logProbs.reduce((a, b) => a + b, 0);
  return { logProbs, total, mean: total / C, perplexity: Math.exp(-total / C) };
}

const isIdList = (x: unknown): x is readonly number[] => Array.isArray(x) || ArrayBuffer.isView(x);
