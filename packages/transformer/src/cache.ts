/**
 * KV cache: per layer the keys and values of every position seen so far, plus the padding mask
 * and each row's next position id (rows of a left-padded batch start at different positions).
 *
 *   const cache = model.createCache(2, 128);
 *   model.forward(promptIds, { cache, attentionMask });  // prefill: appends T positions
 *   model.forward(nextIds, { cache });                   // decode: appends 1 position
 *   cache.dispose();
 *
 * Dimension legend: B batch, K kv heads, S cached positions, D head dim.
 */
import { tf } from '@llm/tensor-gpu';
import { TransformerError } from './errors.js';

export class KVCache {
  readonly batch: number;
  readonly maxLen: number;
  readonly nLayer: number;
  /** Positions stored (padding included). */
  length = 0;
  /** [B, maxLen] host mask of stored positions: 1 real, 0 padding. */
  readonly mask: Uint8Array;
  /** Per row: the position id its next real token gets (= real tokens seen). */
  readonly nextPosition: Int32Array;
  private keys: Array<tf.Tensor | null>;
  private values: Array<tf.Tensor | null>;
  private pending = 0;

  constructor(batch: number, maxLen: number, nLayer: number) {
    for (const [k, v] of [['batch', batch], ['maxLen', maxLen]] as const) {
      if (!Number.isSafeInteger(v) || v < 1) throw new TransformerError('INVALID_ARGUMENT', `createCache: ${k} must be a positive integer, got ${v}.`);
    }
    // TransformerLM.createCache checks its limits first; this is the hard ceiling of the host mask.
    if (batch * maxLen > 2 ** 32) throw new TransformerError('LIMIT_EXCEEDED', `KVCache: batch × maxLen (${batch} × ${maxLen}) is above 2^32 positions.`);
    this.batch = batch;
    this.maxLen = maxLen;
    this.nLayer = nLayer;
    this.mask = new Uint8Array(batch * maxLen);
    this.nextPosition = new Int32Array(batch);
    this.keys = new Array<tf.Tensor | null>(nLayer).fill(null);
    this.values = new Array<tf.Tensor | null>(nLayer).fill(null);
  }

  /** Mask of stored positions as rows [B][length]. */
  storedMask(): Uint8Array[] {
    return Array.from({ length: this.batch }, (_, b) => this.mask.slice(b * this.maxLen, b * this.maxLen + this.length));
  }

  /**
   * Layer `layer`'s stored keys and values [B, K, length, D] (null before the first forward). The
   * cache owns them: read, clone to keep, never dispose.
   */
  layer(layer: number): { keys: tf.Tensor | null; values: tf.Tensor | null } {
    if (!Number.isInteger(layer) || layer < 0 || layer >= this.nLayer) throw new TransformerError('INVALID_ARGUMENT', `KVCache.layer: layer must be an integer in [0, ${this.nLayer}), got ${layer}.`);
    return { keys: this.keys[layer] ?? null, values: this.values[layer] ?? null };
  }

  /** @internal Called by the model before a forward of T new positions. */
  begin(T: number): void {
    if (this.length + T > this.maxLen) {
      throw new TransformerError('CONTEXT_OVERFLOW', `KV cache holds ${this.maxLen} positions; ${this.length} are used and ${T} more were given. Create a larger cache (createCache(batch, maxLen)).`);
    }
    this.pending = T;
  }

  /** @internal Append a layer's new k, v [B, K, T, D]; returns the full k, v [B, K, S + T, D]. */
  append(layer: number, k: tf.Tensor, v: tf.Tensor): [tf.Tensor, tf.Tensor] {
    const pk = this.keys[layer];
    const pv = this.values[layer];
    const nk = tf.keep(pk ? tf.concat([pk, k], 2) : k.clone()); // [B, K, S + T, D]
    const nv = tf.keep(pv ? tf.concat([pv, v], 2) : v.clone()); // [B, K, S + T, D]
    pk?.dispose();
    pv?.dispose();
    this.keys[layer] = nk;
    this.values[layer] = nv;
    return [nk, nv];
  }

