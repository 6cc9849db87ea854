/**
 * Speculative decoding (Leviathan et al. 2023; Chen et al. 2023): a small draft model proposes k
 * tokens one at a time, the target scores all of them in one forward pass, and a prefix is
 * accepted.
 *
 *   greedy (temperature 0): accept draft tokens while they equal the target's argmax, then emit the
 *     target's argmax — the output is exactly the target's own greedy output.
 *   sampling: accept token x with probability min(1, p(x)/q(x)); at the first rejection emit a
 *     sample of norm(max(0, p − q)); if all k are accepted emit a bonus sample of p. Emitted tokens
 *     follow the target distribution p exactly (p and q after the same processor chain).
 *
 *   const r = speculativeGenerate(target, draft, promptIds, { maxNewTokens: 64, numDraftTokens: 4 });
 *   r.sequence; r.stats.acceptanceRate;   // e.g. 0.71
 *
 * Both models must share the vocabulary. Batch size 1.
 */
import { tf } from '@llm/tensor-gpu';
import { SampleError } from './errors.js';
import type { CacheLike, CausalLMLike } from './model.js';
import { generationConfigFor, isGreedy, tokenBudget } from './config.js';
import { buildProcessors } from './processors/chain.js';
import { checkPrompt } from './prompt.js';
import { argmax, checkModelLogits, sampleToken, softmax } from './sampling.js';
import { rowRng } from './rng.js';
import type { GenerateOptions, FinishReason } from './generate.js';
import type { LogitsProcessor } from './types.js';

/** generate's options without text-level ones; `numDraftTokens` (k, default 4) is read here. Defaults come from the target. */
export type SpeculativeOptions = Omit<GenerateOptions, 'constraint' | 'stopStrings' | 'tokenizer'>;

export interface SpeculativeStats {
  rounds: number;
  drafted: number;
  accepted: number;
  /** accepted / drafted. */
  acceptanceRate: number;
  /** Tokens emitted per target forward pass (1 without speculation). */
  tokensPerTargetForward: number;
}

export interface SpeculativeResult {
  sequence: number[];
  finishReason: FinishReason;
  stats: SpeculativeStats;
}

export function speculativeGenerate(target: CausalLMLike, draft: CausalLMLike, prompt: readonly number[], opts: SpeculativeOptions = {}): SpeculativeResult {
  const V = target.config.vocabSize;
  if (draft.config.vocabSize !== V) throw new SampleError('INVALID_ARGUMENT', `draft vocabulary (${draft.config.vocabSize}) differs from the target's (${V}).`);
  const cfg = generationConfigFor(target, opts);
  const k = cfg.numDraftTokens;
  const limit = Math.min(target.config.blockSize, draft.config.blockSize);
  checkPrompt({ vocabSize: V, blockSize: limit }, prompt, 0);
  const maxNew = tokenBudget(cfg, prompt.length, limit);
  const eos = new Set(cfg.eosTokenId);
  const stopIds = new Set(cfg.stopTokenIds);
  const greedy = isGreedy(cfg);
  const chain = [...buildProcessors(cfg), ...(opts.processors ?? [])];
  const rng = rowRng(cfg.seed, 0);
  const seq = Array.from(prompt);
  const P = seq.length;
  const capacity = P + maxNew + k + 1;
  const tCache = target.createCache(1, capacity);
  const dCache = draft.createCache(1, capacity);
  if (!tCache.truncate || !dCache.truncate) throw new SampleError('INVALID_ARGUMENT', 'speculative decoding needs caches with truncate() (@llm/transformer KVCache has it).');
  const stats = { rounds: 0, drafted: 0, accepted: 0, targetForwards: 0 };
  let finishReason: FinishReason = 'length';
  try {
    while (seq.length - P < maxNew) {
      if (opts.signal?.aborted) {
        finishReason = 'aborted';
        break;
      }
      const room = Math.min(k, limit - seq.length - 1, maxNew - (seq.length - P) - 1);
      const kk = Math.max(0, room);
      // 1. draft kk tokens, one forward each
      catchUp(draft, dCache, seq);
      const drafted: number[] = [];
      const q: Float32Array[] = [];
      let cur = seq[seq.length - 1]!;
      for (let j = 0; j < kk; j++) {
        const row = lastLogits(draft, dCache, [cur]);
        checkModelLogits(row, `speculative decoding: the draft model, round ${stats.rounds}, draft token ${j}`);
        process(row, chain, [...seq, ...drafted], P);
        const probs = softmax(row);
        const d = greedy ? argmax(row) : sampleToken(row, () => rng.next());
        q.push(probs);
        drafted.push(d);
        cur = d;
      }
      // 2. the target scores last + drafted in one pass: kk + 1 distributions
      catchUp(target, tCache, seq);
      const before = tCache.length;
      const rows = allLogits(target, tCache, [seq[seq.length - 1]!, ...drafted]);
      stats.targetForwards++;
      stats.rounds++;
      stats.drafted += kk;
      // 3. accept a prefix
      const emitted: number[] = [];
      let accepted = 0;
      for (let j = 0; j <= kk; j++) {
        const row = rows[j]!;
        checkModelLogits(row, `speculative decoding: the target model, round ${stats.rounds}, position ${j}`);
        process(row, chain, [...seq, ...emitted], P);
        if (j === kk) {
          emitted.push(greedy ? argmax(row) : sampleToken(row, () => rng.next())); // bonus token
          break;
        }
        const d = drafted[j]!;
        if (greedy) {
          const t = argmax(row);
          if (t === d) {
            emitted.push(d);
            accepted++;
            continue;
          }
          emitted.push(t);
          break;
        }
        const p = softmax(row);
        if (rng.next() < Math.min(1, p[d]! / q[j]![d]!)) {
          emitted.push(d);
          accepted++;
          continue;
        }
        emitted.push(sampleResidual(p, q[j]!, () => rng.next()));
        break;
      }
      stats.accepted += accepted;
      // 4. roll the caches back to what is now certain: seq (old) + accepted draft tokens
      tCache.truncate(before + 1 + accepted);
      dCache.truncate(Math.min(dCache.length, before + 1 + accepted));
      for (const id of emitted) {
        seq.push(id);
        if (eos.has(id) || stopIds.has(id)) {
          finishReason = eos.has(id) ? 'eos' : 'stop';
          break;
        }
        if (seq.length - P >= maxNew) break;
      }
      if (finishReason !== 'length') break;
      if (seq.length >= limit) break;
    }
  } finally {
    tCache.dispose();
    dCache.dispose();
  }
  const generated = seq.length - P;
  return {
    sequence: seq.slice(P),
    finishReason,
    stats: {
      rounds: stats.rounds,
      drafted: stats.drafted,
      accepted: stats.accepted,
      acceptanceRate: stats.drafted ? stats.accepted / stats.drafted : 0,
      tokensPerTargetForward: stats.targetForwards ? generated / stats.targetForwards : 0,
    },
  };
}

