/**
 * InferenceModel: a model packed into WebAssembly memory, decoding through one wasm call per
 * step. Two faces over one paged KV cache:
 *   - the sequence API the server drives: newSequence(), step(), cacheStats()
 *   - the CausalLM contract @llm/sample consumes: forward(ids, { cache, attentionMask,
 *     logitsToKeep }) and createCache(batch, maxLen) (see cache.ts)
 *
 *   const seq = model.newSequence();
 *   const [logits] = model.step([{ seq, tokens: [1, 2, 3] }]);   // Float32Array [V] of token 3
 *   model.step([{ seq, tokens: [argmax(logits)] }]);               // decode one more
 *   seq.free();
 *
 * Dimension legend: B batch, T tokens per row, V vocab, N tokens per wasm call.
 */
import { tf } from '@llm/tensor-gpu';
import type { ModelConfig, ModelGenerationConfig } from '@llm/transformer';
import { InferError } from '../errors.js';
import type { EngineExports } from '../wasm/module.js';
import type { Arena } from './arena.js';
import { BlockPool } from './blocks.js';
import { B as BW } from './layout.js';
import type { PackedModel } from './pack.js';
import { Sequence, type SequenceHost } from './sequence.js';
import { PagedCache, forwardOnCache } from './cache.js';
import type { WorkerPool } from './workers.js';

export interface StepInput {
  seq: Sequence;
  tokens: readonly number[];
}

export interface StepOptions {
  /** Return the logits of every input token ([T·V] per input) instead of the last one's ([V]). */
  allLogits?: boolean;
}

export interface CacheStats {
  blocksTotal: number;
  blocksInUse: number;
  blockTokens: number;
}

export interface ForwardOptionsLike {
  cache?: PagedCache;
  attentionMask?: tf.Tensor | ArrayLike<ArrayLike<number>>;
  logitsToKeep?: number;
}

export class InferenceModel implements SequenceHost {
  readonly config: ModelConfig;
  generationConfig: ModelGenerationConfig;
  /** The weight format linears were packed in ('f32', 'q8_0', …, or 'gguf'). */
  readonly weights: string;
  /**
   * What the linears multiply: 'q8' (linears of the block formats on their inputs quantized to Q8 /
   * Q8_K, f32 / f16 linears on f32) or 'f32' (all on f32: asked for, or every linear is f32 / f16).
   */
  get activations(): 'f32' | 'q8' {
    return this.packed.activations;
  }
  /** Linears packed in another format than `weights` asked (widths not a whole number of blocks), as "name: from → to (why)". */
  readonly fallbacks: readonly string[];
  readonly pool: BlockPool;
  readonly blockTokens: number;
  private readonly arena: Arena;
  private readonly wasm: EngineExports;
  private readonly packed: PackedModel;
  private readonly live = new Set<Sequence>();
  private readonly workers: WorkerPool | null;
  private disposed = false;

  /** @internal use compileForInference / loadGgufForInference */
  constructor(o: { config: ModelConfig; generationConfig?: ModelGenerationConfig; weights: string; fallbacks?: readonly string[]; arena: Arena; wasm: EngineExports; packed: PackedModel; pool?: WorkerPool | null }) {
    this.config = o.config;
    this.generationConfig = o.generationConfig ?? {};
    this.weights = o.weights;
    this.fallbacks = o.fallbacks ?? [];
    this.arena = o.arena;
    this.wasm = o.wasm;
    this.packed = o.packed;
    this.workers = o.pool ?? null;
    this.blockTokens = o.packed.blockTokens;
    this.pool = new BlockPool(o.packed.blocks);
  }

  /** Bytes of WebAssembly memory in use (weights, KV pool, scratch). */
  get memoryBytes(): number {
    return this.arena.top;
  }

  /** Bytes of the packed weights. */
  get weightBytes(): number {
    return this.packed.weightBytes;
  }

