/**
 * Locally typical sampling, as HF transformers' TypicalLogitsWarper (generation/logits_process.py;
 * Meister et al. 2022, "Typical Decoding for Natural Language Generation"):
 *   logp = log_softmax(logits);  H = −Σ p·logp;  s_i = |−logp_i − H|   (distance from the entropy)
 *   sort by s ascending; cum = cumulative prob in that order; last = #(cum < mass) (clamped);
 *   remove every token with s_i > s_last, except the first `minTokensToKeep` in that order.
 * The most probable token may be removed when it is far more predictable than typical.
 *
 *   // mass 0.5 on probs [0.7, 0.2, 0.1]: H = 0.8018; −logp = [0.357, 1.609, 2.303] →
 *   // s = [0.445, 0.808, 1.501]; order 0, 1, 2; cum = [0.7, 0.9, 1]; last = 0 → keep token 0 only.
 *   new TypicalPProcessor(0.5).process(Float32Array.from([0.7, 0.2, 0.1], Math.log), ctx);
 *   // → [log 0.7, -Inf, -Inf]
 */
import type { LogitsProcessor, SampleContext } from '../types.js';
import { ascendingOrder, finiteIndices, softmaxAt } from './sort.js';
import { requireInt, requireRange } from './validate.js';

export interface TypicalPOptions {
  /** Never keep fewer than this many tokens (HF `min_tokens_to_keep`, default 1). */
  minTokensToKeep?: number;
}

export class TypicalPProcessor implements LogitsProcessor {
  readonly mass: number;
  readonly minTokensToKeep: number;

  constructor(mass: number, { minTokensToKeep = 1 }: TypicalPOptions = {}) {
    this.mass = requireRange('typicalP', mass, 0, 1, { loOpen: true, hiOpen: true });
    this.minTokensToKeep = requireInt('minTokensToKeep', minTokensToKeep, 1);
  }

  process(logits: Float32Array, _ctx: SampleContext): void {
    const finite = finiteIndices(logits);
    if (finite.length === 0) return;
    const probs = softmaxAt(logits, finite);
    // Entropy H = −Σ p log p over the finite tokens (HF's nansum skips the 0 · −∞ terms).
    const shift = new Float64Array(logits.length); // s_i, only read at finite i
    let H = 0;
    for (let j = 0; j < finite.length; j++) if (probs[j]! > 0) H -= probs[j]! * Math.log(probs[j]!);
    for (let j = 0; j < finite.length; j++) shift[finite[j]!] = Math.abs(-Math.log(probs[j]!) - H);

    const order = ascendingOrder(finite, shift);
    const p = new Float64Array(logits.length);
    for (let j = 0; j < finite.length; j++) p[finite[j]!] = probs[j]!;
    let cum = 0;
    let last = 0;
    for (let j = 0; j < order.length; j++) {
      cum += p[order[j]!]!;
      if (cum < this.mass) last++;
    }
    last = Math.min(last, order.length - 1);
    const cutoff = shift[order[last]!]!;
    for (let j = this.minTokensToKeep; j < order.length; j++) {
      if (shift[order[j]!]! > cutoff) logits[order[j]!] = -Infinity;
    }
  }
}
