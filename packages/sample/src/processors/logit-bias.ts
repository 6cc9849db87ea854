/**
 * Additive per-token bias, as OpenAI's `logit_bias` and llama.cpp's logit-bias sampler:
 * logit[id] ← logit[id] + bias[id]. A bias of −Infinity bans the token; +Infinity and NaN are
 * rejected (use AllowedTokensProcessor to force tokens). Accepts a Map or a plain object whose keys
 * are token ids (as JSON gives: { "50256": -100 }).
 *
 *   new LogitBiasProcessor({ 0: 2, 2: -Infinity }).process(Float32Array.of(1, 1, 1), ctx);   // → [3, 1, -Inf]
 */
import type { LogitsProcessor, SampleContext } from '../types.js';
import { invalid, requireTokenId } from './validate.js';

export class LogitBiasProcessor implements LogitsProcessor {
  readonly bias: ReadonlyMap<number, number>;

  constructor(bias: ReadonlyMap<number, number> | Readonly<Record<number, number>>) {
    const entries: [number, number][] =
      bias instanceof Map ? [...bias] : Object.entries(bias).map(([k, v]) => [Number(k), v as number]);
    for (const [id, b] of entries) {
      if (!Number.isInteger(id) || id < 0) invalid(`logitBias keys must be token ids (integers ≥ 0), got ${id}`);
      if (Number.isNaN(b) || b === Infinity || typeof b !== 'number') {
        invalid(`logitBias[${id}] must be a finite number or −Infinity, got ${b}`);
      }
    }
    this.bias = new Map(entries);
  }

  process(logits: Float32Array, _ctx: SampleContext): void {
    for (const [id, b] of this.bias) {
      requireTokenId('logitBias', id, logits.length);
      logits[id] = logits[id]! + b;
    }
  }
}
