/**
 * What the packer needs from any model, whatever it came from (a TransformerLM, a GGUF file):
 * the resolved config and every weight as host arrays, linears as ggml rows [out, in].
 *
 *   { fmt: 8, rows: 64, cols: 64, data: Uint8Array(64 · 68) }   // a Q8_0 [64, 64] linear
 */
import type { ModelConfig } from '@llm/transformer';

/** A linear's weight as rows of ggml blocks (format = ggml type id), y = W·x (+ bias). */
export interface LinearSource {
  fmt: number;
  rows: number;
  cols: number;
  /** rows × rowBytes(fmt, cols) bytes. */
  data: Uint8Array;
  bias: Float32Array | null;
}

export interface NormSource {
  weight: Float32Array;
  bias: Float32Array | null;
}

export interface MlpSource {
  /** llama's gate_proj / Mixtral's w1; null for gpt2. */
  gate: LinearSource | null;
  up: LinearSource;
  down: LinearSource;
}

export interface LayerSource {
  ln1: NormSource;
  q: LinearSource;
  k: LinearSource;
  v: LinearSource;
  o: LinearSource;
  ln2: NormSource;
  /** Dense FFN, or null for MoE. */
  mlp: MlpSource | null;
  /** MoE router f32 [E, C] and the experts (empty for dense). */
  router: Float32Array | null;
  experts: MlpSource[];
}

export interface ModelSource {
  config: ModelConfig;
  /** f32 [V, C]. */
  embed: Float32Array;
  /** f32 [P, C] (gpt2) or null. */
  positions: Float32Array | null;
  layers: LayerSource[];
  lnf: NormSource;
  /** null: tied to the embedding. */
  head: LinearSource | null;
}
