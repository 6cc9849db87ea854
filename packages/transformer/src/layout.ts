/**
 * Every weight of a model, by HF name, with its shape, layout and init — the one table that model
 * construction, checkpoint loading/saving and parameter counting all read.
 *
 *   gpt2 (HF GPT2LMHeadModel):   transformer.wte.weight [V, C], transformer.wpe.weight [P, C],
 *     transformer.h.{l}.ln_1.{weight,bias}, .attn.c_attn [C, 3C], .attn.c_proj [C, C], .ln_2,
 *     .mlp.c_fc [C, I], .mlp.c_proj [I, C] (Conv1D [in, out]), transformer.ln_f, lm_head [V, C] if untied
 *   llama (HF LlamaForCausalLM): model.embed_tokens.weight [V, C], model.layers.{l}.input_layernorm,
 *     .self_attn.{q,k,v,o}_proj ([out, in]), .post_attention_layernorm, .mlp.{gate,up,down}_proj,
 *     model.norm, lm_head [V, C] if untied
 *   MoE: llama → HF Mixtral's .block_sparse_moe.gate [E, C] and .experts.{e}.w1/w3 [I, C], w2 [C, I];
 *        gpt2 → .mlp.gate [E, C] and .mlp.experts.{e}.c_fc / c_proj (an llm-ts extension).
 */
import type { ModelConfig } from './config.js';
import type { WeightLayout } from './modules/linear.js';
import { ffnPrefix, mlpNames } from './modules/mlp.js';

export interface ParamSpec {
  name: string;
  shape: number[];
  init: 'normal' | 'ones' | 'zeros';
  std: number;
}

export interface LinearSpec {
  /** Module name, e.g. "model.layers.0.self_attn.q_proj" (weights are `${name}.weight`, `${name}.bias`). */
  name: string;
  inFeatures: number;
  outFeatures: number;
  layout: WeightLayout;
  bias: boolean;
  /** Init std of the weight (residual projections are scaled by 1/√(2·nLayer)). */
  std: number;
}

export interface ModelLayout {
  /** Embeddings and norms. */
  params: ParamSpec[];
  /** Linear modules in forward order (lm_head last). */
  linears: LinearSpec[];
  embedName: string;
  tied: boolean;
}

/** Block name prefix of layer l. */
export const blockPrefix = (cfg: ModelConfig, l: number): string => (cfg.family === 'gpt2' ? `transformer.h.${l}` : `model.layers.${l}`);

export function modelLayout(cfg: ModelConfig): ModelLayout {
  const { family, vocabSize: V, nEmbd: C, nHead: H, nKvHead: K, headDim: D, intermediateSize: I, blockSize: P, nLayer: L, bias } = cfg;
  const std = cfg.initStd;
  const residStd = cfg.scaleResidualInit ? std / Math.sqrt(2 * L) : std;
  const gpt2 = family === 'gpt2';
  const layout: WeightLayout = gpt2 ? 'in_out' : 'out_in';
  const params: ParamSpec[] = [];
  const linears: LinearSpec[] = [];
  const norm = (name: string) => {
    params.push({ name: `${name}.weight`, shape: [C], init: 'ones', std: 0 });
    if (gpt2 && bias) params.push({ name: `${name}.bias`, shape: [C], init: 'zeros', std: 0 });
  };
  const lin = (name: string, inF: number, outF: number, s = std, l: WeightLayout = layout) =>
    linears.push({ name, inFeatures: inF, outFeatures: outF, layout: l, bias, std: s });
  const embedName = gpt2 ? 'transformer.wte.weight' : 'model.embed_tokens.weight';
  params.push({ name: embedName, shape: [V, C], init: 'normal', std });
  if (gpt2) params.push({ name: 'transformer.wpe.weight', shape: [P, C], init: 'normal', std });
  const ffn = (prefix: string) => {
    const n = mlpNames(family, prefix);
    if (n.gate) lin(n.gate, C, I);
    lin(n.up, C, I);
    lin(n.down, I, C, residStd);
  };
  for (let l = 0; l < L; l++) {
    const p = blockPrefix(cfg, l);
    norm(gpt2 ? `${p}.ln_1` : `${p}.input_layernorm`);
    if (gpt2) {
      lin(`${p}.attn.c_attn`, C, 3 * C);
      lin(`${p}.attn.c_proj`, C, C, residStd);
    } else {
      lin(`${p}.self_attn.q_proj`, C, H * D);
      lin(`${p}.self_attn.k_proj`, C, K * D);
      lin(`${p}.self_attn.v_proj`, C, K * D);
      lin(`${p}.self_attn.o_proj`, H * D, C, residStd);
    }
    norm(gpt2 ? `${p}.ln_2` : `${p}.post_attention_layernorm`);
    const f = ffnPrefix(family, p, cfg.nExperts > 0);
    if (cfg.nExperts > 0) {
      linears.push({ name: `${f}.gate`, inFeatures: C, outFeatures: cfg.nExperts, layout: 'out_in', bias: false, std });
      for (let e = 0; e < cfg.nExperts; e++) ffn(`${f}.experts.${e}`);
    } else {
      ffn(f);
    }
  }
  norm(gpt2 ? 'transformer.ln_f' : 'model.norm');
  linears.push({ name: 'lm_head', inFeatures: C, outFeatures: V, layout: 'out_in', bias: false, std });
  return { params, linears, embedName, tied: cfg.tieWordEmbeddings };
}

/** Every tensor name → shape a checkpoint of this config holds (lm_head.weight only when untied). */
export function checkpointShapes(cfg: ModelConfig): Map<string, number[]> {
  const { params, linears, tied } = modelLayout(cfg);
  const out = new Map<string, number[]>();
  for (const p of params) out.set(p.name, p.shape);
  for (const l of linears) {
    if (l.name === 'lm_head' && tied) continue;
    out.set(`${l.name}.weight`, l.layout === 'in_out' ? [l.inFeatures, l.outFeatures] : [l.outFeatures, l.inFeatures]);
    if (l.bias) out.set(`${l.name}.bias`, [l.outFeatures]);
  }
  return out;
}

/**
 * GPT-2 without biases (nanoGPT's bias=False) has no HF equivalent; save() writes these zero
 * biases so HF's GPT2LMHeadModel loads the file and computes the same function.
 */
export function hfZeroBiases(cfg: ModelConfig): Map<string, number[]> {
  if (cfg.family !== 'gpt2' || cfg.bias) return new Map();
  const withBias = checkpointShapes({ ...cfg, bias: true });
  const own = checkpointShapes(cfg);
  return new Map([...withBias].filter(([n]) => !own.has(n)));
}