  checkAlive(): void {
    if (this.disposed) throw new InferError('DISPOSED', 'this InferenceModel was disposed; compile it again to use it.');
  }

  forget(seq: Sequence): void {
    this.live.delete(seq);
  }

  /** An empty sequence (no blocks until its first step). */
  newSequence(): Sequence {
    this.checkAlive();
    const s = new Sequence(this);
    this.live.add(s);
    return s;
  }

  cacheStats(): CacheStats {
    return { blocksTotal: this.pool.total, blocksInUse: this.pool.inUse, blockTokens: this.blockTokens };
  }

  /**
   * Appends each input's tokens to its sequence (one wasm call per up to maxN tokens, all inputs
   * together) and returns each input's last-token logits [V], or all of them [T·V] with allLogits.
   * CACHE_FULL / CONTEXT_OVERFLOW / INVALID_ARGUMENT leave every sequence as it was.
   */
  step(inputs: readonly StepInput[], opts: StepOptions = {}): Float32Array[] {
    return this.run(inputs, inputs.map((i) => (opts.allLogits ? i.tokens.length : 1)));
  }

  /** @internal step with `keep[i]` trailing logits per input (0 ≤ keep ≤ tokens). */
  run(inputs: readonly StepInput[], keep: readonly number[]): Float32Array[] {
    this.checkAlive();
    const { vocabSize: V, blockSize } = this.config;
    const BT = this.blockTokens;
    const seen = new Set<Sequence>();
    let need = 0;
    inputs.forEach(({ seq, tokens }, i) => {
      if (!(seq instanceof Sequence) || seq.host !== this) throw new InferError('INVALID_ARGUMENT', `step: input ${i} has no sequence of this model (use model.newSequence()).`);
      seq.check();
      if (seen.has(seq)) throw new InferError('INVALID_ARGUMENT', `step: sequence ${seq.id} appears twice; concatenate its tokens into one input.`);
      seen.add(seq);
      if (!Array.isArray(tokens) || tokens.length === 0) throw new InferError('INVALID_ARGUMENT', `step: input ${i} needs a non-empty array of token ids.`);
      for (const t of tokens) {
        if (!Number.isInteger(t) || t < 0 || t >= V) throw new InferError('INVALID_ARGUMENT', `step: token id ${t} (input ${i}) is outside the vocabulary [0, ${V}); check ids against config.vocabSize.`);
      }
      const end = seq.length + tokens.length;
      if (end > blockSize) throw new InferError('CONTEXT_OVERFLOW', `step: sequence ${seq.id} would reach ${end} positions, but the model has ${blockSize} (blockSize). Truncate the input or start a new sequence.`);
      const owned = seq.blocks.length;
      need += Math.ceil(end / BT) - owned;
      // copy-on-write: the partial last block is shared and will be written
      if (seq.length % BT !== 0 && this.pool.refCount(seq.blocks[owned - 1]!) > 1) need += 1;
    });
    if (need > this.pool.available) {
      throw new InferError('CACHE_FULL', `step needs ${need} more KV blocks of ${BT} positions, ${this.pool.available} of ${this.pool.total} are free. Free or truncate sequences, or compile with a larger maxTokens.`);
    }
    // allocate: copy shared partial blocks, then grow the tables
    for (const { seq, tokens } of inputs) {
      const owned = seq.blocks.length;
      if (seq.length % BT !== 0 && this.pool.refCount(seq.blocks[owned - 1]!) > 1) {
        const old = seq.blocks[owned - 1]!;
        const fresh = this.pool.alloc();
        this.copyBlock(old, fresh);
        this.pool.release(old);
        seq.blocks[owned - 1] = fresh;
      }
      const want = Math.ceil((seq.length + tokens.length) / BT);
      while (seq.blocks.length < want) seq.blocks.push(this.pool.alloc());
    }
    // flatten and run in chunks of maxN tokens
    const out = inputs.map((_, i) => new Float32Array(keep[i]! * V));
    const flat: Array<{ input: number; j: number }> = [];
    inputs.forEach((inp, i) => inp.tokens.forEach((_, j) => flat.push({ input: i, j })));
    const maxN = this.packed.maxN;
    try {
      for (let c0 = 0; c0 < flat.length; c0 += maxN) this.call(inputs, keep, flat.slice(c0, c0 + maxN), out);
    } catch (e) {
      // lengths are unchanged: give back the blocks this step added
      for (const { seq } of inputs) for (const b of seq.blocks.splice(Math.ceil(seq.length / BT))) this.pool.release(b);
      throw e;
    }
    for (const { seq, tokens } of inputs) seq.setLength(seq.length + tokens.length);
    return out;
  }

