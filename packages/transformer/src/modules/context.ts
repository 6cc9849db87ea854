/**
 * What one forward pass hands every block: the model's weights by HF name, the batch geometry,
 * per-row RoPE tables, the padding mask, the KV cache and the dropout switch.
 *
 * Dimension legend: B batch, T new tokens, N = B·T, C width, H heads, K kv heads, D head dim,
 * Tk keys (cached + new), E experts.
 */
import type { tf } from '@llm/tensor-gpu';
import type { ModelConfig } from '../config.js';
import type { KVCache } from '../cache.js';
import type { PastKeyValues } from '../prefix.js';
import type { LinearModule } from './linear.js';

/** Lookup of a model's modules and weights by HF-style name. */
export interface Parts {
  readonly config: ModelConfig;
  linear(name: string): LinearModule;
  param(name: string): tf.Variable;
}

/** Per-layer routing record an MoE layer leaves for the load-balancing loss. */
export interface RouterRecord {
  /** Softmax router probabilities of the new tokens [N, E] (differentiable). */
  probs: tf.Tensor;
  /** How many times each expert was picked, counting real tokens only (host, length E). */
  counts: Float64Array;
}

export interface ForwardContext {
  B: number;
  T: number;
  training: boolean;
  /** Inverted dropout with rate p when training (identity otherwise). */
  dropout(x: tf.Tensor, p: number): tf.Tensor;
  /** RoPE tables for the new tokens, [B, 1, T, D/2] each (llama only). */
  rope: { cos: tf.Tensor; sin: tf.Tensor } | null;
  /** [B, Tk]: 1 real key, 0 padding; null when no key is padding. */
  keyMask: tf.Tensor | null;
  /** Host copy of the new tokens' mask [N] (1 real, 0 pad). */
  tokenMask: Uint8Array;
  /** Real tokens among the new ones. */
  realTokens: number;
  cache: KVCache | null;
  /** Per-layer keys/values [1|B, K, P, D] in front of this forward's (prefix tuning); null when none. */
  past: PastKeyValues | null;
  /** MoE layers append here (empty for dense models). */
  router: RouterRecord[];
}
