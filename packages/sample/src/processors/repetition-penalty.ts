/**
 * CTRL-style repetition penalty, as HF transformers' RepetitionPenaltyLogitsProcessor
 * (generation/logits_process.py; Keskar et al. 2019): for each *distinct* token in the context,
 *   logit ← logit < 0 ? logit · penalty : logit / penalty
 * applied once per token however often it occurs. The context is every id (prompt included, as HF
 * does for decoder-only models), or only the last `lastN` ids of it (llama.cpp's `repeat_last_n`;
 * 0 = no tokens, i.e. off). penalty > 1 discourages repeats, 0 < penalty < 1 encourages them.
 *
 *   // penalty 2, ids [0, 2, 2]: token 0 (3 → 1.5), token 2 (−1 → −2), token 1 untouched
 *   new RepetitionPenaltyProcessor(2).process(Float32Array.of(3, 3, -1), { ids: [0, 2, 2], promptLength: 1 });
 *   // → [1.5, 3, -2]
 */
import type { LogitsProcessor, SampleContext } from '../types.js';
import { invalid, requireFinite, requireInt, requireTokenId, tailWindow } from './validate.js';

export interface RepetitionPenaltyOptions {
  /** Penalize only tokens among the last N ids (prompt included); default: all ids. */
  lastN?: number;
}

export class RepetitionPenaltyProcessor implements LogitsProcessor {
  readonly penalty: number;
  readonly lastN: number | undefined;

  constructor(penalty: number, { lastN }: RepetitionPenaltyOptions = {}) {
    requireFinite('repetitionPenalty', penalty);
    if (!(penalty > 0)) invalid(`repetitionPenalty must be > 0 (1 = off), got ${penalty}`);
    if (lastN !== undefined) requireInt('penaltyLastN', lastN, 0);
    this.penalty = penalty;
    this.lastN = lastN;
  }

  process(logits: Float32Array, ctx: SampleContext): void {
    const seen = new Set(tailWindow(ctx.ids, 0, this.lastN));
    for (const id of seen) {
      requireTokenId('repetition penalty context', id, logits.length);
      const x = logits[id]!;
      logits[id] = x < 0 ? x * this.penalty : x / this.penalty;
    }
  }
}
