/**
 * ModelConfig ⇄ HF `config.json` (GPT2Config, LlamaConfig, MixtralConfig).
 *
 *   toHfConfig(resolveConfig({ family: 'gpt2', vocabSize: 65, nLayer: 4, nHead: 4, nEmbd: 128, blockSize: 64 }))
 *   // { model_type: 'gpt2', architectures: ['GPT2LMHeadModel'], n_embd: 128, n_layer: 4, n_head: 4, n_positions: 64, … }
 *   fromHfConfig(JSON.parse(readFileSync('config.json', 'utf8')));  // → ModelConfig
 *
 * HF fields we cannot honour (rope_scaling, sliding windows, other activations…) are refused with
 * UNSUPPORTED_MODEL_TYPE naming the field, never silently ignored. Settings HF has no field for
 * (GPT-2 without biases, GPT-2 MoE, the init seed, Llama residual dropout) travel in an `llm_ts`
 * object HF keeps as an extra attribute.
 */
import { resolveConfig, type ModelConfig, type ModelConfigInput } from './config.js';
import { TransformerError, showValue } from './errors.js';
import type { LimitOptions } from './limits.js';

type Json = Record<string, unknown>;

/** HF config.json for a model (architecture = the LM-head class unless given). */
export function toHfConfig(cfg: ModelConfig, architecture?: string): Json {
  const ext: Json = { seed: cfg.seed, ...(cfg.scaleResidualInit ? {} : { scale_residual_init: false }) };
  const ids = { bos_token_id: cfg.bosTokenId, eos_token_id: cfg.eosTokenId, ...(cfg.padTokenId !== null ? { pad_token_id: cfg.padTokenId } : {}) };
  if (cfg.family === 'gpt2') {
    if (!cfg.bias) ext.bias = false;
    if (cfg.nExperts > 0) Object.assign(ext, { n_experts: cfg.nExperts, n_experts_per_tok: cfg.nExpertsPerTok, router_aux_loss_coef: cfg.routerAuxLossCoef });
    return {
      model_type: 'gpt2',
      architectures: [architecture ?? 'GPT2LMHeadModel'],
      vocab_size: cfg.vocabSize,
      n_positions: cfg.blockSize,
      n_embd: cfg.nEmbd,
      n_layer: cfg.nLayer,
      n_head: cfg.nHead,
      n_inner: cfg.intermediateSize,
      activation_function: cfg.activation === 'gelu' ? 'gelu' : 'gelu_new',
      layer_norm_epsilon: cfg.normEps,
      tie_word_embeddings: cfg.tieWordEmbeddings,
      resid_pdrop: cfg.dropout,
      embd_pdrop: cfg.dropout,
      attn_pdrop: cfg.attnDropout,
      initializer_range: cfg.initStd,
      scale_attn_weights: true,
      scale_attn_by_inverse_layer_idx: false,
      reorder_and_upcast_attn: false,
      ...ids,
      torch_dtype: 'float32',
      llm_ts: ext,
    };
  }
  if (cfg.dropout > 0) ext.dropout = cfg.dropout;
  const moe = cfg.nExperts > 0;
  return {
    model_type: moe ? 'mixtral' : 'llama',
    architectures: [architecture ?? (moe ? 'MixtralForCausalLM' : 'LlamaForCausalLM')],
    vocab_size: cfg.vocabSize,
    hidden_size: cfg.nEmbd,
    intermediate_size: cfg.intermediateSize,
    num_hidden_layers: cfg.nLayer,
    num_attention_heads: cfg.nHead,
    num_key_value_heads: cfg.nKvHead,
    head_dim: cfg.headDim,
    max_position_embeddings: cfg.blockSize,
    rms_norm_eps: cfg.normEps,
    rope_theta: cfg.ropeTheta,
    rope_scaling: null,
    hidden_act: 'silu',
    tie_word_embeddings: cfg.tieWordEmbeddings,
    attention_dropout: cfg.attnDropout,
    initializer_range: cfg.initStd,
    ...(moe
      ? { num_local_experts: cfg.nExperts, num_experts_per_tok: cfg.nExpertsPerTok, router_aux_loss_coef: cfg.routerAuxLossCoef, output_router_logits: false, router_jitter_noise: 0, sliding_window: null }
      : { attention_bias: cfg.bias, mlp_bias: cfg.bias, pretraining_tp: 1 }),
    ...ids,
    torch_dtype: 'float32',
    llm_ts: ext,
  };
}

