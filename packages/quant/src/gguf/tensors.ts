/**
 * Our HF-named weights ⇄ llama.cpp's GGUF tensor names and layouts (gguf-py/gguf/constants.py,
 * tensor_mapping.py; convert_hf_to_gguf.py):
 *   gpt2: token_embd, position_embd, blk.N.{attn_norm, attn_qkv, attn_output, ffn_norm, ffn_up,
 *         ffn_down}.{weight,bias}, output_norm, output (untied only). HF Conv1D weights are
 *         [in, out]: GGUF wants [out, in] (ne = [in, out]), so they are transposed.
 *   llama: token_embd, blk.N.{attn_norm, attn_q, attn_k, attn_v, attn_output, ffn_norm, ffn_gate,
 *         ffn_up, ffn_down}.weight, output_norm, output (untied only). llama.cpp's llama applies
 *         RoPE to adjacent pairs (ROPE_TYPE_NORM) while HF/our model rotates halves, so q/k rows
 *         are permuted per head as convert_hf_to_gguf.py's LlamaModel.permute does.
 */
import type { ModelConfig } from '@llm/transformer';
import { QuantError } from '../errors.js';

export interface TensorMapping {
  /** GGUF tensor name. */
  gguf: string;
  /** Our HF name. */
  hf: string;
  /** Row-major shape in the GGUF (ne reversed). */
  shape: number[];
  /** How our [.., ..] data becomes the GGUF's. */
  transform: 'none' | 'transpose' | 'permute_q' | 'permute_k';
  /** MoE: our per-expert weights (each shape.slice(1)) stacked along the first GGUF dimension. */
  parts?: string[];
}

export function tensorMappings(cfg: ModelConfig): TensorMapping[] {
  if (cfg.nExperts > 0 && cfg.family === 'gpt2') throw new QuantError('UNSUPPORTED', 'export-gguf: GPT-2 mixture-of-experts is an llm-ts extension llama.cpp has no architecture for (llama MoE exports as Mixtral)');
  const { vocabSize: V, nEmbd: C, nHead: H, nKvHead: K, headDim: D, intermediateSize: I, blockSize: P, nLayer: L } = cfg;
  const out: TensorMapping[] = [];
  const add = (gguf: string, hf: string, shape: number[], transform: TensorMapping['transform'] = 'none') => out.push({ gguf, hf, shape, transform });
  if (cfg.family === 'gpt2') {
    add('token_embd.weight', 'transformer.wte.weight', [V, C]);
    add('position_embd.weight', 'transformer.wpe.weight', [P, C]);
    for (let l = 0; l < L; l++) {
      const p = `transformer.h.${l}`;
      const b = `blk.${l}`;
      const lin = (g: string, h: string, inF: number, outF: number) => {
        add(`${b}.${g}.weight`, `${p}.${h}.weight`, [outF, inF], 'transpose');
        add(`${b}.${g}.bias`, `${p}.${h}.bias`, [outF]);
      };
      add(`${b}.attn_norm.weight`, `${p}.ln_1.weight`, [C]);
      add(`${b}.attn_norm.bias`, `${p}.ln_1.bias`, [C]);
      lin('attn_qkv', 'attn.c_attn', C, 3 * C);
      lin('attn_output', 'attn.c_proj', C, C);
      add(`${b}.ffn_norm.weight`, `${p}.ln_2.weight`, [C]);
      add(`${b}.ffn_norm.bias`, `${p}.ln_2.bias`, [C]);
      lin('ffn_up', 'mlp.c_fc', C, I);
      lin('ffn_down', 'mlp.c_proj', I, C);
    }
    add('output_norm.weight', 'transformer.ln_f.weight', [C]);
    add('output_norm.bias', 'transformer.ln_f.bias', [C]);
  } else {
    if (cfg.bias) throw new QuantError('UNSUPPORTED', 'export-gguf: llama models with linear biases are not supported yet');
    add('token_embd.weight', 'model.embed_tokens.weight', [V, C]);
    for (let l = 0; l < L; l++) {
      const p = `model.layers.${l}`;
      const b = `blk.${l}`;
      add(`${b}.attn_norm.weight`, `${p}.input_layernorm.weight`, [C]);
      add(`${b}.attn_q.weight`, `${p}.self_attn.q_proj.weight`, [H * D, C], 'permute_q');
      add(`${b}.attn_k.weight`, `${p}.self_attn.k_proj.weight`, [K * D, C], 'permute_k');
      add(`${b}.attn_v.weight`, `${p}.self_attn.v_proj.weight`, [K * D, C]);
      add(`${b}.attn_output.weight`, `${p}.self_attn.o_proj.weight`, [C, H * D]);
      add(`${b}.ffn_norm.weight`, `${p}.post_attention_layernorm.weight`, [C]);
      if (cfg.nExperts > 0) {
        // Mixtral layout (llama.cpp LLM_TENSOR_FFN_GATE_INP / FFN_*_EXPS): router [E, C], experts stacked [E, ·, ·].
        const E = cfg.nExperts;
        const moe = `${p}.block_sparse_moe`;
        const experts = (w: string) => Array.from({ length: E }, (_, e) => `${moe}.experts.${e}.${w}.weight`);
        add(`${b}.ffn_gate_inp.weight`, `${moe}.gate.weight`, [E, C]);
        out.push({ gguf: `${b}.ffn_gate_exps.weight`, hf: experts('w1')[0]!, shape: [E, I, C], transform: 'none', parts: experts('w1') });
        out.push({ gguf: `${b}.ffn_up_exps.weight`, hf: experts('w3')[0]!, shape: [E, I, C], transform: 'none', parts: experts('w3') });
        out.push({ gguf: `${b}.ffn_down_exps.weight`, hf: experts('w2')[0]!, shape: [E, C, I], transform: 'none', parts: experts('w2') });
      } else {
        add(`${b}.ffn_gate.weight`, `${p}.mlp.gate_proj.weight`, [I, C]);
        add(`${b}.ffn_up.weight`, `${p}.mlp.up_proj.weight`, [I, C]);
        add(`${b}.ffn_down.weight`, `${p}.mlp.down_proj.weight`, [C, I]);
      }
    }
    add('output_norm.weight', 'model.norm.weight', [C]);
  }
  if (!cfg.tieWordEmbeddings) add('output.weight', 'lm_head.weight', [V, C]);
  return out;
}

