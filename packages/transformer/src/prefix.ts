/**
 * Positions in front of a sequence that are not token ids — what prompt tuning and prefix tuning
 * (@llm/peft) feed the model, as HF does through `inputs_embeds` and `past_key_values`:
 *
 *   - `prefixEmbeds` [1|B, P, C]: P input vectors run through every layer before the ids' embeddings
 *     (prompt tuning's virtual tokens). They take positions 0..P−1; the ids follow at P.
 *   - `past` per layer keys/values [1|B, K, P, D]: P attention keys/values every query can see, used
 *     as given (no RoPE applied to them, as HF treats past_key_values); the ids start at position P.
 *
 * Either one starts a sequence: without a cache, or with an empty cache (which then stores the P
 * positions, so decoding continues after them). Logits and hidden states cover the ids only.
 *
 *   model.forward(ids, { prefixEmbeds: prompt.expandDims(0) });    // prompt [P, C] → logits [B, T, V]
 *
 * Dimension legend: B batch, P prefix positions, C width, K kv heads, D head dim, L layers.
 */
import { tf } from '@llm/tensor-gpu';
import type { ModelConfig } from './config.js';
import type { KVCache } from './cache.js';
import { TransformerError } from './errors.js';

export interface PastKeyValues {
  /** Per layer [1|B, K, P, D]. */
  keys: readonly tf.Tensor[];
  /** Per layer [1|B, K, P, D]. */
  values: readonly tf.Tensor[];
}

export interface PrefixOptions {
  /** [1|B, P, C] vectors in front of the ids' embeddings (prompt tuning). */
  prefixEmbeds?: tf.Tensor;
  /** Per-layer keys/values in front of the ids' (prefix tuning). */
  past?: PastKeyValues;
}

/** What run() needs to know about a prefix: its length and which kind. */
export interface Prefix {
  P: number;
  kind: 'none' | 'embeds' | 'past';
}

const bad = (msg: string) => new TransformerError('SHAPE_MISMATCH', `forward: ${msg}`);

/** Check a prefix against the batch, the model and the cache; P = 0 when none is given. */
export function readPrefix(opts: PrefixOptions, B: number, cfg: ModelConfig, cache: KVCache | null): Prefix {
  const { prefixEmbeds: e, past } = opts;
  if (!e && !past) return { P: 0, kind: 'none' };
  if (e && past) throw new TransformerError('INVALID_ARGUMENT', 'forward: give prefixEmbeds or past, not both.');
  if (cache && cache.length > 0) throw new TransformerError('INVALID_ARGUMENT', `forward: a prefix starts a sequence, but the cache already holds ${cache.length} positions; pass it with the first forward only.`);
  const rows = (t: tf.Tensor) => t.shape[0] === 1 || t.shape[0] === B;
  if (e) {
    if (!(e instanceof tf.Tensor) || e.rank !== 3 || !rows(e) || e.shape[2] !== cfg.nEmbd || e.shape[1]! < 1) throw bad(`prefixEmbeds must be [1 or ${B}, P ≥ 1, ${cfg.nEmbd}], got [${e instanceof tf.Tensor ? e.shape : typeof e}].`);
    if (e.dtype !== 'float32') throw bad(`prefixEmbeds must be float32, got ${e.dtype}.`);
    return { P: e.shape[1]!, kind: 'embeds' };
  }
  const { keys, values } = past!;
  if (keys?.length !== cfg.nLayer || values?.length !== cfg.nLayer) throw bad(`past must hold keys and values for each of the ${cfg.nLayer} layers, got ${keys?.length ?? 0} and ${values?.length ?? 0}.`);
  const P = keys[0]!.shape[2] ?? 0;
  const want = (t: tf.Tensor) => t.rank === 4 && rows(t) && t.shape[1] === cfg.nKvHead && t.shape[2] === P && t.shape[3] === cfg.headDim && t.dtype === 'float32';
  for (let l = 0; l < cfg.nLayer; l++) {
    for (const [what, t] of [['keys', keys[l]!], ['values', values[l]!]] as const) {
      if (!(t instanceof tf.Tensor) || !want(t) || P < 1) throw bad(`past.${what}[${l}] must be float32 [1 or ${B}, ${cfg.nKvHead}, P ≥ 1 (the same for every layer), ${cfg.headDim}], got [${t instanceof tf.Tensor ? t.shape : typeof t}].`);
    }
  }
  return { P, kind: 'past' };
}

/** [B·(P + T)] mask with P ones in front of each row of the ids' mask [B·T]. */
export function withPrefixMask(tokenMask: Uint8Array, B: number, T: number, P: number): Uint8Array {
  if (P === 0) return tokenMask;
  const out = new Uint8Array(B * (P + T));
  for (let b = 0; b < B; b++) {
    out.fill(1, b * (P + T), b * (P + T) + P);
    out.set(tokenMask.subarray(b * T, (b + 1) * T), b * (P + T) + P);
  }
  return out;
}

/** The last T of each row's P + T entries. */
export function dropPrefix<A extends Uint8Array | Int32Array>(a: A, B: number, T: number, P: number): A {
  if (P === 0) return a;
  const out = new (a.constructor as new (n: number) => A)(B * T);
  for (let b = 0; b < B; b++) out.set(a.subarray(b * (P + T) + P, (b + 1) * (P + T)), b * T);
  return out;
}

/** t [1|B, …] as [B, …] (a broadcast keeps the gradient flowing to a shared prefix). */
export function broadcastRows(t: tf.Tensor, B: number): tf.Tensor {
  return t.shape[0] === B ? t : tf.broadcastTo(t, [B, ...t.shape.slice(1)]);
}
