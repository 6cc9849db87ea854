/**
 * Min-p truncation, as HF transformers' MinPLogitsWarper (generation/logits_process.py):
 * probs = softmax(logits); remove tokens with prob < p · max(probs), but keep the
 * `minTokensToKeep` most probable (ties by index).
 *
 *   // p = 0.5 on probs [0.5, 0.3, 0.2]: threshold 0.25 → token 2 (0.2) goes
 *   new MinPProcessor(0.5).process(Float32Array.from([0.5, 0.3, 0.2], Math.log), ctx);
 *   // → [log 0.5, log 0.3, -Inf]
 */
import type { LogitsProcessor, SampleContext } from '../types.js';
import { ascendingOrder, finiteIndices, softmaxAt } from './sort.js';
import { requireInt, requireRange } from './validate.js';

export interface MinPOptions {
  /** Never keep fewer than this many tokens (HF `min_tokens_to_keep`, default 1). */
  minTokensToKeep?: number;
}

export class MinPProcessor implements LogitsProcessor {
  readonly p: number;
  readonly minTokensToKeep: number;

  constructor(p: number, { minTokensToKeep = 1 }: MinPOptions = {}) {
    this.p = requireRange('minP', p, 0, 1);
    this.minTokensToKeep = requireInt('minTokensToKeep', minTokensToKeep, 1);
  }

  process(logits: Float32Array, _ctx: SampleContext): void {
    const finite = finiteIndices(logits);
    const probs = softmaxAt(logits, finite);
    let top = 0;
    for (const q of probs) top = Math.max(top, q);
    const threshold = this.p * top;
    // The kept set {prob ≥ threshold} holds the most probable tokens; when it has fewer than
    // minTokensToKeep, protect the minTokensToKeep most probable (descending, ties by index).
    let kept = 0;
    for (const q of probs) if (q >= threshold) kept++;
    const protect = new Set<number>();
    if (kept < this.minTokensToKeep) {
      const negated = Float32Array.from(logits, (x) => -x);
      for (const i of ascendingOrder(finite, negated).slice(0, this.minTokensToKeep)) protect.add(i);
    }
    for (let j = 0; j < finite.length; j++) {
      const i = finite[j]!;
      if (probs[j]! < threshold && !protect.has(i)) logits[i] = -Infinity;
    }
  }
}
