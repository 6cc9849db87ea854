/**
 * One sequence in the paged KV cache: its length and its block table (block ids in order; the
 * blocks may be shared with forks by refcount). The model's `step` appends to it.
 *
 *   const a = model.newSequence();
 *   model.step([{ seq: a, tokens: [1, 2, 3] }]);
 *   const b = a.fork();        // shares a's blocks; the partial last one is copied on first write
 *   b.truncate(1); a.free(); b.free();
 */
import { InferError } from '../errors.js';
import type { BlockPool } from './blocks.js';

/** What a sequence needs from its model. */
export interface SequenceHost {
  readonly pool: BlockPool;
  readonly blockTokens: number;
  /** Throws DISPOSED once the model is disposed. */
  checkAlive(): void;
  /** Called when a sequence is freed (bookkeeping of live sequences). */
  forget(seq: Sequence): void;
}

let nextId = 1;

export class Sequence {
  /** Unique per process. */
  readonly id: number;
  /** @internal block ids, in position order. */
  readonly blocks: number[];
  private len: number;
  private freed = false;
  /** @internal */
  readonly host: SequenceHost;

  /** @internal use model.newSequence() */
  constructor(host: SequenceHost, blocks: number[] = [], length = 0) {
    this.id = nextId++;
    this.host = host;
    this.blocks = blocks;
    this.len = length;
  }

  /** Positions stored. */
  get length(): number {
    return this.len;
  }

  get isFreed(): boolean {
    return this.freed;
  }

  /** @internal */
  check(): void {
    this.host.checkAlive();
    if (this.freed) throw new InferError('INVALID_ARGUMENT', `sequence ${this.id} was freed; create a new one with model.newSequence().`);
  }

  /** @internal set after a successful step */
  setLength(n: number): void {
    this.len = n;
  }

  /**
   * A new sequence with the same content: every block is shared by refcount (no copy now); the
   * partial last block is copied when either side first writes into it.
   */
  fork(): Sequence {
    this.check();
    for (const b of this.blocks) this.host.pool.retain(b);
    return new Sequence(this.host, [...this.blocks], this.len);
  }

  /** Keep the first n positions (0 ≤ n ≤ length); blocks past them are released. */
  truncate(n: number): void {
    this.check();
    if (!Number.isInteger(n) || n < 0 || n > this.len) throw new InferError('INVALID_ARGUMENT', `sequence.truncate: n must be an integer in [0, ${this.len}], got ${n}.`);
    const keep = Math.ceil(n / this.host.blockTokens);
    for (const b of this.blocks.splice(keep)) this.host.pool.release(b);
    this.len = n;
  }

  /** Release every block; the sequence can no longer be used. Idempotent. */
  free(): void {
    if (this.freed) return;
    this.freed = true;
    for (const b of this.blocks.splice(0)) this.host.pool.release(b);
    this.len = 0;
    this.host.forget(this);
  }
}