function process(row: Float32Array, chain: readonly LogitsProcessor[], ids: number[], promptLength: number): void {
  for (const p of chain) p.process(row, { ids, promptLength });
}

/** Sample from norm(max(0, p − q)) (falls back to p if the residual has no mass). */
export function sampleResidual(p: Float32Array, q: Float32Array, u: () => number): number {
  const r = new Float64Array(p.length);
  let total = 0;
  for (let i = 0; i < p.length; i++) total += r[i] = Math.max(0, p[i]! - q[i]!);
  const dist = total > 0 ? r : Float64Array.from(p);
  const mass = total > 0 ? total : dist.reduce((a, b) => a + b, 0);
  let x = u() * mass;
  for (let i = 0; i < dist.length; i++) if ((x -= dist[i]!) < 0 && dist[i]! > 0) return i;
  for (let i = dist.length - 1; i >= 0; i--) if (dist[i]! > 0) return i;
  return 0;
}

/** Feed the tokens of seq the cache does not hold yet, except the last one. */
function catchUp(model: CausalLMLike, cache: CacheLike, seq: readonly number[]): void {
  const missing = seq.slice(cache.length, seq.length - 1);
  if (missing.length === 0) return;
  tf.tidy(() => {
    model.forward(tf.tensor2d([missing], [1, missing.length], 'int32'), { cache, logitsToKeep: 1 });
  });
}

function lastLogits(model: CausalLMLike, cache: CacheLike, ids: number[]): Float32Array {
  return allLogits(model, cache, ids)[ids.length - 1]!;
}

/** Logits of every fed position, on the host. */
function allLogits(model: CausalLMLike, cache: CacheLike, ids: number[]): Float32Array[] {
  const V = model.config.vocabSize;
  const flat = tf.tidy(() => Float32Array.from(model.forward(tf.tensor2d([ids], [1, ids.length], 'int32'), { cache }).dataSync()));
  if (flat.length !== ids.length * V) throw new SampleError('SHAPE_MISMATCH', `the model returned ${flat.length} logits for ${ids.length} position(s); expected ${ids.length} × its vocabSize ${V}`);
  return ids.map((_, t) => flat.subarray(t * V, (t + 1) * V).slice());
}
