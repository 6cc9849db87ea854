/**
 * Nucleus (top-p) truncation, as HF transformers' TopPLogitsWarper (generation/logits_process.py):
 * sort the logits ascending, take the cumulative softmax, remove every token whose cumulative
 * probability is ≤ 1 − p, but never the last `minTokensToKeep` (the most probable). The kept set is
 * the smallest set of most probable tokens whose mass is ≥ p. Ties are ordered by index (a stable
 * ascending sort), so at a tied boundary the lower index is removed first.
 *
 *   // p = 0.7 on probs [0.1, 0.6, 0.3] (logits = log of them): ascending 0.1, 0.3, 0.6 →
 *   // cumulative 0.1, 0.4, 1.0; remove cum ≤ 0.3 → only token 0 goes ({0.6, 0.3} has mass 0.9 ≥ 0.7)
 *   new TopPProcessor(0.7).process(Float32Array.from([0.1, 0.6, 0.3], Math.log), ctx);
 *   // → [-Inf, log 0.6, log 0.3]
 */
import type { LogitsProcessor, SampleContext } from '../types.js';
import { ascendingOrder, finiteIndices, softmaxAt } from './sort.js';
import { requireInt, requireRange } from './validate.js';

export interface TopPOptions {
  /** Never keep fewer than this many tokens (HF `min_tokens_to_keep`, default 1). */
  minTokensToKeep?: number;
}

export class TopPProcessor implements LogitsProcessor {
  readonly p: number;
  readonly minTokensToKeep: number;

  constructor(p: number, { minTokensToKeep = 1 }: TopPOptions = {}) {
    this.p = requireRange('topP', p, 0, 1, { loOpen: true });
    this.minTokensToKeep = requireInt('minTokensToKeep', minTokensToKeep, 1);
  }

  process(logits: Float32Array, _ctx: SampleContext): void {
    const order = ascendingOrder(finiteIndices(logits), logits); // −Infinity tokens: cum prob 0, already removed
    const probs = softmaxAt(logits, order);
    const keepFrom = order.length - this.minTokensToKeep; // positions ≥ keepFrom are always kept
    let cum = 0;
    for (let j = 0; j < order.length; j++) {
      cum += probs[j]!;
      if (cum <= 1 - this.p && j < keepFrom) logits[order[j]!] = -Infinity;
    }
  }
}
