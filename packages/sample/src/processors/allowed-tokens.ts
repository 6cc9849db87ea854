/**
 * A whitelist: every token not in `ids` gets −Infinity; allowed tokens keep their logits (a token
 * already at −Infinity stays banned). The set must be non-empty and inside the vocabulary.
 *
 *   new AllowedTokensProcessor([0, 2]).process(Float32Array.of(1, 2, 3), ctx);   // → [1, -Inf, 3]
 */
import type { LogitsProcessor, SampleContext } from '../types.js';
import { invalid, requireTokenId } from './validate.js';

export class AllowedTokensProcessor implements LogitsProcessor {
  readonly ids: readonly number[];

  constructor(ids: Iterable<number>) {
    const unique = [...new Set(ids)].sort((a, b) => a - b);
    if (unique.length === 0) invalid('allowedTokens is empty: it would ban every token; pass at least one id');
    for (const id of unique) {
      if (!Number.isInteger(id) || id < 0) invalid(`allowedTokens ids must be integers ≥ 0, got ${id}`);
    }
    this.ids = unique;
  }

  process(logits: Float32Array, _ctx: SampleContext): void {
    const kept = this.ids.map((id) => logits[requireTokenId('allowedTokens', id, logits.length)]!);
    logits.fill(-Infinity);
    this.ids.forEach((id, j) => (logits[id] = kept[j]!));
  }
}
