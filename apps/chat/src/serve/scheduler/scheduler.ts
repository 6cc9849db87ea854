/**
 * The continuous-batching scheduler (iteration-level, as vLLM's): at every step it admits waiting
 * requests into the running batch (up to `maxBatch`), runs ONE `engine.step` over every running
 * sequence (prefill chunks and decode tokens together), samples each request with its own sampler
 * and retires the finished. Prompt prefixes a request marks (`prefixLength`: the system prompt)
 * are kept as forked sequences and reused (prefix cache); when the engine's blocks run out
 * (CACHE_FULL) the prefix cache is emptied first, then the newest running request is preempted
 * (its blocks freed, requeued at the front to be recomputed). The queue is bounded (QUEUE_FULL),
 * and an aborted request's blocks are freed at once.
 *
 *   const sched = new Scheduler(engine, tokenizer, { maxBatch: 8 });
 *   const r = await sched.submit({ prompt: ids, maxNewTokens: 32, sampling: { temperature: 0 }, stopTokenIds: [eos] });
 *   r.text; r.finishReason;   // 'stop' | 'length'
 */
import type { Constraint, SamplingOptions } from '@llm/sample';
import { ServeError, isCacheFull } from '../errors.js';
import type { Sequence, StepEngine, StepInput } from './engine.js';
import { PrefixCache } from './prefix-cache.js';
import { RequestSampler, type TokenLogprob } from './sampler.js';
import { TextStream, type DecoderSource } from './text-stream.js';

export interface GenRequest {
  prompt: readonly number[];
  /** Leading prompt tokens worth caching for later requests (e.g. the system prompt); 0 = none. */
  prefixLength?: number;
  maxNewTokens: number;
  sampling: SamplingOptions;
  seed?: number;
  /** Ids that end the generation (EOS, end-of-turn); not part of the text. */
  stopTokenIds?: readonly number[];
  stopStrings?: readonly string[];
  constraint?: Constraint;
  /** null/undefined: no logprobs; k: the chosen token's and the top k. */
  topLogprobs?: number | null;
  signal?: AbortSignal;
  /** Called with each piece of released text (streaming). */
  onText?: (text: string, logprob: TokenLogprob | null) => void;
}

export type FinishReason = 'stop' | 'length';

export interface GenResult {
  text: string;
  tokens: number[];
  finishReason: FinishReason;
  promptTokens: number;
  /** Prompt tokens served from the prefix cache. */
  cachedTokens: number;
  logprobs: TokenLogprob[] | null;
}

export interface SchedulerOptions {
  /** Most sequences in one step (default 8). */
  maxBatch?: number;
  /** Most requests waiting (default 64); more → QUEUE_FULL (429). */
  maxQueue?: number;
  /** Prompt tokens fed per sequence per step (default 64). */
  prefillChunk?: number;
  /** Prefixes kept (default 8; 0 = no prefix caching). */
  prefixCacheSize?: number;
}

interface Active {
  req: GenRequest;
  resolve: (r: GenResult) => void;
  reject: (e: unknown) => void;
  seq: Sequence | null;
  /** Tokens stored in seq, in order. */
  stored: number[];
  /** Tokens still to feed (the prompt's rest, or the last sampled token). */
  pending: number[];
  generated: number[];
  sampler: RequestSampler;
  text: TextStream;
  logprobs: TokenLogprob[] | null;
  cachedTokens: number;
  done: boolean;
  onAbort: () => void;
}

export interface SchedulerStats {
  requestsTotal: number;
  requestsFailed: number;
  promptTokens: number;
  generatedTokens: number;
  prefixHits: number;
  prefixLookups: number;
  preemptions: number;
  steps: number;
  queueDepth: number;
  running: number;
  cancelled: number;
}

export class Scheduler {
  readonly maxBatch: number;
  readonly maxQueue: number;
  private readonly prefillChunk: number;
  private readonly prefix: PrefixCache;
  private readonly queue: Active[] = [];
  private running: Active[] = [];
  private looping = false;
  private closed = false;
  private readonly counts = { requestsTotal: 0, requestsFailed: 0, promptTokens: 0, generatedTokens: 0, preemptions: 0, steps: 0, cancelled: 0 };
  /** Listeners of each step's generated-token count (metrics). */
  onStep: ((tokens: number) => void) | null = null;

