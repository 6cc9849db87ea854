/**
 * The CausalLM face of the engine: a cache of B rows, each row one engine Sequence, plus the
 * padding mask so `length` counts positions as @llm/transformer's KVCache does (padding
 * included). Pads are never stored: a row's sequence holds its real tokens only, which gives HF's
 * position ids (real tokens count up from 0) and keeps pads out of attention.
 *
 *   const cache = model.createCache(2, 16);
 *   model.forward(ids, { cache, attentionMask: [[0, 1, 1], [1, 1, 1]] }); // rows store 2 and 3 tokens
 *   cache.length;       // 3
 *   cache.reorder([1, 1]); cache.truncate(2); cache.dispose();
 *
 * Dimension legend: B batch, T new positions, S stored positions, V vocab.
 */
import { tf } from '@llm/tensor-gpu';
import { InferError } from '../errors.js';
import type { Sequence } from './sequence.js';
import type { InferenceModel, ForwardOptionsLike } from './model.js';

export class PagedCache {
  readonly batch: number;
  readonly maxLen: number;
  /** Positions stored (padding included). */
  length = 0;
  /** [B, maxLen] 1 real, 0 padding. */
  readonly mask: Uint8Array;
  /** @internal one sequence per row */
  rows: Sequence[];
  private readonly model: InferenceModel;
  private disposed = false;

  constructor(model: InferenceModel, batch: number, maxLen: number) {
    for (const [k, v] of [['batch', batch], ['maxLen', maxLen]] as const) {
      if (!Number.isSafeInteger(v) || v < 1) throw new InferError('INVALID_ARGUMENT', `createCache: ${k} must be a positive integer, got ${v}.`);
    }
    this.model = model;
    this.batch = batch;
    this.maxLen = maxLen;
    this.mask = new Uint8Array(batch * maxLen);
    this.rows = Array.from({ length: batch }, () => model.newSequence());
  }

  /** @internal */
  check(): void {
    if (this.disposed) throw new InferError('DISPOSED', 'this cache was disposed; create a new one with model.createCache().');
  }

  /** Stored mask rows [B][length]. */
  storedMask(): Uint8Array[] {
    return Array.from({ length: this.batch }, (_, b) => this.mask.slice(b * this.maxLen, b * this.maxLen + this.length));
  }

  /** @internal record T new positions after a successful step. */
  commit(tokenMask: Uint8Array, T: number): void {
    for (let b = 0; b < this.batch; b++) this.mask.set(tokenMask.subarray(b * T, (b + 1) * T), b * this.maxLen + this.length);
    this.length += T;
  }

  /** Row i becomes old row rows[i] (beam search); rows share blocks by refcount. */
  reorder(rows: readonly number[]): void {
    this.check();
    if (rows.length !== this.batch || rows.some((r) => !Number.isInteger(r) || r < 0 || r >= this.batch)) {
      throw new InferError('INVALID_ARGUMENT', `cache.reorder: need ${this.batch} row indices in [0, ${this.batch}), got [${rows.join(', ')}].`);
    }
    const next = rows.map((r) => this.rows[r]!.fork());
    for (const s of this.rows) s.free();
    this.rows = next;
    const mask = this.mask.slice();
    rows.forEach((r, i) => this.mask.set(mask.subarray(r * this.maxLen, (r + 1) * this.maxLen), i * this.maxLen));
  }

  /** Drop every position from `length` on (speculative decoding). */
  truncate(length: number): void {
    this.check();
    if (!Number.isInteger(length) || length < 0 || length > this.length) {
      throw new InferError('INVALID_ARGUMENT', `cache.truncate: length must be an integer in [0, ${this.length}], got ${length}.`);
    }
    for (let b = 0; b < this.batch; b++) {
      let n = 0;
      for (let s = 0; s < length; s++) n += this.mask[b * this.maxLen + s]!;
      this.mask.fill(0, b * this.maxLen + length, (b + 1) * this.maxLen);
      this.rows[b]!.truncate(n);
    }
    this.length = length;
  }

  /** Forget everything stored (keeps the capacity). */
  reset(): void {
    this.truncate(0);
  }

