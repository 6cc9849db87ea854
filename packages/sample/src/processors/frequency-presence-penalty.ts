/**
 * Frequency and presence penalties with OpenAI's semantics (API reference, "Frequency and presence
 * penalties"): for each token j,
 *   logit[j] ← logit[j] − frequency · c[j] − presence · (c[j] > 0 ? 1 : 0)
 * where c[j] counts j among the *generated* ids only — `ctx.ids.slice(ctx.promptLength)`, the prompt
 * is never counted — or, with `lastN`, among the last N generated ids (0 = none, i.e. off).
 * Positive values discourage repeats; OpenAI accepts −2…2, this class any finite number.
 *
 *   // frequency 0.5, presence 1; generated ids [1, 1, 2] after a prompt [0]:
 *   // c = [0, 2, 1] → token 1: 5 − 0.5·2 − 1 = 3; token 2: 5 − 0.5 − 1 = 3.5; token 0 (prompt only): 5
 *   new FrequencyPresencePenaltyProcessor({ frequency: 0.5, presence: 1 })
 *     .process(Float32Array.of(5, 5, 5), { ids: [0, 1, 1, 2], promptLength: 1 });   // → [5, 3, 3.5]
 */
import type { LogitsProcessor, SampleContext } from '../types.js';
import { requireFinite, requireInt, requireTokenId, tailWindow } from './validate.js';

export interface FrequencyPresencePenaltyOptions {
  /** Subtracted once per occurrence (default 0). */
  frequency?: number;
  /** Subtracted once if the token occurred at all (default 0). */
  presence?: number;
  /** Count only the last N generated ids; default: all generated ids. */
  lastN?: number;
}

export class FrequencyPresencePenaltyProcessor implements LogitsProcessor {
  readonly frequency: number;
  readonly presence: number;
  readonly lastN: number | undefined;

  constructor({ frequency = 0, presence = 0, lastN }: FrequencyPresencePenaltyOptions = {}) {
    this.frequency = requireFinite('frequencyPenalty', frequency);
    this.presence = requireFinite('presencePenalty', presence);
    if (lastN !== undefined) requireInt('penaltyLastN', lastN, 0);
    this.lastN = lastN;
  }

  process(logits: Float32Array, ctx: SampleContext): void {
    const counts = new Map<number, number>();
    for (const id of tailWindow(ctx.ids, ctx.promptLength, this.lastN)) {
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    for (const [id, c] of counts) {
      requireTokenId('frequency/presence penalty context', id, logits.length);
      logits[id] = logits[id]! - this.frequency * c - this.presence;
    }
  }
}