  constructor(readonly engine: StepEngine, private readonly tokenizer: DecoderSource, opts: SchedulerOptions = {}) {
    this.maxBatch = opts.maxBatch ?? 8;
    this.maxQueue = opts.maxQueue ?? 64;
    this.prefillChunk = opts.prefillChunk ?? 64;
    this.prefix = new PrefixCache(opts.prefixCacheSize ?? 8);
  }

  stats(): SchedulerStats {
    return { ...this.counts, prefixHits: this.prefix.hits, prefixLookups: this.prefix.lookups, queueDepth: this.queue.length, running: this.running.length };
  }

  /** Free every cached prefix (tests, shutdown). */
  clearPrefixCache(): void {
    this.prefix.clear();
  }

  /** Stop accepting requests; waiting and running ones are failed with OVERLOADED. */
  close(): void {
    this.closed = true;
    for (const a of [...this.queue, ...this.running]) this.fail(a, new ServeError('OVERLOADED', 'the server is shutting down'));
    this.prefix.clear();
  }

  submit(req: GenRequest): Promise<GenResult> {
    if (this.closed) return Promise.reject(new ServeError('OVERLOADED', 'the server is shutting down'));
    if (this.queue.length >= this.maxQueue) return Promise.reject(new ServeError('QUEUE_FULL', `the request queue is full (${this.queue.length} waiting, --max-queue ${this.maxQueue}); retry later`));
    if (req.prompt.length < 1) return Promise.reject(new ServeError('INVALID_REQUEST', 'the prompt is empty'));
    const ctx = this.engine.config.blockSize;
    if (req.prompt.length >= ctx) return Promise.reject(new ServeError('CONTEXT_LENGTH_EXCEEDED', `the prompt has ${req.prompt.length} tokens; the model's context is ${ctx} tokens (prompt plus at least one generated token). Shorten the messages.`, 'messages'));
    if (req.signal?.aborted) return Promise.reject(new ServeError('CANCELLED', 'the request was cancelled'));
    return new Promise<GenResult>((resolve, reject) => {
      const a: Active = {
        req,
        resolve,
        reject,
        seq: null,
        stored: [],
        pending: [...req.prompt],
        generated: [],
        sampler: new RequestSampler(req.sampling, { promptIds: req.prompt, ...(req.seed !== undefined ? { seed: req.seed } : {}), ...(req.constraint ? { constraint: req.constraint } : {}), topLogprobs: req.topLogprobs ?? null }),
        text: new TextStream(this.tokenizer, req.stopStrings ?? []),
        logprobs: req.topLogprobs === null || req.topLogprobs === undefined ? null : [],
        cachedTokens: 0,
        done: false,
        onAbort: () => this.cancel(a),
      };
      req.signal?.addEventListener('abort', a.onAbort, { once: true });
      this.counts.requestsTotal++;
      this.counts.promptTokens += req.prompt.length;
      this.queue.push(a);
      this.kick();
    });
  }

  private kick(): void {
    if (this.looping) return;
    this.looping = true;
    setImmediate(() => void this.loop());
  }

  private async loop(): Promise<void> {
    try {
      while (this.queue.length || this.running.length) {
        try {
          this.admit();
          if (this.running.length) this.stepOnce();
        } catch (e) {
          // an engine failure outside a step (a sequence it cannot create): fail what is in flight, keep serving
          for (const a of [...this.running, ...this.queue]) this.fail(a, e);
        }
        await new Promise<void>((r) => setImmediate(r)); // let I/O (new requests, disconnects) land between steps
      }
    } finally {
      this.looping = false;
    }
  }

  private admit(): void {
    while (this.running.length < this.maxBatch && this.queue.length) {
      const a = this.queue.shift()!;
      const full = [...a.stored, ...a.pending];
      const hit = this.prefix.lookup(full);
      let seq: Sequence | null = null;
      if (hit) {
        try {
          seq = hit.seq.fork();
          a.stored = [...hit.tokens];
          a.pending = full.slice(hit.tokens.length);
          if (a.generated.length === 0) a.cachedTokens = hit.tokens.length;
        } catch (e) {
          if (!isCacheFull(e)) throw e;
        }
      }
      if (!seq) {
        try {
          seq = this.engine.newSequence();
        } catch (e) {
          this.fail(a, e);
          continue;
        }
        a.stored = [];
        a.pending = full;
      }
      a.seq = seq;
      this.running.push(a);
    }
  }