  /** Release the rows' blocks. Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const s of this.rows) s.free();
  }
}

/** Host copy of ids [B, T] (int32, in range). */
function readIds(ids: tf.Tensor, V: number): { B: number; T: number; data: Int32Array } {
  if (!(ids instanceof tf.Tensor) || ids.rank !== 2 || ids.shape[0] === 0 || ids.shape[1] === 0) {
    throw new InferError('INVALID_ARGUMENT', `forward: ids must be a tf.Tensor [B, T] of int32 with B, T ≥ 1${ids instanceof tf.Tensor ? `, got [${ids.shape}]` : ''}.`);
  }
  if (ids.dtype !== 'int32') throw new InferError('INVALID_ARGUMENT', `forward: ids must be int32, got ${ids.dtype} (use tf.tensor2d(rows, shape, 'int32')).`);
  const [B, T] = ids.shape as [number, number];
  const data = ids.dataSync() as Int32Array;
  for (let i = 0; i < data.length; i++) {
    const id = data[i]!;
    if (id < 0 || id >= V) throw new InferError('INVALID_ARGUMENT', `forward: token id ${id} at [${Math.floor(i / T)}, ${i % T}] is outside the vocabulary [0, ${V}); check ids against config.vocabSize.`);
  }
  return { B, T, data };
}

/** The new positions' mask [B·T] from [B, T] or [B, S + T] (its first S columns must match the cache). */
function readMask(mask: ForwardOptionsLike['attentionMask'], B: number, T: number, cache: PagedCache | null): Uint8Array {
  const out = new Uint8Array(B * T);
  if (mask === undefined) return out.fill(1);
  const rows: number[][] = mask instanceof tf.Tensor ? (mask.arraySync() as number[][]) : Array.from(mask as ArrayLike<ArrayLike<number>>, (r) => Array.from(r));
  const S = cache?.length ?? 0;
  const W = rows[0]?.length ?? 0;
  if (!Array.isArray(rows) || rows.length !== B || rows.some((r) => !Array.isArray(r) || r.length !== W) || (W !== T && W !== S + T)) {
    throw new InferError('INVALID_ARGUMENT', `forward: attentionMask must be [${B}, ${T}] (new tokens)${S ? ` or [${B}, ${S + T}] (cached + new)` : ''}, got [${rows.length}, ${W}].`);
  }
  const stored = W === S + T && S > 0 ? cache!.storedMask() : null;
  for (let b = 0; b < B; b++) {
    for (let j = 0; j < W; j++) {
      const m = rows[b]![j];
      if (m !== 0 && m !== 1) throw new InferError('INVALID_ARGUMENT', `forward: attentionMask values must be 0 or 1, got ${m} at [${b}, ${j}].`);
      if (j < W - T) {
        if (stored && stored[b]![j] !== m) throw new InferError('INVALID_ARGUMENT', `forward: attentionMask[${b}, ${j}] = ${m} disagrees with the cache's stored mask; pass only the new tokens' mask [B, T].`);
      } else out[b * T + j - (W - T)] = m;
    }
  }
  return out;
}

/** CONTEXT_OVERFLOW in forward's terms (a row, not the sequence inside it): pads take no position. */
function checkContext(model: InferenceModel, row: number, end: number): void {
  const { blockSize } = model.config;
  if (end > blockSize) throw new InferError('CONTEXT_OVERFLOW', `forward: row ${row} would hold ${end} tokens, but the model has ${blockSize} positions (blockSize; padding takes none). Trim the input.`);
}

/** InferenceModel.forward: rows → sequences (the cache's, or temporary ones), one step for all. */
export function forwardOnCache(model: InferenceModel, idsT: tf.Tensor, opts: ForwardOptionsLike): tf.Tensor3D {
  const V = model.config.vocabSize;
  const { B, T, data } = readIds(idsT, V);
  const cache = opts.cache ?? null;
  if (cache) {
    if (!(cache instanceof PagedCache)) throw new InferError('INVALID_ARGUMENT', 'forward: the cache must come from this model\'s createCache().');
    cache.check();
    if (cache.batch !== B) throw new InferError('INVALID_ARGUMENT', `forward: the cache holds ${cache.batch} rows, ids have ${B}.`);
    if (cache.length + T > cache.maxLen) throw new InferError('CONTEXT_OVERFLOW', `KV cache holds ${cache.maxLen} positions; ${cache.length} are used and ${T} more were given. Create a larger cache (createCache(batch, maxLen)).`);
  }
  const keep = opts.logitsToKeep ?? T;
  if (!Number.isInteger(keep) || keep < 1 || keep > T) throw new InferError('INVALID_ARGUMENT', `forward: logitsToKeep must be an integer in [1, ${T}], got ${keep}.`);
  const mask = readMask(opts.attentionMask, B, T, cache);
  const seqs = cache ? cache.rows : Array.from({ length: B }, () => model.newSequence());
  try {
    const inputs: Array<{ seq: Sequence; tokens: number[] }> = [];
    const rowOf: number[] = [];
    const keeps: number[] = [];
    for (let b = 0; b < B; b++) {
      const tokens: number[] = [];
      let kept = 0;
      for (let t = 0; t < T; t++) {
        if (!mask[b * T + t]) continue;
        tokens.push(data[b * T + t]!);
        if (t >= T - keep) kept++;
      }
      if (tokens.length === 0) continue;
      checkContext(model, b, seqs[b]!.length + tokens.length);
      inputs.push({ seq: seqs[b]!, tokens });
      rowOf.push(b);
      keeps.push(kept);
    }
    const logits = inputs.length ? model.run(inputs, keeps) : [];
    const out = new Float32Array(B * keep * V); // pads keep zero logits
    inputs.forEach((_, i) => {
      const b = rowOf[i]!;
      let r = 0;
      for (let t = T - keep; t < T; t++) {
        if (!mask[b * T + t]) continue;
        out.set(logits[i]!.subarray(r * V, (r + 1) * V), (b * keep + t - (T - keep)) * V);
        r++;
      }
    });
    cache?.commit(mask, T);
    return tf.tensor3d(out, [B, keep, V]);
  } finally {
    if (!cache) for (const s of seqs) s.free();
  }
}
