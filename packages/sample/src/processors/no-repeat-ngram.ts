/**
 * No-repeat n-gram blocking, as HF transformers' NoRepeatNGramLogitsProcessor
 * (generation/logits_process.py, after fairseq): with the last n − 1 ids as the prefix, ban (−Infinity)
 * every token t such that prefix + [t] already occurs as an n-gram in the ids (prompt included, as HF
 * does for decoder-only models). Nothing is banned while the ids are shorter than n; n = 1 bans every
 * token seen so far.
 *
 *   // n = 2, ids [1, 2, 1]: the prefix is [1]; the bigram [1, 2] occurred, so 2 is banned
 *   new NoRepeatNGramProcessor(2).process(Float32Array.of(0, 0, 0), { ids: [1, 2, 1], promptLength: 0 });
 *   // → [0, 0, -Inf]
 */
import type { LogitsProcessor, SampleContext } from '../types.js';
import { requireInt, requireTokenId } from './validate.js';

export class NoRepeatNGramProcessor implements LogitsProcessor {
  readonly n: number;

  constructor(n: number) {
    this.n = requireInt('noRepeatNgramSize', n, 1);
  }

  process(logits: Float32Array, ctx: SampleContext): void {
    const { ids } = ctx;
    const n = this.n;
    const T = ids.length;
    if (T < n) return;
    const p = T - (n - 1); // the prefix is ids[p .. T-1]
    // Window starting at s is ids[s .. s+n-1]; s runs to T − n (the window at the prefix itself is
    // one token short and never counts).
    for (let s = 0; s + n <= T; s++) {
      let match = true;
      for (let j = 0; j < n - 1; j++) {
        if (ids[s + j] !== ids[p + j]) {
          match = false;
          break;
        }
      }
      if (match) {
        const banned = requireTokenId('no-repeat n-gram context', ids[s + n - 1]!, logits.length);
        logits[banned] = -Infinity;
      }
    }
  }
}
