/**
 * The KV pool's block allocator: a free list and a refcount per block, so forked sequences
 * share prefix blocks and a block returns to the free list when its last owner lets go.
 *
 *   const pool = new BlockPool(4);
 *   const b = pool.alloc();   // 0; pool.inUse = 1
 *   pool.retain(b);           // shared by two sequences
 *   pool.release(b); pool.release(b); // pool.inUse = 0
 */
import { InferError } from '../errors.js';

export class BlockPool {
  readonly total: number;
  private readonly refs: Int32Array;
  private readonly free: number[];

  constructor(total: number) {
    this.total = total;
    this.refs = new Int32Array(total);
    this.free = Array.from({ length: total }, (_, i) => total - 1 - i); // pop() gives 0 first
  }

  get available(): number {
    return this.free.length;
  }
  get inUse(): number {
    return this.total - this.free.length;
  }
  refCount(block: number): number {
    return this.refs[block]!;
  }

  /** A fresh block with refcount 1; CACHE_FULL when none is free (callers check `available` first). */
  alloc(): number {
    const b = this.free.pop();
    if (b === undefined) throw new InferError('CACHE_FULL', `all ${this.total} KV cache blocks are in use; free or truncate sequences, or compile with a larger maxTokens.`);
    this.refs[b] = 1;
    return b;
  }

  retain(block: number): void {
    this.refs[block]! += 1;
  }

  release(block: number): void {
    const r = --this.refs[block]!;
    if (r === 0) this.free.push(block);
    else if (r < 0) throw new InferError('INVALID_ARGUMENT', `KV block ${block} released more often than retained (engine bug).`);
  }
}
