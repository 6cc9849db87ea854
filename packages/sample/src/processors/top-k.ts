/**
 * Top-k truncation, as HF transformers' TopKLogitsWarper (generation/logits_process.py):
 *   k ← min(max(k, minTokensToKeep), V);  logits[i] ← −Infinity where logits[i] < (k-th largest logit).
 * Every token tied with the k-th value is kept (HF's `scores < topk_values[..., -1]`), so more than k
 * tokens may survive on ties.
 *
 *   // k = 2 on [1, 4, 2, 2, 0]: the 2nd largest is 2, so everything < 2 goes; both 2s stay
 *   new TopKProcessor(2).process(Float32Array.of(1, 4, 2, 2, 0), ctx);   // → [-Inf, 4, 2, 2, -Inf]
 */
import type { LogitsProcessor, SampleContext } from '../types.js';
import { kthSmallest } from './sort.js';
import { requireInt } from './validate.js';

export interface TopKOptions {
  /** Never keep fewer than this many tokens (HF `min_tokens_to_keep`, default 1). */
  minTokensToKeep?: number;
}

export class TopKProcessor implements LogitsProcessor {
  readonly k: number;

  constructor(k: number, { minTokensToKeep = 1 }: TopKOptions = {}) {
    requireInt('topK', k, 1);
    requireInt('minTokensToKeep', minTokensToKeep, 1);
    this.k = Math.max(k, minTokensToKeep);
  }

  process(logits: Float32Array, _ctx: SampleContext): void {
    const V = logits.length;
    const k = Math.min(this.k, V);
    if (k === 0 || k === V) return;
    const kth = kthSmallest(Float32Array.from(logits), V - k); // the k-th largest value, O(V)
    for (let i = 0; i < V; i++) if (logits[i]! < kth) logits[i] = -Infinity;
  }
}