/**
 * Parse an HF config.json object into a validated ModelConfig, its sizes checked against
 * `opts.limits` (MODEL_LIMITS by default) before anything is allocated.
 */
export function fromHfConfig(json: unknown, opts: LimitOptions = {}): ModelConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw invalid('config.json must hold a JSON object');
  const j = json as Json;
  const type = j.model_type;
  const ext = (j.llm_ts ?? {}) as Json;
  if (typeof ext !== 'object' || ext === null || Array.isArray(ext)) throw invalid('"llm_ts" must be an object');
  const seed = { ...(ext.seed === undefined ? {} : { seed: ext.seed as number }), ...(ext.scale_residual_init === false ? { scaleResidualInit: false } : {}) };
  const ids = {
    bosTokenId: tokenId(j, 'bos_token_id'),
    eosTokenId: tokenIds(j, 'eos_token_id'),
    padTokenId: tokenId(j, 'pad_token_id'),
  };
  let input: ModelConfigInput;
  if (type === 'gpt2') {
    const act = j.activation_function ?? 'gelu_new';
    if (!['gelu_new', 'gelu_pytorch_tanh', 'gelu'].includes(act as string)) unsupported('activation_function', act, 'gelu_new, gelu_pytorch_tanh or gelu');
    if (j.scale_attn_by_inverse_layer_idx === true) unsupported('scale_attn_by_inverse_layer_idx', true, 'false');
    if (j.scale_attn_weights === false) unsupported('scale_attn_weights', false, 'true');
    if (j.add_cross_attention === true) unsupported('add_cross_attention', true, 'false');
    const nEmbd = need(j, 'n_embd');
    input = {
      family: 'gpt2',
      vocabSize: need(j, 'vocab_size'),
      nLayer: need(j, 'n_layer'),
      nHead: need(j, 'n_head'),
      nEmbd,
      blockSize: need(j, 'n_positions'),
      intermediateSize: j.n_inner === null || j.n_inner === undefined ? 4 * nEmbd : need(j, 'n_inner'),
      activation: act === 'gelu' ? 'gelu' : 'gelu_tanh',
      normEps: opt(j, 'layer_norm_epsilon', 1e-5),
      tieWordEmbeddings: optBool(j, 'tie_word_embeddings', true),
      bias: ext.bias === undefined ? true : (ext.bias as boolean),
      dropout: opt(j, 'resid_pdrop', 0.1),
      attnDropout: opt(j, 'attn_pdrop', 0.1),
      initStd: opt(j, 'initializer_range', 0.02),
      ...(ext.n_experts !== undefined ? { nExperts: ext.n_experts as number, nExpertsPerTok: ext.n_experts_per_tok as number, routerAuxLossCoef: ext.router_aux_loss_coef as number } : {}),
      ...seed,
      ...ids,
    };
    if (opt(j, 'embd_pdrop', input.dropout!) !== input.dropout) unsupported('embd_pdrop', j.embd_pdrop, `the value of resid_pdrop (${input.dropout})`);
  } else if (type === 'llama' || type === 'mixtral') {
    const moe = type === 'mixtral';
    if (j.rope_scaling !== undefined && j.rope_scaling !== null) unsupported('rope_scaling', j.rope_scaling, 'null');
    if ((j.hidden_act ?? 'silu') !== 'silu') unsupported('hidden_act', j.hidden_act, 'silu');
    if (moe && j.sliding_window !== undefined && j.sliding_window !== null && (j.sliding_window as number) < need(j, 'max_position_embeddings')) {
      unsupported('sliding_window', j.sliding_window, `null or ≥ max_position_embeddings`);
    }
    if (moe && typeof j.router_jitter_noise === 'number' && j.router_jitter_noise > 0) unsupported('router_jitter_noise', j.router_jitter_noise, '0');
    const attnBias = optBool(j, 'attention_bias', false);
    const mlpBias = optBool(j, 'mlp_bias', attnBias);
    if (attnBias !== mlpBias) unsupported('attention_bias / mlp_bias', `${attnBias} / ${mlpBias}`, 'equal values');
    const nEmbd = need(j, 'hidden_size');
    const nHead = need(j, 'num_attention_heads');
    input = {
      family: 'llama',
      vocabSize: need(j, 'vocab_size'),
      nLayer: need(j, 'num_hidden_layers'),
      nHead,
      nKvHead: j.num_key_value_heads === undefined || j.num_key_value_heads === null ? nHead : need(j, 'num_key_value_heads'),
      nEmbd,
      ...(j.head_dim !== undefined && j.head_dim !== null ? { headDim: need(j, 'head_dim') } : {}),
      intermediateSize: need(j, 'intermediate_size'),
      blockSize: opt(j, 'max_position_embeddings', 2048),
      normEps: opt(j, 'rms_norm_eps', moe ? 1e-5 : 1e-6),
      ropeTheta: opt(j, 'rope_theta', moe ? 1e6 : 10000),
      bias: attnBias,
      tieWordEmbeddings: optBool(j, 'tie_word_embeddings', false),
      attnDropout: opt(j, 'attention_dropout', 0),
      dropout: typeof ext.dropout === 'number' ? ext.dropout : 0,
      initStd: opt(j, 'initializer_range', 0.02),
      ...(moe ? { nExperts: opt(j, 'num_local_experts', 8), nExpertsPerTok: opt(j, 'num_experts_per_tok', 2), routerAuxLossCoef: opt(j, 'router_aux_loss_coef', 0.001) } : {}),
      ...seed,
      ...ids,
    };
  } else {
    throw new TransformerError('UNSUPPORTED_MODEL_TYPE', `config.json: model_type ${showValue(type)} is not supported; llm-ts reads "gpt2", "llama" and "mixtral".`);
  }
  try {
    return resolveConfig(input, opts);
  } catch (e) {
    if (e instanceof TransformerError) throw new TransformerError(e.code === 'LIMIT_EXCEEDED' ? e.code : 'CONFIG_INVALID', `config.json (${String(type)}): ${e.message}`, { cause: e });
    throw e;
  }
}

