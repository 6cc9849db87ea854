/**
 * Banned token sequences, as HF transformers' NoBadWordsLogitsProcessor (generation/logits_process.py):
 * a one-token entry [t] bans t always; a longer entry [a, b, …, z] bans its last token z when the ids
 * (prompt included) end with its prefix [a, b, …]. Banned means logit ← −Infinity.
 * Two small differences from HF, both deliberate: an entry whose prefix is exactly the whole context
 * is matched (current HF skips entries longer than the context, older HF matched them), and entries
 * equal to [eos] are not filtered out (HF drops them when given eos ids; pass only what you mean).
 *
 *   // ban [3] everywhere and [1, 2] ("2 right after 1"); the ids end with 1 → 2 and 3 banned
 *   new BadWordsProcessor([[3], [1, 2]]).process(Float32Array.of(0, 0, 0, 0), { ids: [0, 1], promptLength: 1 });
 *   // → [0, 0, -Inf, -Inf]
 */
import type { LogitsProcessor, SampleContext } from '../types.js';
import { invalid, requireTokenId } from './validate.js';

export class BadWordsProcessor implements LogitsProcessor {
  readonly sequences: readonly (readonly number[])[];

  constructor(sequences: readonly (readonly number[])[]) {
    if (!Array.isArray(sequences)) invalid('badWords must be an array of token-id arrays, e.g. [[42], [7, 8]]');
    for (const seq of sequences) {
      if (!Array.isArray(seq) || seq.length === 0) {
        invalid(`badWords entries must be non-empty arrays of token ids, got ${JSON.stringify(seq)}`);
      }
      for (const id of seq) {
        if (!Number.isInteger(id) || id < 0) {
          invalid(`badWords token ids must be integers ≥ 0, got ${id} in ${JSON.stringify(seq)}`);
        }
      }
    }
    this.sequences = sequences.map((s) => [...s]);
  }

  process(logits: Float32Array, ctx: SampleContext): void {
    const { ids } = ctx;
    for (const seq of this.sequences) {
      for (const id of seq) requireTokenId('badWords', id, logits.length);
      const prefixLen = seq.length - 1;
      if (prefixLen > ids.length) continue;
      let match = true;
      for (let j = 0; j < prefixLen; j++) {
        if (ids[ids.length - prefixLen + j] !== seq[j]) {
          match = false;
          break;
        }
      }
      if (match) logits[seq[prefixLen]!] = -Infinity;
    }
  }
}
