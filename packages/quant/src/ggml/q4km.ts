/**
 * llama.cpp's Q4_K_M type mix: which ggml type `llama-quantize … Q4_K_M` gives each tensor
 * (src/llama-quant.cpp: tensor_allows_quantization, llama_tensor_get_type_impl,
 * tensor_type_fallback; the default type of LLAMA_FTYPE_MOSTLY_Q4_K_M is Q4_K).
 *
 *   - not quantized (kept in the source type): tensors with fewer than 2 dims, names not ending
 *     in "weight", "*_norm.weight", "position_embd.weight", "token_types.weight", "ffn_gate_inp.weight";
 *   - "output.weight", and "token_embd.weight" when there is no output.weight (tied embeddings):
 *     Q6_K, or Q8_0 when the row length is not a multiple of 256;
 *   - attn_v / attn_qkv / attn_kv_b (one per layer, counted in layer order): Q6_K when
 *     useMoreBits(i, n), else Q4_K; Q8_0 for 8-expert models;
 *   - ffn_down (layer i of n): Q6_K when useMoreBits(i, n), else Q4_K;
 *   - everything else (attn_q/k/output, ffn_up/gate, untied token_embd): Q4_K;
 *   - then the shape fallback: a row length not a multiple of the block size sends Q4_K → Q5_0 and
 *     Q6_K → Q8_0, and a row length not a multiple of 32 to F16.
 *
 * useMoreBits(i, n) = i < n/8 || i >= 7n/8 || (i - n/8) % 3 == 2 (integer division, C `%`).
 *
 *   q4kmTypeFor('blk.0.attn_v.weight', 0, 32, { ncols: 4096 })    // → GGML_TYPE.Q6_K (i < 32/8)
 *   q4kmTypeFor('blk.4.attn_v.weight', 4, 32, { ncols: 4096 })    // → GGML_TYPE.Q4_K
 *   q4kmTypeFor('blk.6.ffn_down.weight', 6, 32, { ncols: 11008 }) // → GGML_TYPE.Q6_K ((6 - 4) % 3 = 2)
 *   q4kmTypeFor('blk.0.attn_q.weight', 0, 5, { ncols: 64 })       // → GGML_TYPE.Q5_0 (64 % 256 ≠ 0)
 *   q4kmTypeFor('output_norm.weight', -1, 32, { nDims: 1 })       // → GGML_TYPE.F32 (kept)
 *
 * Not modelled: Falcon's special cases, imatrix, user overrides (--output-tensor-type,
 * --token-embedding-type, --tensor-type, --pure), MoE expert tensors' layer parsing (pass the
 * layer index parsed from the name, as llama.cpp does when n_expert > 1).
 */
import { type GgmlType, GGML_TYPE, GGML_TYPES, QK_K } from './types.js';

export interface Q4kmOptions {
  /** Row length (ggml ne[0], the innermost dimension). Drives the shape fallback; omit to skip it. */
  ncols?: number;
  /** Number of dimensions; 1-D tensors are never quantized. Default 2. */
  nDims?: number;
  /** True when the model has no separate output.weight (token_embd doubles as the LM head). */
  tiedEmbeddings?: boolean;
  /** Experts per MoE layer (hparams.n_expert); 8 sends attn_v to Q8_0. Default 0. */
  nExpert?: number;
  /** Type to keep for tensors that are not quantized. Default F32. */
  sourceType?: GgmlType;
}

/** llama.cpp's `use_more_bits(i_layer, n_layers)`. */
export function useMoreBits(iLayer: number, nLayers: number): boolean {
  const n8 = Math.trunc(nLayers / 8);
  return iLayer < n8 || iLayer >= Math.trunc((7 * nLayers) / 8) || (iLayer - n8) % 3 === 2;
}

function allowsQuantization(name: string, nDims: number): boolean {
  if (nDims < 2) return false;
  if (!name.endsWith('weight')) return false;
  const never = ['_norm.weight', 'ffn_gate_inp.weight', 'altup', 'laurel', 'per_layer_model_proj', 'ssm_conv1d', 'attn_rel_b.weight', '.position_embd'];
  if (never.some((s) => name.includes(s))) return false;
  return name !== 'position_embd.weight' && name !== 'token_types.weight';
}

/**
 * The ggml type llama-quantize's Q4_K_M gives tensor `tensorName` (GGUF name, e.g.
 * "blk.3.ffn_down.weight") in layer `layerIndex` (ignored outside blocks) of `nLayers`.
 */
export function q4kmTypeFor(tensorName: string, layerIndex: number, nLayers: number, opts: Q4kmOptions = {}): GgmlType {
  const { ncols, nDims = 2, tiedEmbeddings = false, nExpert = 0, sourceType = GGML_TYPE.F32 } = opts;
  if (!allowsQuantization(tensorName, nDims)) return sourceType;
  const isOutput = tensorName === 'output.weight';
  const isTokenEmbd = tensorName === 'token_embd.weight' || tensorName === 'per_layer_token_embd.weight';
  let t: GgmlType = GGML_TYPE.Q4_K;
  if (isOutput || (tiedEmbeddings && isTokenEmbd)) {
    t = ncols !== undefined && ncols % QK_K !== 0 ? GGML_TYPE.Q8_0 : GGML_TYPE.Q6_K;
  } else if (isTokenEmbd) {
    t = GGML_TYPE.Q4_K;
  } else if (tensorName.includes('attn_qkv.weight') || tensorName.includes('attn_kv_b.weight') || tensorName.includes('attn_v.weight')) {
    if (useMoreBits(layerIndex, nLayers)) t = GGML_TYPE.Q6_K;
    if (nExpert === 8) t = GGML_TYPE.Q8_0;
  } else if (tensorName.includes('ffn_down')) {
    if (useMoreBits(layerIndex, nLayers)) t = GGML_TYPE.Q6_K;
  }
  if (ncols !== undefined && ncols % GGML_TYPES[t].blockSize !== 0) {
    t = t === GGML_TYPE.Q4_K ? GGML_TYPE.Q5_0 : t === GGML_TYPE.Q6_K ? GGML_TYPE.Q8_0 : t;
    if (ncols % GGML_TYPES[t].blockSize !== 0) t = GGML_TYPE.F16;
  }
  return t;
}
