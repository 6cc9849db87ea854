/**
 * Beam search with HF semantics: each step expands every beam by its log-probabilities, keeps the
 * 2·numBeams best candidates, moves those ending in EOS to the finished hypotheses (scored
 * sum_logprobs / generated_len^lengthPenalty, generated_len = tokens before the EOS) and continues
 * with the numBeams best others. The KV cache rows follow their beams (cache.reorder).
 *
 *   const { sequences, scores } = beamSearch(model, promptIds, { numBeams: 4, maxNewTokens: 20, numReturnSequences: 2 });
 *
 * earlyStopping: true stops once numBeams hypotheses are finished; false (default) also stops when
 * no running beam can still beat the worst finished one (HF's heuristic, at the current length);
 * HF's "never" is treated as false. Options resolve through the one GenerationConfig (config.ts),
 * so a checkpoint's num_beams / length_penalty / early_stopping / eos ids apply unless overridden;
 * sampling settings (temperature, top-k, …) do not apply to beam search.
 */
import { tf } from '@llm/tensor-gpu';
import { SampleError } from './errors.js';
import type { CacheLike, CausalLMLike } from './model.js';
import { generationConfigFor, tokenBudget, type GenerationOptions } from './config.js';
import { buildProcessors } from './processors/chain.js';
import { checkPrompt } from './prompt.js';
import { checkModelLogits, logSoftmax } from './sampling.js';

/** The GenerationConfig options beam search reads (config.ts: defaults, checks, precedence). */
export type BeamSearchOptions = Pick<
  GenerationOptions,
  'numBeams' | 'maxNewTokens' | 'maxLength' | 'lengthPenalty' | 'earlyStopping' | 'numReturnSequences' | 'eosTokenId' | 'repetitionPenalty' | 'noRepeatNgramSize' | 'badWords' | 'logitBias'
>;

export interface BeamSearchResult {
  /** Generated ids (prompt excluded; a final EOS included), best first. */
  sequences: number[][];
  /** Length-normalised log-probability of each. */
  scores: number[];
}

interface Hyp {
  ids: number[];
  score: number;
}

export function beamSearch(model: CausalLMLike, prompt: readonly number[], opts: BeamSearchOptions = {}): BeamSearchResult {
  const cfg = generationConfigFor(model, opts);
  const { numBeams: nb, lengthPenalty: lp, numReturnSequences: nRet } = cfg;
  checkPrompt(model.config, prompt, 0);
  const eos = new Set(cfg.eosTokenId);
  const chain = buildProcessors({ repetitionPenalty: cfg.repetitionPenalty, noRepeatNgramSize: cfg.noRepeatNgramSize, badWords: cfg.badWords, logitBias: cfg.logitBias });
  const V = model.config.vocabSize;
  const steps = tokenBudget(cfg, prompt.length, model.config.blockSize);
  const cache = model.createCache(nb, prompt.length + steps);
  if (!cache.reorder) throw new SampleError('INVALID_ARGUMENT', 'beam search needs a cache with reorder().');
  let beams: Hyp[] = Array.from({ length: nb }, (_, i) => ({ ids: [], score: i === 0 ? 0 : -Infinity })); // only beam 0 is live at first
  const finished: Hyp[] = [];
  const worstFinished = () => (finished.length < nb ? -Infinity : Math.min(...finished.map((h) => h.score)));
  const addFinished = (h: Hyp) => {
    finished.push(h);
    finished.sort((a, b) => b.score - a.score);
    if (finished.length > nb) finished.pop();
  };
  try {
    let logits = forward(model, cache, Array.from({ length: nb }, () => Array.from(prompt)));
    for (let step = 0; step < steps; step++) {
      const cands: Cand[] = [];
      for (let b = 0; b < nb; b++) {
        if (beams[b]!.score === -Infinity) continue;
        const row = logits.subarray(b * V, (b + 1) * V);
        checkModelLogits(row, `beam search: beam ${b}, step ${step}`);
        for (const p of chain) p.process(row, { ids: [...prompt, ...beams[b]!.ids], promptLength: prompt.length });
        // only this beam's 2·numBeams best can be among the 2·numBeams best overall: O(V log nb), not nb·V candidates
        cands.push(...bestOfRow(logSoftmax(row), b, beams[b]!.score, 2 * nb));
      }
      cands.sort(byRank);
      const next: Array<{ beam: number; id: number; sum: number }> = [];
      for (const [rank, c] of cands.slice(0, 2 * nb).entries()) {
        if (eos.has(c.id)) {
          if (rank >= nb) continue; // HF: an EOS outside the top numBeams is not a hypothesis
          const len = Math.max(1, beams[c.beam]!.ids.length);
          addFinished({ ids: [...beams[c.beam]!.ids, c.id], score: c.sum / len ** lp });
        } else if (next.length < nb) {
          next.push(c);
        }
      }
      const curLen = step + 1;
      const bestRunning = next.length ? next[0]!.sum / curLen ** lp : -Infinity;
      const done = finished.length >= nb && (cfg.earlyStopping === true || worstFinished() >= bestRunning);
      beams = next.map((c) => ({ ids: [...beams[c.beam]!.ids, c.id], score: c.sum }));
      while (beams.length < nb) beams.push({ ids: [], score: -Infinity });
      if (done || next.length === 0 || step === steps - 1) break;
      cache.reorder(next.map((c) => c.beam).concat(Array.from({ length: nb - next.length }, () => next[0]!.beam)));
      logits = forward(model, cache, beams.map((h) => [h.ids[h.ids.length - 1] ?? 0]));
    }
  } finally {
    cache.dispose();
  }
  // finalise: running beams join the hypotheses (HF adds them at the end), scored at their length
  for (const h of beams) if (h.score > -Infinity) addFinished({ ids: h.ids, score: h.score / Math.max(1, h.ids.length) ** lp });
  const best = finished.slice(0, nRet);
  return { sequences: best.map((h) => h.ids), scores: best.map((h) => h.score) };
}