const invalid = (msg: string) => new TransformerError('CONFIG_INVALID', `config.json: ${msg}.`);

function unsupported(field: string, value: unknown, want: string): never {
  throw new TransformerError('UNSUPPORTED_MODEL_TYPE', `config.json: "${field}" = ${showValue(value)} is not supported (llm-ts needs ${want}).`);
}

function need(j: Json, key: string): number {
  const v = j[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw invalid(`"${key}" must be a positive integer, got ${showValue(v)}`);
  return v;
}

function opt(j: Json, key: string, fallback: number): number {
  const v = j[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw invalid(`"${key}" must be a finite number, got ${showValue(v)}`);
  return v;
}

function optBool(j: Json, key: string, fallback: boolean): boolean {
  const v = j[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'boolean') throw invalid(`"${key}" must be true or false, got ${showValue(v)}`);
  return v;
}

/** bos / pad ids may be a number, null, or (HF) a list — we keep the first. */
function tokenId(j: Json, key: string): number | null {
  const ids = tokenIds(j, key);
  return Array.isArray(ids) ? ids[0]! : (ids as number | null);
}

/** eos_token_id: a number, null, or (HF) a list of ids, every one of which ends a sequence — kept whole. */
function tokenIds(j: Json, key: string): number | number[] | null {
  const v = j[key];
  if (v === undefined || v === null) return null;
  const ids = Array.isArray(v) ? v : [v];
  if (ids.length === 0 || ids.some((id) => typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0)) throw invalid(`"${key}" must be a token id or a non-empty list of them, got ${showValue(v)}`);
  return Array.isArray(v) ? (ids as number[]) : (v as number);
}