  /** @internal Record the new positions' mask [B·T] once every layer has appended. */
  commit(tokenMask: Uint8Array): void {
    const T = this.pending;
    for (let b = 0; b < this.batch; b++) {
      for (let t = 0; t < T; t++) {
        const m = tokenMask[b * T + t]!;
        this.mask[b * this.maxLen + this.length + t] = m;
        this.nextPosition[b]! += m;
      }
    }
    this.length += T;
    this.pending = 0;
  }

  /** @internal Undo a forward that failed after `begin` (drops any layer that already appended). */
  rollback(): void {
    if (this.pending === 0) return;
    for (let l = 0; l < this.nLayer; l++) {
      const k = this.keys[l];
      if (k && k.shape[2] !== this.length) {
        const keep = (t: tf.Tensor) => tf.keep(t.slice([0, 0, 0, 0], [-1, -1, this.length, -1]));
        const [ok, ov] = this.length === 0 ? [null, null] : [keep(k), keep(this.values[l]!)];
        k.dispose();
        this.values[l]!.dispose();
        this.keys[l] = ok;
        this.values[l] = ov;
      }
    }
    this.pending = 0;
  }

  /**
   * Keep only the given rows, in that order (beam search reordering): rows[i] is the old row of
   * new row i. The batch size is unchanged.
   */
  reorder(rows: readonly number[]): void {
    if (rows.length !== this.batch || rows.some((r) => !Number.isInteger(r) || r < 0 || r >= this.batch)) {
      throw new TransformerError('INVALID_ARGUMENT', `KVCache.reorder: need ${this.batch} row indices in [0, ${this.batch}), got [${rows.join(', ')}].`);
    }
    const idx = tf.tensor1d(Int32Array.from(rows), 'int32');
    for (let l = 0; l < this.nLayer; l++) {
      for (const store of [this.keys, this.values]) {
        const t = store[l];
        if (!t) continue;
        store[l] = tf.keep(tf.gather(t, idx, 0));
        t.dispose();
      }
    }
    idx.dispose();
    const mask = this.mask.slice();
    const next = this.nextPosition.slice();
    rows.forEach((r, i) => {
      this.mask.set(mask.subarray(r * this.maxLen, (r + 1) * this.maxLen), i * this.maxLen);
      this.nextPosition[i] = next[r]!;
    });
  }

  /**
   * Drop every position from `length` on (speculative decoding rolls back rejected draft tokens).
   * Row positions are recounted from the stored mask.
   */
  truncate(length: number): void {
    if (!Number.isInteger(length) || length < 0 || length > this.length) {
      throw new TransformerError('INVALID_ARGUMENT', `KVCache.truncate: length must be an integer in [0, ${this.length}], got ${length}.`);
    }
    if (length === this.length) return;
    for (let l = 0; l < this.nLayer; l++) {
      for (const store of [this.keys, this.values]) {
        const t = store[l];
        if (!t) continue;
        store[l] = length === 0 ? null : tf.keep(t.slice([0, 0, 0, 0], [-1, -1, length, -1]));
        t.dispose();
      }
    }
    for (let b = 0; b < this.batch; b++) {
      let n = 0;
      for (let s = 0; s < length; s++) n += this.mask[b * this.maxLen + s]!;
      this.mask.fill(0, b * this.maxLen + length, (b + 1) * this.maxLen);
      this.nextPosition[b] = n;
    }
    this.length = length;
  }

  /** Forget everything stored (keeps the capacity). */
  reset(): void {
    this.dispose();
    this.mask.fill(0);
    this.nextPosition.fill(0);
    this.length = 0;
  }

  /** Free the cached tensors. */
  dispose(): void {
    for (let l = 0; l < this.nLayer; l++) {
      this.keys[l]?.dispose();
      this.values[l]?.dispose();
      this.keys[l] = null;
      this.values[l] = null;
    }
  }
}
