/**
 * A CausalLM whose logits are a function of the (real) context: a test double for code that drives
 * a model (processors, pipelines, servers) — scripted outputs, known distributions, a failure on
 * the n-th forward. Implements the cache contract (padding masks, reorder, truncate).
 *
 *   const lm = new FunctionLM(5, 64, (ctx) => Float32Array.of(0, 0, 9, 0, 0));   // always prefers token 2
 *   generate(lm, [[1]], { maxNewTokens: 3, temperature: 0 }).sequences;      // [[1, 2, 2, 2]]
 *   lm.failAt = 2;                                                            // the 2nd forward from now on throws
 */
import { tf } from '@llm/tensor-gpu';
import type { CacheLike, CausalLMLike } from './model.js';

class FakeCache implements CacheLike {
  rows: number[][];
  masks: number[][];
  constructor(batch: number) {
    this.rows = Array.from({ length: batch }, () => []);
    this.masks = Array.from({ length: batch }, () => []);
  }
  get length(): number {
    return this.rows[0]!.length;
  }
  reorder(rows: readonly number[]): void {
    this.rows = rows.map((r) => [...this.rows[r]!]);
    this.masks = rows.map((r) => [...this.masks[r]!]);
  }
  truncate(length: number): void {
    this.rows = this.rows.map((r) => r.slice(0, length));
    this.masks = this.masks.map((m) => m.slice(0, length));
  }
  dispose(): void {}
}

export class FunctionLM implements CausalLMLike {
  readonly config: { vocabSize: number; blockSize: number; eosTokenId: number | null };
  /** Forward passes and positions scored so far. */
  calls = 0;
  positions = 0;
  /** Throw on this forward call (1-based, counting every call) and after, to simulate a failure mid-way. */
  failAt: number | null = null;
  constructor(vocabSize: number, blockSize: number, readonly logitsAt: (context: readonly number[]) => Float32Array, eosTokenId: number | null = null) {
    this.config = { vocabSize, blockSize, eosTokenId };
  }

  createCache(batch: number): FakeCache {
    return new FakeCache(batch);
  }

  forward(ids: tf.Tensor, opts: { cache?: CacheLike; attentionMask?: tf.Tensor | ArrayLike<ArrayLike<number>>; logitsToKeep?: number } = {}): tf.Tensor {
    this.calls++;
    if (this.failAt !== null && this.calls >= this.failAt) throw new Error(`FunctionLM: simulated failure in forward ${this.calls}`);
    const [B, T] = ids.shape as [number, number];
    const mask = (opts.attentionMask instanceof tf.Tensor ? opts.attentionMask.arraySync() : opts.attentionMask) as ArrayLike<ArrayLike<number>> | undefined;
    const rows = ids.arraySync() as number[][];
    const cache = (opts.cache as FakeCache | undefined) ?? new FakeCache(B);
    const keep = opts.logitsToKeep ?? T;
    const V = this.config.vocabSize;
    const out = new Float32Array(B * keep * V);
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < T; t++) {
        cache.rows[b]!.push(rows[b]![t]!);
        cache.masks[b]!.push(mask ? mask[b]![t]! : 1);
        if (t >= T - keep) {
          const ctx = cache.rows[b]!.filter((_, i) => cache.masks[b]![i]);
          out.set(this.logitsAt(ctx), (b * keep + t - (T - keep)) * V);
          this.positions++;
        }
      }
    }
    return tf.tensor3d(out, [B, keep, V]);
  }
}