  /** One engine step over the running batch, with CACHE_FULL handled by eviction then preemption. */
  private stepOnce(): void {
    for (;;) {
      const batch = this.running.slice();
      const inputs: StepInput[] = batch.map((a) => ({ seq: a.seq!, tokens: a.pending.slice(0, this.chunkFor(a)) }));
      let logits: Float32Array[];
      try {
        logits = this.engine.step(inputs);
      } catch (e) {
        if (!isCacheFull(e)) {
          for (const a of batch) this.fail(a, e);
          return;
        }
        if (this.prefix.evictOne()) continue;
        const victim = this.running[this.running.length - 1]!;
        if (this.running.length === 1) {
          this.fail(victim, new ServeError('CACHE_FULL', 'the KV cache cannot hold this request even alone; lower max_tokens or start the server with more KV blocks'));
          return;
        }
        this.preempt(victim);
        continue;
      }
      this.counts.steps++;
      let produced = 0;
      batch.forEach((a, k) => {
        if (a.done) return;
        const fed = inputs[k]!.tokens;
        a.stored.push(...fed);
        a.pending = a.pending.slice(fed.length);
        this.maybeCachePrefix(a);
        if (a.pending.length === 0) {
          produced++;
          this.advance(a, logits[k]!);
        }
      });
      this.counts.generatedTokens += produced;
      this.onStep?.(produced);
      return;
    }
  }

  /** Tokens of `a.pending` fed this step: a prefill chunk, stopping at the cacheable prefix's end. */
  private chunkFor(a: Active): number {
    let n = Math.min(a.pending.length, this.prefillChunk);
    const p = a.req.prefixLength ?? 0;
    if (a.stored.length < p && a.stored.length + n > p) n = p - a.stored.length;
    return n;
  }

  private maybeCachePrefix(a: Active): void {
    const p = a.req.prefixLength ?? 0;
    if (p <= 0 || a.stored.length !== p || a.generated.length || this.prefix.has(a.stored)) return;
    try {
      this.prefix.put(a.stored, a.seq!.fork());
    } catch (e) {
      if (!isCacheFull(e)) throw e;
    }
  }

  /** Sample a's next token from its logits and finish it when done. */
  private advance(a: Active, logits: Float32Array): void {
    let next;
    try {
      next = a.sampler.next(logits);
    } catch (e) {
      this.fail(a, e);
      return;
    }
    const { id, logprob, constraintDone } = next;
    a.generated.push(id);
    if (a.logprobs && logprob) a.logprobs.push(logprob);
    if (a.req.stopTokenIds?.includes(id)) return this.finish(a, 'stop');
    const piece = a.text.push(id);
    if (piece.text) a.req.onText?.(piece.text, logprob);
    if (a.done) return; // the callback cancelled it
    if (piece.stopped || constraintDone) return this.finish(a, 'stop');
    const ctxLeft = this.engine.config.blockSize - (a.req.prompt.length + a.generated.length);
    if (a.generated.length >= a.req.maxNewTokens || ctxLeft <= 0) return this.finish(a, 'length');
    a.pending = [id];
  }

  private finish(a: Active, reason: FinishReason): void {
    const rest = a.text.finish();
    if (rest) a.req.onText?.(rest, null);
    this.retire(a);
    a.resolve({ text: a.text.text, tokens: a.generated, finishReason: reason, promptTokens: a.req.prompt.length, cachedTokens: a.cachedTokens, logprobs: a.logprobs });
  }

  private fail(a: Active, e: unknown): void {
    if (a.done) return;
    this.counts.requestsFailed++;
    this.retire(a);
    a.reject(e);
  }

  private cancel(a: Active): void {
    if (a.done) return;
    this.counts.cancelled++;
    this.retire(a);
    a.reject(new ServeError('CANCELLED', 'the request was cancelled'));
  }

  /** Out of the batch and the queue; blocks freed. */
  private retire(a: Active): void {
    a.done = true;
    a.req.signal?.removeEventListener('abort', a.onAbort);
    a.seq?.free();
    a.seq = null;
    this.running = this.running.filter((x) => x !== a);
    const q = this.queue.indexOf(a);
    if (q >= 0) this.queue.splice(q, 1);
  }

  private preempt(a: Active): void {
    this.counts.preemptions++;
    a.seq?.free();
    a.seq = null;
    a.pending = [...a.stored, ...a.pending];
    a.stored = [];
    this.running = this.running.filter((x) => x !== a);
    this.queue.unshift(a);
  }
}
