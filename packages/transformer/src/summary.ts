/**
 * Parameter counts and a one-line model summary.
 *
 *   countParameters(model);                    // 801_920
 *   summarize(model);  // "gpt2 · 0.80M params · 4 layers · width 128 · 4 heads (D 32) · context 64 · vocab 65 · tied head"
 */
import type { TransformerLM } from './model.js';

export interface CountOptions {
  /** Count only trainable weights. Default false. */
  trainableOnly?: boolean;
}

/** Number of scalar weights (a tied head is counted once). */
export function countParameters(model: TransformerLM, opts: CountOptions = {}): number {
  let n = 0;
  for (const [, v] of model.namedParameters()) if (!opts.trainableOnly || v.trainable) n += v.size;
  return n;
}

/** 1234 → "1.23K", 801920 → "0.80M", 124439808 → "124.44M". */
export function formatCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}B`;
  if (n >= 1e5) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(2)}K`;
  return String(n);
}

/** One line: family, params (trainable if fewer), layers, width, heads, context, vocab, MoE. */
export function summarize(model: TransformerLM): string {
  const c = model.config;
  const total = countParameters(model);
  const trainable = countParameters(model, { trainableOnly: true });
  const heads = c.nKvHead === c.nHead ? `${c.nHead} heads (D ${c.headDim})` : `${c.nHead} heads / ${c.nKvHead} kv (D ${c.headDim})`;
  return [
    c.family,
    `${formatCount(total)} params${trainable !== total ? ` (${formatCount(trainable)} trainable)` : ''}`,
    `${c.nLayer} layers`,
    `width ${c.nEmbd}`,
    heads,
    `context ${c.blockSize}`,
    `vocab ${c.vocabSize}`,
    ...(c.nExperts > 0 ? [`MoE ${c.nExpertsPerTok}/${c.nExperts} experts`] : []),
    ...(c.tieWordEmbeddings ? ['tied head'] : []),
  ].join(' · ');
}
