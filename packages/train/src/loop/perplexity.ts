/**
 * Exact perplexity over a token range: the range is cut into consecutive windows of up to
 * blockSize + 1 tokens; every token after the first of the range is predicted once, from the
 * tokens before it in its window (windows of one batch are right-padded and masked).
 *
 *   const r = rangePerplexity(model, { shard, start: 0, end: shard.count }, { batchSize: 8 });
 *   r.tokens;      // shard.count − 1 (well, minus one per window start)
 *   r.perplexity;  // exp(mean loss)
 */
import { tf, crossEntropy, IGNORE_INDEX } from '@llm/tensor-gpu';
import type { CausalLM } from '@llm/transformer';
import type { TokenRange } from '../data/batches.js';

export interface PerplexityResult {
  /** Tokens scored. */
  tokens: number;
  /** Mean next-token loss, nats per token. */
  loss: number;
  perplexity: number;
}

export function rangePerplexity(model: CausalLM, range: TokenRange, opts: { batchSize?: number } = {}): PerplexityResult {
  const T = model.config.blockSize;
  const batchSize = opts.batchSize ?? 8;
  const windows: Array<[number, number]> = []; // [start, tokens scored]
  for (let s = range.start; s + 1 < range.end; s += T) windows.push([s, Math.min(T, range.end - 1 - s)]);
  let sum = 0;
  let n = 0;
  for (let i = 0; i < windows.length; i += batchSize) {
    const group = windows.slice(i, i + batchSize);
    const L = Math.max(...group.map(([, len]) => len));
    const inputs = new Int32Array(group.length * L);
    const targets = new Int32Array(group.length * L).fill(IGNORE_INDEX);
    const mask = group.map(() => new Array<number>(L).fill(0));
    group.forEach(([s, len], b) => {
      const w = range.shard.read(s, len + 1);
      inputs.set(w.subarray(0, len), b * L);
      targets.set(w.subarray(1), b * L);
      mask[b]!.fill(1, 0, len);
    });
    sum += tf.tidy(() => {
      const x = tf.tensor2d(inputs, [group.length, L], 'int32'); // [B, L]
      const y = tf.tensor2d(targets, [group.length, L], 'int32'); // [B, L]
      return crossEntropy(model.forward(x, { attentionMask: mask }), y, { reduction: 'sum' }).dataSync()[0]!;
    });
    n += group.reduce((a, [, len]) => a + len, 0);
  }
  const loss = sum / n;
  return { tokens: n, loss, perplexity: Math.exp(loss) };
}
