/**
 * The one config object a model is built from (nanoGPT style). `resolveConfig` fills the family
 * defaults, rejects unknown keys and checks every constraint, so a bad config fails before any
 * weight is allocated.
 *
 *   const cfg = resolveConfig({ family: 'gpt2', vocabSize: 65, nLayer: 4, nHead: 4, nEmbd: 128, blockSize: 64 });
 *   cfg.intermediateSize; // 512 (4 · nEmbd), cfg.tieWordEmbeddings: true, cfg.bias: true
 *
 *   resolveConfig({ family: 'llama', vocabSize: 512, nLayer: 5, nHead: 8, nKvHead: 4, nEmbd: 64,
 *                   intermediateSize: 172, blockSize: 512 }); // GQA, RoPE, RMSNorm, SwiGLU
 */
import { TransformerError, showValue } from './errors.js';
import { DIMENSION_LIMITS, checkModelSize, overLimit, resolveLimits, type LimitOptions } from './limits.js';

export type ModelFamily = 'gpt2' | 'llama';
/** gelu_tanh = GPT-2's "gelu_new"; gelu = exact erf; silu = Llama's gated SwiGLU MLP. */
export type Activation = 'gelu_tanh' | 'gelu' | 'silu';

export interface ModelConfig {
  /** gpt2: learned positions, LayerNorm, GELU MLP, fused qkv with biases. llama: RoPE, RMSNorm, SwiGLU, GQA. */
  family: ModelFamily;
  vocabSize: number;
  nLayer: number;
  /** Query heads H. */
  nHead: number;
  /** Key/value heads K (H % K = 0; K = 1 is multi-query). gpt2 requires K = H. Default H. */
  nKvHead: number;
  /** Model width C. */
  nEmbd: number;
  /** Head dim D. Default C / H. */
  headDim: number;
  /** MLP hidden width. Default 4C (gpt2) or HF's Llama rule 256·⌈(8C/3)/256⌉ — set it for small models. */
  intermediateSize: number;
  /** Context length: GPT-2's n_positions, Llama's max_position_embeddings. */
  blockSize: number;
  /** Default gelu_tanh (gpt2), silu (llama). */
  activation: Activation;
  /** LayerNorm / RMSNorm epsilon. Default 1e-5 (gpt2), 1e-6 (llama). */
  normEps: number;
  /** RoPE base (llama). Default 10000. */
  ropeTheta: number;
  /** Biases on linear layers (and LayerNorm). Default true (gpt2), false (llama). */
  bias: boolean;
  /** Output head shares the token embedding. Default true (gpt2), false (llama). */
  tieWordEmbeddings: boolean;
  /** Dropout on embeddings and residual branches while training. Default 0. */
  dropout: number;
  /** Dropout on attention probabilities while training. Default = dropout. */
  attnDropout: number;
  /** Mixture-of-experts FFN: number of experts E (0 = dense MLP). */
  nExperts: number;
  /** Experts each token is routed to (top-k). Default 2. */
  nExpertsPerTok: number;
  /** Weight of the load-balancing loss the caller adds to the LM loss (HF Mixtral's router_aux_loss_coef). Default 0.01. */
  routerAuxLossCoef: number;
  /** Std of the normal init (residual projections get std / √(2·nLayer) when scaleResidualInit). Default 0.02. */
  initStd: number;
  /** GPT-2's scaling of the residual projections' init by 1/√(2·nLayer). Default true. */
  scaleResidualInit: boolean;
  /** Seed of weight init and dropout masks. Default 1337. */
  seed: number;
  bosTokenId: number | null;
  /** End-of-sequence id, or (HF) a list of ids any of which ends a sequence. config.json's; a checkpoint's generation_config.json overrides it for generation. */
  eosTokenId: number | readonly number[] | null;
  padTokenId: number | null;
}

export type ModelConfigInput = Partial<ModelConfig> & Pick<ModelConfig, 'family' | 'vocabSize' | 'nLayer' | 'nHead' | 'nEmbd' | 'blockSize'>;

const KEYS: ReadonlyArray<keyof ModelConfig> = [
  'family', 'vocabSize', 'nLayer', 'nHead', 'nKvHead', 'nEmbd', 'headDim', 'intermediateSize', 'blockSize',
  'activation', 'normEps', 'ropeTheta', 'bias', 'tieWordEmbeddings', 'dropout', 'attnDropout', 'nExperts',
  'nExpertsPerTok', 'routerAuxLossCoef', 'initStd', 'scaleResidualInit', 'seed', 'bosTokenId', 'eosTokenId', 'padTokenId',
];

const fail = (msg: string): never => {
  throw new TransformerError('CONFIG_INVALID', `model config: ${msg}`);
};

/**
 * Fill defaults and validate. Throws TransformerError (CONFIG_UNKNOWN_KEY / CONFIG_INVALID, and
 * LIMIT_EXCEEDED for a dimension or a parameter count above `opts.limits` / MODEL_LIMITS).
 */