function transpose(x: Float32Array, rows: number, cols: number): Float32Array {
  const y = new Float32Array(x.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) y[c * rows + r] = x[r * cols + c]!;
  return y;
}

/**
 * Rows of one head [h·D, (h+1)·D): HF's split-half order (i for the first half, D/2+i for the
 * second) → adjacent pairs (2i, 2i+1). `inverse` undoes it.
 */
function permuteRows(x: Float32Array, heads: number, D: number, cols: number, inverse: boolean): Float32Array {
  const y = new Float32Array(x.length);
  const half = D / 2;
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < half; i++) {
      for (let j = 0; j < 2; j++) {
        const ggufRow = h * D + 2 * i + j;
        const hfRow = h * D + j * half + i;
        const [src, dst] = inverse ? [ggufRow, hfRow] : [hfRow, ggufRow];
        y.set(x.subarray(src * cols, (src + 1) * cols), dst * cols);
      }
    }
  }
  return y;
}

/** Our weight's data → the GGUF tensor's row-major data. */
export function toGgufLayout(m: TensorMapping, cfg: ModelConfig, x: Float32Array): Float32Array {
  switch (m.transform) {
    case 'transpose': return transpose(x, m.shape[1]!, m.shape[0]!); // ours [in, out] → [out, in]
    case 'permute_q': return permuteRows(x, cfg.nHead, cfg.headDim, cfg.nEmbd, false);
    case 'permute_k': return permuteRows(x, cfg.nKvHead, cfg.headDim, cfg.nEmbd, false);
    default: return x;
  }
}

/** The GGUF tensor's row-major data → our weight's data. */
export function fromGgufLayout(m: TensorMapping, cfg: ModelConfig, x: Float32Array): Float32Array {
  switch (m.transform) {
    case 'transpose': return transpose(x, m.shape[0]!, m.shape[1]!);
    case 'permute_q': return permuteRows(x, cfg.nHead, cfg.headDim, cfg.nEmbd, true);
    case 'permute_k': return permuteRows(x, cfg.nKvHead, cfg.headDim, cfg.nEmbd, true);
    default: return x;
  }
}

/** Our weight's shape for a mapping. */
export function hfShape(m: TensorMapping): number[] {
  return m.transform === 'transpose' ? [m.shape[1]!, m.shape[0]!] : m.shape;
}
