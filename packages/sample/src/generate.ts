/**
 * The generation loop over any CausalLM: prefill the (left-padded) prompts once, then one token
 * per step from the KV cache; the sampler chain (processors → greedy or seeded sampling) runs on
 * the host per row. Stops on max new tokens, EOS ids, stop token ids, stop strings (matched on
 * decoded text across token boundaries), a finished constraint, or an AbortSignal. Options are
 * resolved once per call against the model's defaults (config.ts: explicit > generation_config >
 * library); prompt ids are checked on the host once per prompt (prompt.ts).
 *
 *   const { sequences } = generate(model, [promptIds], { maxNewTokens: 50, temperature: 0.8, topK: 40, seed: 1 });
 *   for await (const { token, text } of stream(model, promptIds, { tokenizer, maxNewTokens: 50 })) process.stdout.write(text);
 *
 * Dimension legend: B rows (prompts), P padded prompt length, V vocab.
 */
import { tf } from '@llm/tensor-gpu';
import { SampleError } from './errors.js';
import type { CausalLMLike, CacheLike, TokenizerLike } from './model.js';
import type { Constraint, LogitsProcessor } from './types.js';
import { generationConfigFor, isGreedy, tokenBudget, type GenerationConfig, type GenerationOptions } from './config.js';
import { buildProcessors } from './processors/chain.js';
import { checkPrompt, normalisePrompts } from './prompt.js';
import { argmax, checkModelLogits, sampleToken } from './sampling.js';
import { rowRng } from './rng.js';

export type FinishReason = 'eos' | 'stop' | 'length' | 'constraint' | 'aborted';

/** The GenerationConfig options (config.ts: defaults, checks, precedence) and what one call runs with. */
export interface GenerateOptions extends GenerationOptions {
  /** For stop strings, texts and streaming. */
  tokenizer?: TokenizerLike;
  /** Extra processors appended after the built-in chain. */
  processors?: readonly LogitsProcessor[];
  /** Masks tokens so the output matches (regex, JSON schema). */
  constraint?: Constraint;
  signal?: AbortSignal;
}

export interface GenerateResult {
  /** Generated ids per row (prompt excluded; a final EOS / stop id included). */
  sequences: number[][];
  finishReasons: FinishReason[];
  /** Decoded outputs (cut before a stop string), when a tokenizer was given. */
  texts: string[] | null;
}

/** One emitted token of one row (what `stream` yields). */
export interface StepEvent {
  row: number;
  /** null on a finish-only event (abort). */
  token: number | null;
  /** Newly completed text (never a split UTF-8 character; '' when the token ends mid-character). */
  text: string;
  finish: FinishReason | null;
}

/** Generate for one or several prompts (batched, left-padded). */
export function generate(model: CausalLMLike, prompts: readonly number[] | readonly (readonly number[])[], opts: GenerateOptions = {}): GenerateResult {
  const rows = normalisePrompts(prompts);
  const cfg = generationConfigFor(model, opts);
  const sequences: number[][] = rows.map(() => []);
  const finishReasons: FinishReason[] = rows.map(() => 'length');
  const texts: string[] | null = opts.tokenizer ? rows.map(() => '') : null;
  for (const ev of steps(model, rows, cfg, opts)) {
    if (ev.token !== null) sequences[ev.row]!.push(ev.token);
    if (texts) texts[ev.row] += ev.text;
    if (ev.finish) finishReasons[ev.row] = ev.finish;
  }
  if (texts && cfg.stopStrings.length) texts.forEach((t, b) => (texts[b] = cutAtStop(t, cfg.stopStrings)));
  return { sequences, finishReasons, texts };
}

/**
 * Stream one prompt's tokens as they are generated. `text` is the newly completed text (needs
 * `tokenizer`); with stop strings, text that could be the start of one is held back until it is
 * known not to be, and the stop string itself is never emitted. The last event has `finish` set.
 */
export async function* stream(model: CausalLMLike, prompt: readonly number[], opts: GenerateOptions = {}): AsyncGenerator<{ token: number | null; text: string; finish: FinishReason | null }> {
  const cfg = generationConfigFor(model, opts);
  const stops = cfg.stopStrings;
  let held = ''; // text that could still turn out to be the start of a stop string
  for (const ev of steps(model, [Array.from(prompt)], cfg, opts)) {
    held += ev.text;
    const cut = stops.length ? cutAtStop(held, stops) : held;
    let out: string;
    if (cut.length < held.length || ev.finish) {
      out = cut;
      held = '';
    } else {
      const keep = longestStopPrefixSuffix(held, stops);
      out = held.slice(0, held.length - keep);
      held = held.slice(held.length - keep);
    }
    yield { token: ev.token, text: out, finish: ev.finish };
    await new Promise<void>((r) => setImmediate(r)); // let a caller's abort land between tokens
  }
}

