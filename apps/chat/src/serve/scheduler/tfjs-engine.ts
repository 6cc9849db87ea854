/**
 * The reference StepEngine over a plain TransformerLM (`--engine tfjs`): one KVCache per sequence
 * (model.createCache(1, ctx)), each input stepped by its own forward — slow, but exactly the
 * model's logits. Blocks are accounted here (refcounted, `blockTokens` positions each) so the
 * scheduler sees the same CACHE_FULL / prefix-sharing behaviour as with the paged engine; a fork
 * shares its parent's full blocks and the tfjs tensors (clone, no copy).
 *
 *   const engine = new TfjsEngine(model, { blocksTotal: 256, blockTokens: 16 });
 *   const s = engine.newSequence();
 *   const [logits] = engine.step([{ seq: s, tokens: [1, 2, 3] }]);   // Float32Array [V]
 *   s.free();
 */
import { tf } from '@llm/tensor-gpu';
import type { KVCache, TransformerLM } from '@llm/transformer';
import { ServeError } from '../errors.js';
import type { CacheStats, Sequence, StepEngine, StepInput } from './engine.js';

export interface TfjsEngineOptions {
  /** Blocks in the pool (default: enough for 8 full contexts). */
  blocksTotal?: number;
  /** Positions per block (default 16). */
  blockTokens?: number;
  /** Longest sequence (default the model's blockSize). */
  ctx?: number;
}

class BlockPool {
  private readonly refs: Int32Array;
  private readonly freeList: number[] = [];
  constructor(readonly total: number) {
    this.refs = new Int32Array(total);
    for (let i = total - 1; i >= 0; i--) this.freeList.push(i);
  }
  get free(): number {
    return this.freeList.length;
  }
  alloc(): number {
    const b = this.freeList.pop();
    if (b === undefined) throw new ServeError('CACHE_FULL', 'no free KV blocks');
    this.refs[b] = 1;
    return b;
  }
  share(b: number): number {
    this.refs[b]!++;
    return b;
  }
  release(b: number): void {
    if (--this.refs[b]! === 0) this.freeList.push(b);
  }
}

class TfjsSequence implements Sequence {
  cache: KVCache | null;
  blocks: number[] = [];
  constructor(readonly id: number, private readonly engine: TfjsEngine, cache: KVCache) {
    this.cache = cache;
  }
  get length(): number {
    return this.cache?.length ?? 0;
  }
  fork(): Sequence {
    return this.engine.fork(this);
  }
  truncate(n: number): void {
    this.live().truncate(n);
    this.engine.trimBlocks(this);
  }
  free(): void {
    if (!this.cache) return;
    this.cache.dispose();
    this.cache = null;
    this.engine.releaseBlocks(this);
  }
  live(): KVCache {
    if (!this.cache) throw new ServeError('INTERNAL', `sequence ${this.id} was freed`);
    return this.cache;
  }
}

export class TfjsEngine implements StepEngine {
  readonly config: { vocabSize: number; blockSize: number };
  private readonly pool: BlockPool;
  private readonly blockTokens: number;
  private nextId = 1;

  constructor(readonly model: TransformerLM, opts: TfjsEngineOptions = {}) {
    const ctx = Math.min(opts.ctx ?? model.config.blockSize, model.config.blockSize);
    this.config = { vocabSize: model.config.vocabSize, blockSize: ctx };
    this.blockTokens = opts.blockTokens ?? 16;
    this.pool = new BlockPool(opts.blocksTotal ?? 8 * Math.ceil(ctx / this.blockTokens));
  }

  newSequence(): Sequence {
    return new TfjsSequence(this.nextId++, this, this.model.createCache(1, this.config.blockSize));
  }

  step(inputs: readonly StepInput[], opts: { allLogits?: boolean } = {}): Float32Array[] {
    // Reserve every block the batch needs first: a CACHE_FULL changes nothing.
    const seqs = inputs.map((i) => i.seq as TfjsSequence);
    let need = 0;
    for (const [k, inp] of inputs.entries()) {
      const s = seqs[k]!;
      s.live();
      if (inp.tokens.length === 0) throw new ServeError('INTERNAL', 'step: an input has no tokens');
      if (s.length + inp.tokens.length > this.config.blockSize) throw new ServeError('CONTEXT_LENGTH_EXCEEDED', `sequence ${s.id} would hold ${s.length + inp.tokens.length} tokens, more than the context (${this.config.blockSize})`);
      need += Math.ceil((s.length + inp.tokens.length) / this.blockTokens) - s.blocks.length;
    }
    if (need > this.pool.free) throw new ServeError('CACHE_FULL', `the step needs ${need} KV blocks, ${this.pool.free} are free`);
    return inputs.map((inp, k) => {
      const s = seqs[k]!;
      while (s.blocks.length * this.blockTokens < s.length + inp.tokens.length) s.blocks.push(this.pool.alloc());
      const T = inp.tokens.length;
      return tf.tidy(() => {
        const ids = tf.tensor2d(Int32Array.from(inp.tokens), [1, T], 'int32');
        const logits = this.model.forward(ids, { cache: s.live(), logitsToKeep: opts.allLogits ? T : 1 }); // [1, T', V]
        return logits.dataSync() as Float32Array;
      });
    });
  }

  cacheStats(): CacheStats {
    return { blocksTotal: this.pool.total, blocksInUse: this.pool.total - this.pool.free, blockTokens: this.blockTokens };
  }

  /** @internal A copy of `parent` sharing its tensors and its full blocks (the partial last block is copied). */
  fork(parent: TfjsSequence): Sequence {
    const src = parent.live();
    const child = new TfjsSequence(this.nextId++, this, this.model.createCache(1, this.config.blockSize));
    const n = src.length;
    const partial = n % this.blockTokens !== 0;
    if (partial && this.pool.free === 0) {
      child.free();
      throw new ServeError('CACHE_FULL', 'no free KV block to fork into');
    }
    if (n > 0) {
      const dst = child.live();
      dst.begin(n);
      for (let l = 0; l < src.nLayer; l++) {
        const { keys, values } = src.layer(l);
        dst.append(l, keys!, values!); // the cache keeps a clone: the data is shared, not copied
      }
      dst.commit(src.mask.slice(0, n));
    }
    child.blocks = parent.blocks.map((b, i) => (partial && i === parent.blocks.length - 1 ? this.pool.alloc() : this.pool.share(b)));
    return child;
  }

  /** @internal Release blocks past the sequence's length. */
  trimBlocks(s: TfjsSequence): void {
    const keep = Math.ceil(s.length / this.blockTokens);
    while (s.blocks.length > keep) this.pool.release(s.blocks.pop()!);
  }

  /** @internal Release all of a sequence's blocks. */
  releaseBlocks(s: TfjsSequence): void {
    for (const b of s.blocks) this.pool.release(b);
    s.blocks = [];
  }
}