/** Last-position logits of every row, on the host [rows·V]. */
function forward(model: CausalLMLike, cache: CacheLike, ids: number[][]): Float32Array {
  const out = tf.tidy(() => Float32Array.from(model.forward(tf.tensor2d(ids, [ids.length, ids[0]!.length], 'int32'), { cache, logitsToKeep: 1 }).dataSync()));
  const V = model.config.vocabSize;
  if (out.length !== ids.length * V) throw new SampleError('SHAPE_MISMATCH', `the model returned ${out.length} logits for ${ids.length} beam(s); expected ${ids.length} × its vocabSize ${V}`);
  return out;
}

interface Cand {
  beam: number;
  id: number;
  sum: number;
}

/** The ranking of candidates: higher sum first, then lower beam, then lower id (a total order). */
const byRank = (a: Cand, c: Cand): number => c.sum - a.sum || a.beam - c.beam || a.id - c.id;

/**
 * The `k` best finite candidates of one beam's log-probabilities in `byRank` order, through a
 * size-k min-heap (its root is the worst kept).
 */
function bestOfRow(lsm: Float32Array, beam: number, score: number, k: number): Cand[] {
  const heap: Cand[] = [];
  const worse = (i: number, j: number) => byRank(heap[i]!, heap[j]!) > 0; // heap[i] ranks after heap[j]
  const swap = (i: number, j: number) => ([heap[i], heap[j]] = [heap[j]!, heap[i]!]);
  const down = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let w = i;
      if (l < heap.length && worse(l, w)) w = l;
      if (r < heap.length && worse(r, w)) w = r;
      if (w === i) return;
      swap(i, w);
      i = w;
    }
  };
  for (let v = 0; v < lsm.length; v++) {
    if (!(lsm[v]! > -Infinity)) continue;
    const c = { beam, id: v, sum: score + lsm[v]! };
    if (heap.length < k) {
      heap.push(c);
      for (let i = heap.length - 1; i > 0 && worse(i, (i - 1) >> 1); i = (i - 1) >> 1) swap(i, (i - 1) >> 1);
    } else if (byRank(c, heap[0]!) < 0) {
      heap[0] = c;
      down(0);
    }
  }
  return heap;
}