/** The step engine both generate and stream run, on the config they resolved. */
function* steps(model: CausalLMLike, prompts: number[][], cfg: GenerationConfig, opts: GenerateOptions): Generator<StepEvent> {
  prompts.forEach((p, b) => checkPrompt(model.config, p, b));
  if (cfg.stopStrings.length && !opts.tokenizer) throw new SampleError('INVALID_ARGUMENT', 'stopStrings need a tokenizer (to decode the output).');
  const B = prompts.length;
  const P = Math.max(...prompts.map((p) => p.length));
  const V = model.config.vocabSize;
  const chain = [...buildProcessors(cfg), ...(opts.processors ?? [])];
  const greedy = isGreedy(cfg);
  const rngs = prompts.map((_, b) => rowRng(cfg.seed, b));
  const ctx = prompts.map((p) => ({ ids: [...p], promptLength: p.length }));
  const budget = prompts.map((p, b) => tokenBudget(cfg, p.length, model.config.blockSize, b));
  const maxNew = Math.max(...budget);
  const eos = new Set(cfg.eosTokenId);
  const stopIds = new Set(cfg.stopTokenIds);
  const decoders = opts.tokenizer ? prompts.map(() => opts.tokenizer!.decoder()) : null;
  const tails = prompts.map(() => '');
  const tailKeep = Math.max(128, ...cfg.stopStrings.map((x) => x.length)); // a stop string may span this much recent text
  const cstate = prompts.map(() => opts.constraint?.start());
  const done = prompts.map(() => false);
  const cache: CacheLike = model.createCache(B, P + maxNew);
  try {
    const padded = prompts.map((p) => [...new Array<number>(P - p.length).fill(0), ...p]);
    const mask = prompts.map((p) => [...new Array<number>(P - p.length).fill(0), ...p.map(() => 1)]);
    let logits = forwardLast(model, padded, mask, cache); // [B·V] host
    for (let step = 0; step < maxNew && done.some((d) => !d); step++) {
      const next = new Array<number>(B).fill(0);
      const live = new Array<number>(B).fill(0);
      for (let b = 0; b < B; b++) {
        if (done[b]) continue;
        if (opts.signal?.aborted) {
          done[b] = true;
          yield { row: b, token: null, text: decoders ? decoders[b]!.flush() : '', finish: 'aborted' };
          continue;
        }
        const row = logits.subarray(b * V, (b + 1) * V);
        checkModelLogits(row, `generate: row ${b}, step ${step}`); // NaN from a broken model is not "every token banned"
        if (opts.constraint) opts.constraint.mask(row, cstate[b]); // first, so truncation (top-k, top-p) keeps valid tokens
        for (const p of chain) p.process(row, ctx[b]!);
        if (!row.some((x) => x > -Infinity)) throw new SampleError('CONSTRAINT_INVALID', `row ${b}: every token is banned at step ${step} (the processors or the constraint leave nothing to sample).`);
        const id = greedy ? argmax(row) : sampleToken(row, () => rngs[b]!.next());
        ctx[b]!.ids.push(id);
        if (opts.constraint) cstate[b] = opts.constraint.advance(cstate[b], id);
        const text = decoders ? decoders[b]!.push(id) : '';
        let finish: FinishReason | null = null;
        if (eos.has(id)) finish = 'eos';
        else if (stopIds.has(id)) finish = 'stop';
        else if (cfg.stopStrings.length && decoders && hitsStop((tails[b] += text), cfg.stopStrings)) finish = 'stop';
        else if (opts.constraint?.isFinished(cstate[b])) finish = 'constraint';
        else if (ctx[b]!.ids.length - ctx[b]!.promptLength >= budget[b]!) finish = 'length';
        if (tails[b]!.length > 2 * tailKeep) tails[b] = tails[b]!.slice(-tailKeep);
        const flushed = finish && decoders ? decoders[b]!.flush() : '';
        yield { row: b, token: id, text: text + flushed, finish };
        if (finish) done[b] = true;
        else {
          next[b] = id;
          live[b] = 1;
        }
      }
      if (done.every((d) => d)) break;
      logits = forwardLast(model, next.map((x) => [x]), live.map((m) => [m]), cache);
    }
  } finally {
    cache.dispose();
  }
}

/** One forward; the last position's logits of every row, on the host [B·V]. */
function forwardLast(model: CausalLMLike, ids: number[][], mask: number[][], cache: CacheLike): Float32Array {
  const allReal = mask.every((r) => r.every((m) => m === 1));
  const out = tf.tidy(() => {
    const x = tf.tensor2d(ids, [ids.length, ids[0]!.length], 'int32');
    const logits = model.forward(x, { cache, logitsToKeep: 1, ...(allReal ? {} : { attentionMask: mask }) }); // [B, 1, V]
    return Float32Array.from(logits.dataSync());
  });
  const V = model.config.vocabSize;
  if (out.length !== ids.length * V) throw new SampleError('SHAPE_MISMATCH', `the model returned ${out.length} logits for ${ids.length} row(s); expected ${ids.length} × its vocabSize ${V}`);
  return out;
}

const hitsStop = (text: string, stops: readonly string[]) => stops.some((s) => s.length > 0 && text.includes(s));

/** text up to the first occurrence of any stop string. */
export function cutAtStop(text: string, stops: readonly string[]): string {
  let at = text.length;
  for (const s of stops) {
    const i = s ? text.indexOf(s) : -1;
    if (i >= 0 && i < at) at = i;
  }
  return text.slice(0, at);
}

/** Length of the longest suffix of text that is a proper prefix of a stop string (held back while streaming). */
function longestStopPrefixSuffix(text: string, stops: readonly string[]): number {
  let best = 0;
  for (const s of stops) for (let k = Math.min(s.length - 1, text.length); k > best; k--) if (text.endsWith(s.slice(0, k))) best = k;
  return best;
}
