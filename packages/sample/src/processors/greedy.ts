/**
 * Greedy selection as a processor: keeps only the first largest logit and bans every other token,
 * so any sampler afterwards returns argmax (ties → the lowest index, as `argmax`). This is how the
 * chain expresses temperature 0 (the limit of softmax(l / t) as t → 0⁺, and HF's do_sample=False).
 *
 *   new GreedyProcessor().process(Float32Array.of(1, 3, 3, 0), ctx);   // → [-Inf, 3, -Inf, -Inf]
 */
import type { LogitsProcessor, SampleContext } from '../types.js';

export class GreedyProcessor implements LogitsProcessor {
  process(logits: Float32Array, _ctx: SampleContext): void {
    let best = -1;
    let max = -Infinity;
    for (let i = 0; i < logits.length; i++) {
      if (logits[i]! > max) {
        max = logits[i]!;
        best = i;
      }
    }
    if (best < 0) return; // all −Infinity: nothing to keep (the sampler reports it)
    logits.fill(-Infinity);
    logits[best] = max;
  }
}