  private call(inputs: readonly StepInput[], keep: readonly number[], chunk: Array<{ input: number; j: number }>, out: Float32Array[]): void {
    const a = this.arena;
    const b = this.packed.batch;
    const V = this.config.vocabSize;
    const n = chunk.length;
    const tokens = a.i32(b.tokens, n);
    const pos = a.i32(b.pos, n);
    const tables = a.u32(b.tables, n);
    const outIdx = a.i32(b.out, n);
    const tablePtr = new Map<number, number>();
    let slabUsed = 0;
    let nOut = 0;
    const dest: Array<{ input: number; row: number }> = [];
    chunk.forEach(({ input, j }, t) => {
      const { seq, tokens: toks } = inputs[input]!;
      tokens[t] = toks[j]!;
      pos[t] = seq.length + j;
      let p = tablePtr.get(input);
      if (p === undefined) {
        p = b.tableSlab + slabUsed * b.tableWords * 4;
        a.i32(p, seq.blocks.length).set(seq.blocks);
        tablePtr.set(input, p);
        slabUsed++;
      }
      tables[t] = p;
      const first = toks.length - keep[input]!;
      if (j >= first) {
        outIdx[nOut++] = t;
        dest.push({ input, row: j - first });
      }
    });
    a.i32(b.record, BW.WORDS).set([n, nOut, b.tokens, b.pos, b.tables, b.out, b.logits, 0]);
    if (this.workers) this.workers.run(this.wasm, this.packed.model, b.record);
    else this.wasm.forward(this.packed.model, b.record);
    if (nOut === 0) return;
    const logits = a.f32(b.logits, nOut * V);
    dest.forEach(({ input, row }, i) => out[input]!.set(logits.subarray(i * V, (i + 1) * V), row * V));
  }

  private copyBlock(from: number, to: number): void {
    const { blockBytes, poolK, poolV } = this.packed;
    const u8 = new Uint8Array(this.arena.memory.buffer);
    for (const base of [poolK, poolV]) u8.copyWithin(base + to * blockBytes, base + from * blockBytes, base + (from + 1) * blockBytes);
  }

  // ---- CausalLM --------------------------------------------------------------------------------

  /** A cache of `batch` rows of up to `maxLen` positions (padding included; default blockSize). */
  createCache(batch: number, maxLen: number = this.config.blockSize): PagedCache {
    this.checkAlive();
    return new PagedCache(this, batch, maxLen);
  }

  /**
   * ids [B, T] int32 → logits [B, T', V] (T' = logitsToKeep ?? T), the TransformerLM semantics:
   * left padding via attentionMask ([B, T] or [B, S + T]), HF position ids (real tokens count up,
   * pads are not stored and get zero logits).
   */
  forward(ids: tf.Tensor, opts: ForwardOptionsLike = {}): tf.Tensor3D {
    this.checkAlive();
    return forwardOnCache(this, ids, opts);
  }

  /** Frees the memory (every sequence dies with it). Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    for (const s of [...this.live]) s.free();
    this.disposed = true;
    this.workers?.close();
  }

  /** Threads each step runs on. */
  get threads(): number {
    return this.workers?.threads ?? 1;
  }
}
