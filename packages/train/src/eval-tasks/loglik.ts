/**
 * Batched log-likelihood of continuations, as lm-evaluation-harness's `loglikelihood`: for each
 * (context, continuation) the model reads (context + continuation) minus its last token — its last
 * blockSize tokens when longer, so the context is cut from the left — and the log-probabilities of
 * the continuation's tokens are summed. `greedy` says whether every continuation token was the
 * argmax. Requests are sorted by length and grouped into batches: one forward per batch, right-padded,
 * with an attention mask.
 *
 *   // a model whose next-token distribution is 0.5 / 0.25 / 0.125 / 0.125 whatever came before:
 *   loglikelihoods(model, [{ context: [0], continuation: [0, 1] }])   // → [{ logprob: ln 0.5 + ln 0.25 = −2.079, greedy: false }]
 */
import { tf } from '@llm/tensor-gpu';
import type { CausalLM } from '@llm/transformer';
import { TrainError } from '../errors.js';

export interface LoglikRequest {
  /** Token ids before the continuation (at least one). */
  context: readonly number[];
  /** Token ids scored (at least one, at most blockSize). */
  continuation: readonly number[];
}

export interface LoglikResult {
  /** Sum of ln p(token | everything before it) over the continuation. */
  logprob: number;
  /** Every continuation token was the model's argmax. */
  greedy: boolean;
}

export interface LoglikOptions {
  /** Requests per forward pass. Default 8. */
  batchSize?: number;
  /** Called after each batch with the number of requests done so far. */
  onBatch?: (done: number, total: number) => void;
}

export function loglikelihoods(model: CausalLM, requests: readonly LoglikRequest[], opts: LoglikOptions = {}): LoglikResult[] {
  const T = model.config.blockSize;
  const batchSize = opts.batchSize ?? 8;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new TrainError('INVALID_ARGUMENT', `batchSize must be an integer ≥ 1, got ${batchSize}`);
  const inputs = requests.map((r, i) => {
    if (r.context.length === 0) throw new TrainError('INVALID_ARGUMENT', `request ${i}: empty context (a continuation needs at least one token before it)`);
    if (r.continuation.length === 0) throw new TrainError('INVALID_ARGUMENT', `request ${i}: empty continuation`);
    if (r.continuation.length > T) throw new TrainError('INVALID_ARGUMENT', `request ${i}: a continuation of ${r.continuation.length} tokens does not fit the model's context of ${T}`);
    const whole = [...r.context, ...r.continuation];
    return whole.slice(Math.max(0, whole.length - 1 - T), whole.length - 1); // [≤ T] the model's input
  });
  const order = requests.map((_, i) => i).sort((a, b) => inputs[b]!.length - inputs[a]!.length || a - b); // longest first: little padding
  const out: LoglikResult[] = new Array(requests.length);
  for (let s = 0; s < order.length; s += batchSize) {
    const group = order.slice(s, s + batchSize);
    const L = inputs[group[0]!]!.length;
    const ids = new Int32Array(group.length * L);
    const mask = group.map(() => new Array<number>(L).fill(0));
    const rows: number[] = []; // flat row b·L + t of each scored position
    const targets: number[] = [];
    group.forEach((r, b) => {
      const x = inputs[r]!;
      ids.set(x, b * L);
      mask[b]!.fill(1, 0, x.length);
      const cont = requests[r]!.continuation;
      cont.forEach((tok, j) => {
        rows.push(b * L + x.length - cont.length + j); // the position whose logits predict cont[j]
        targets.push(tok);
      });
    });
    const [chosen, argmax] = tf.tidy(() => {
      const logits = model.forward(tf.tensor2d(ids, [group.length, L], 'int32'), { attentionMask: mask }); // [B, L, V]
      const V = logits.shape[2];
      const lsm = tf.gather(tf.logSoftmax(logits.reshape([group.length * L, V])), tf.tensor1d(rows, 'int32')); // [R, V]
      return [tf.sum(tf.mul(lsm, tf.oneHot(tf.tensor1d(targets, 'int32'), V)), 1), tf.argMax(lsm, 1)]; // [R], [R]
    });
    const picked = chosen.dataSync();
    const best = argmax.dataSync();
    tf.dispose([chosen, argmax]);
    let k = 0;
    for (const r of group) {
      let logprob = 0;
      let greedy = true;
      for (let j = 0; j < requests[r]!.continuation.length; j++, k++) {
        logprob += picked[k]!;
        if (best[k] !== targets[k]) greedy = false;
      }
      out[r] = { logprob, greedy };
    }
    opts.onBatch?.(Math.min(s + batchSize, order.length), order.length);
  }
  return out;
}