export function resolveConfig(input: ModelConfigInput, opts: LimitOptions = {}): ModelConfig {
  const limits = resolveLimits(opts.limits);
  if (typeof input !== 'object' || input === null) fail('expected an object');
  const unknown = Object.keys(input).filter((k) => !(KEYS as readonly string[]).includes(k));
  if (unknown.length > 0) {
    throw new TransformerError('CONFIG_UNKNOWN_KEY', `model config: unknown key${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')}; valid keys are ${KEYS.join(', ')}.`);
  }
  const family = input.family;
  if (family !== 'gpt2' && family !== 'llama') fail(`family must be "gpt2" or "llama", got ${showValue(family)}`);
  const gpt2 = family === 'gpt2';
  const int = (k: keyof ModelConfig, v: unknown, min: number): number => {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) fail(`${k} must be an integer ≥ ${min}, got ${showValue(v)}`);
    const limit = DIMENSION_LIMITS[k as keyof typeof DIMENSION_LIMITS];
    if (limit && (v as number) > limits[limit]) throw overLimit(`model config: ${k}`, v as number, limit, limits);
    return v as number;
  };
  const num = (k: keyof ModelConfig, v: unknown, lo: number, hi: number, hiOpen = false): number => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || (hiOpen ? v >= hi : v > hi)) fail(`${k} must be a number in [${lo}, ${hi}${hiOpen ? ')' : ']'}, got ${showValue(v)}`);
    return v as number;
  };
  const bool = (k: keyof ModelConfig, v: unknown): boolean => {
    if (typeof v !== 'boolean') fail(`${k} must be true or false, got ${showValue(v)}`);
    return v as boolean;
  };
  const tokenId = (k: keyof ModelConfig, v: unknown): number | null => (v === null || v === undefined ? null : int(k, v, 0));
  const tokenIds = (k: keyof ModelConfig, v: unknown): number | readonly number[] | null => {
    if (!Array.isArray(v)) return tokenId(k, v);
    if (v.length === 0) fail(`${k} must be a token id, a non-empty list of them, or null, got []`);
    return v.map((id) => int(k, id, 0));
  };

  const nEmbd = int('nEmbd', input.nEmbd, 1);
  const nHead = int('nHead', input.nHead, 1);
  const nKvHead = int('nKvHead', input.nKvHead ?? nHead, 1);
  if (input.headDim === undefined && nEmbd % nHead !== 0) fail(`nEmbd (${nEmbd}) must be divisible by nHead (${nHead}), or set headDim`);
  const headDim = int('headDim', input.headDim ?? nEmbd / nHead, 1);
  if (nHead % nKvHead !== 0) fail(`nHead (${nHead}) must be a multiple of nKvHead (${nKvHead})`);
  if (gpt2 && nKvHead !== nHead) fail(`gpt2 has no grouped-query attention: nKvHead (${nKvHead}) must equal nHead (${nHead})`);
  if (gpt2 && headDim * nHead !== nEmbd) fail(`gpt2 needs headDim · nHead = nEmbd (${headDim} · ${nHead} ≠ ${nEmbd})`);
  if (!gpt2 && headDim % 2 !== 0) fail(`llama needs an even headDim for RoPE, got ${headDim}`);
  const activation = input.activation ?? (gpt2 ? 'gelu_tanh' : 'silu');
  if (!['gelu_tanh', 'gelu', 'silu'].includes(activation)) fail(`activation must be gelu_tanh, gelu or silu, got ${showValue(activation)}`);
  if (!gpt2 && activation !== 'silu') fail(`llama uses the gated silu MLP (activation "silu"), got ${showValue(activation)}`);
  if (gpt2 && activation === 'silu') fail('gpt2 uses gelu_tanh or gelu, not silu');
  const nExperts = int('nExperts', input.nExperts ?? 0, 0);
  if (nExperts === 1) fail('nExperts must be 0 (dense) or ≥ 2');
  const nExpertsPerTok = int('nExpertsPerTok', input.nExpertsPerTok ?? Math.min(2, Math.max(nExperts, 1)), 1);
  if (nExperts > 0 && nExpertsPerTok > nExperts) fail(`nExpertsPerTok (${nExpertsPerTok}) must be ≤ nExperts (${nExperts})`);
  const dropout = num('dropout', input.dropout ?? 0, 0, 1, true);
  const cfg: ModelConfig = {
    family,
    vocabSize: int('vocabSize', input.vocabSize, 1),
    nLayer: int('nLayer', input.nLayer, 1),
    nHead,
    nKvHead,
    nEmbd,
    headDim,
    intermediateSize: int('intermediateSize', input.intermediateSize ?? (gpt2 ? 4 * nEmbd : 256 * Math.ceil((8 * nEmbd) / 3 / 256)), 1),
    blockSize: int('blockSize', input.blockSize, 1),
    activation,
    normEps: num('normEps', input.normEps ?? (gpt2 ? 1e-5 : 1e-6), 0, 1),
    ropeTheta: num('ropeTheta', input.ropeTheta ?? 10000, 1, Number.MAX_VALUE),
    bias: bool('bias', input.bias ?? gpt2),
    tieWordEmbeddings: bool('tieWordEmbeddings', input.tieWordEmbeddings ?? gpt2),
    dropout,
    attnDropout: num('attnDropout', input.attnDropout ?? dropout, 0, 1, true),
    nExperts,
    nExpertsPerTok,
    routerAuxLossCoef: num('routerAuxLossCoef', input.routerAuxLossCoef ?? 0.01, 0, Number.MAX_VALUE),
    initStd: num('initStd', input.initStd ?? 0.02, 0, Number.MAX_VALUE),
    scaleResidualInit: bool('scaleResidualInit', input.scaleResidualInit ?? true),
    seed: int('seed', input.seed ?? 1337, 0),
    bosTokenId: tokenId('bosTokenId', input.bosTokenId),
    eosTokenId: tokenIds('eosTokenId', input.eosTokenId),
    padTokenId: tokenId('padTokenId', input.padTokenId),
  };
  for (const k of ['bosTokenId', 'eosTokenId', 'padTokenId'] as const) {
    for (const id of [cfg[k] ?? []].flat()) if (id >= cfg.vocabSize) fail(`${k} (${id}) must be < vocabSize (${cfg.vocabSize})`);
  }
  checkModelSize(cfg, limits, 'model config: ');
  return cfg;
}
