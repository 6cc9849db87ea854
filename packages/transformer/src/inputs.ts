/**
 * Validation of forward() inputs, with errors a caller can act on.
 *
 *   readIds(tf.tensor2d([[1, 2]], [1, 2], 'int32'));       // { B: 1, T: 2 }
 *   readMask([[0, 1]], 1, 2, null);                         // Uint8Array [0, 1]
 */
import { tf } from '@llm/tensor-gpu';
import { TransformerError } from './errors.js';
import type { KVCache } from './cache.js';

const shapeError = (msg: string) => new TransformerError('SHAPE_MISMATCH', `forward: ${msg}`);

/**
 * ids must be int32 [B, T] (T ≥ 1). Only the shape and dtype are checked: reading the values to
 * range-check them would be a device→host copy on every forward (every decode step). Ids are
 * range-checked where they are host arrays (@llm/sample checks each prompt once; sampled ids are
 * in range by construction) and by the embedding lookup below.
 */
export function readIds(ids: tf.Tensor): { B: number; T: number } {
  if (!(ids instanceof tf.Tensor)) throw shapeError('ids must be a tf.Tensor [B, T] of int32 token ids.');
  if (ids.rank !== 2 || ids.shape[0] === 0 || ids.shape[1] === 0) throw shapeError(`ids must be [B, T] with B, T ≥ 1, got [${ids.shape}].`);
  if (ids.dtype !== 'int32') throw shapeError(`ids must be int32, got ${ids.dtype} (use tf.tensor2d(rows, shape, 'int32')).`);
  const [B, T] = ids.shape as [number, number];
  return { B, T };
}

/**
 * The embedding rows of ids [N] from table [V, C] → [N, C], without a host read of the ids.
 * Backends whose gather checks its indices (cpu, wasm, tfjs-node on the CPU) throw for an id outside
 * [0, V); that error becomes TransformerError INVALID_ARGUMENT naming the id. A GPU gather does not
 * check (out-of-range rows read as zeros there), so callers holding host ids should check them
 * before upload, as @llm/sample does for prompts.
 */
export function embedIds(table: tf.Tensor, ids: tf.Tensor, V: number): tf.Tensor {
  try {
    return tf.gather(table, ids); // [N, C]
  } catch (e) {
    const msg = (e as Error).message ?? '';
    const hit = /index value (-?\d+)|indices\[[^\]]*\] = (-?\d+)/.exec(msg);
    if (!hit) throw e;
    throw new TransformerError('INVALID_ARGUMENT', `forward: token id ${hit[1] ?? hit[2]} is outside the vocabulary [0, ${V}) (the backend: "${msg}"). Check ids against config.vocabSize before building the tensor.`, { cause: e });
  }
}

/**
 * The new tokens' mask [B·T] (1 real, 0 pad) from a [B, T] mask or a [B, S + T] one covering
 * the cached positions too (whose first S columns must agree with the cache).
 */
export function readMask(mask: tf.Tensor | ArrayLike<ArrayLike<number>> | undefined, B: number, T: number, cache: KVCache | null): Uint8Array {
  const out = new Uint8Array(B * T);
  if (mask === undefined) return out.fill(1);
  let rows: number[][];
  if (mask instanceof tf.Tensor) {
    if (mask.rank !== 2) throw shapeError(`attentionMask must be [B, T] or [B, S + T], got [${mask.shape}].`);
    rows = mask.arraySync() as number[][];
  } else {
    rows = Array.from(mask as ArrayLike<ArrayLike<number>>, (r) => Array.from(r));
  }
  const S = cache?.length ?? 0;
  const W = rows[0]?.length ?? 0;
  if (rows.length !== B || rows.some((r) => r.length !== W) || (W !== T && W !== S + T)) {
    throw shapeError(`attentionMask must be [${B}, ${T}] (new tokens)${S ? ` or [${B}, ${S + T}] (cached + new)` : ''}, got [${rows.length}, ${W}].`);
  }
  const stored = W === S + T && S > 0 ? cache!.storedMask() : null;
  for (let b = 0; b < B; b++) {
    const r = rows[b]!;
    for (let j = 0; j < W; j++) {
      const m = r[j];
      if (m !== 0 && m !== 1) throw new TransformerError('INVALID_ARGUMENT', `forward: attentionMask values must be 0 or 1, got ${m} at [${b}, ${j}].`);
      if (j < W - T) {
        if (stored && stored[b]![j] !== m) throw new TransformerError('INVALID_ARGUMENT', `forward: attentionMask[${b}, ${j}] = ${m} disagrees with the cache's stored mask; pass only the new tokens' mask [B, T].`);
      } else {
        out[b * T + j - (W - T)] = m;
      }
    }
  }
  return out;
}
