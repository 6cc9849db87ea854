/**
 * Limits on every size a checkpoint (or a caller) can ask this package to allocate, checked before
 * anything is allocated: a config.json with `n_layer: 1e9` is a typed error in milliseconds, not a
 * heap exhaustion. The defaults admit every published GPT-2 / Llama / Mixtral-class model up to
 * 8e9 parameters; raise one for a bigger model:
 *
 *   await loadModel(dir, { limits: { maxParameters: 80e9 } });
 *   new TransformerLM(config, undefined, { limits: { maxPositions: 1 << 22 } });
 *
 * A limit that is exceeded throws TransformerError LIMIT_EXCEEDED naming the value, the limit and
 * how to raise it.
 */
import type { ModelConfig } from './config.js';
import { TransformerError } from './errors.js';
import { checkpointShapes } from './layout.js';

export interface ModelLimits {
  /** Weights of the model (a tied head counted once). */
  maxParameters: number;
  /** nLayer. */
  maxLayers: number;
  /** nEmbd (the model width C). */
  maxWidth: number;
  /** nHead and nKvHead. */
  maxHeads: number;
  /** headDim. */
  maxHeadDim: number;
  /** intermediateSize (the MLP / expert hidden width). */
  maxIntermediateSize: number;
  /** vocabSize. */
  maxVocabSize: number;
  /** blockSize (n_positions / max_position_embeddings). */
  maxPositions: number;
  /** nExperts (num_local_experts). */
  maxExperts: number;
  /** nExpertsPerTok (num_experts_per_tok). */
  maxExpertsPerTok: number;
  /** Weight tensors of a model, and tensors in a checkpoint (all shards). */
  maxTensors: number;
  /** Bytes of config.json, generation_config.json, model.safetensors.index.json, and of each safetensors header. */
  maxJsonBytes: number;
  /** Nesting depth of those JSON files (arrays and objects). */
  maxJsonDepth: number;
  /** Positions of one KV cache: batch × maxLen. */
  maxCachePositions: number;
  /** Bytes of one KV cache when full: batch × maxLen × nLayer × 2 (k, v) × nKvHead × headDim × 4. */
  maxCacheBytes: number;
}

/** The default limits (frozen). */
export const MODEL_LIMITS: Readonly<ModelLimits> = Object.freeze({
  maxParameters: 8e9,
  maxLayers: 1024,
  maxWidth: 65_536,
  maxHeads: 1024,
  maxHeadDim: 1024,
  maxIntermediateSize: 262_144,
  maxVocabSize: 4_194_304,
  maxPositions: 1_048_576,
  maxExperts: 1024,
  maxExpertsPerTok: 64,
  maxTensors: 131_072,
  maxJsonBytes: 32 * 1024 * 1024,
  maxJsonDepth: 64,
  maxCachePositions: 1 << 26,
  maxCacheBytes: 8 * 1024 ** 3,
});

/** Options that take limits: `{ limits: { maxParameters: 80e9 } }` overrides those named, the rest stay default. */
export interface LimitOptions {
  limits?: Partial<ModelLimits>;
}

/** MODEL_LIMITS with `overrides` applied; each must be a positive number (Infinity turns a limit off). */
export function resolveLimits(overrides: Partial<ModelLimits> = {}): ModelLimits {
  if (typeof overrides !== 'object' || overrides === null) throw new TransformerError('INVALID_ARGUMENT', 'limits must be an object of limit name → number.');
  for (const [k, v] of Object.entries(overrides)) {
    if (!(k in MODEL_LIMITS)) throw new TransformerError('INVALID_ARGUMENT', `limits: unknown limit "${k}"; known: ${Object.keys(MODEL_LIMITS).join(', ')}.`);
    if (typeof v !== 'number' || Number.isNaN(v) || v <= 0) throw new TransformerError('INVALID_ARGUMENT', `limits.${k} must be a positive number (Infinity for none), got ${String(v)}.`);
  }
  return { ...MODEL_LIMITS, ...overrides };
}

/** The error for a size above limit `key`, saying how to raise it. */
export function overLimit(what: string, value: number, key: keyof ModelLimits, limits: ModelLimits): TransformerError {
  return new TransformerError(
    'LIMIT_EXCEEDED',
    `${what} is ${value.toLocaleString('en-US')}, above the limit of ${limits[key].toLocaleString('en-US')} (limits.${key}); if the model really is that large, raise it: loadModel(dir, { limits: { ${key}: … } }).`,
  );
}

/** Which limit bounds each dimension of a ModelConfig. */
export const DIMENSION_LIMITS = {
  nLayer: 'maxLayers',
  nEmbd: 'maxWidth',
  nHead: 'maxHeads',
  nKvHead: 'maxHeads',
  headDim: 'maxHeadDim',
  intermediateSize: 'maxIntermediateSize',
  vocabSize: 'maxVocabSize',
  blockSize: 'maxPositions',
  nExperts: 'maxExperts',
  nExpertsPerTok: 'maxExpertsPerTok',
} as const satisfies Partial<Record<keyof ModelConfig, keyof ModelLimits>>;

/**
 * The whole model against the limits, by arithmetic before any layout or weight exists: the
 * number of weight tensors first (bounding the layout's size), then the parameters from the
 * layout. Each dimension was bounded when the config was resolved. `prefix` starts messages.
 */
export function checkModelSize(cfg: ModelConfig, limits: ModelLimits, prefix: string): void {
  // An upper bound of the layout's tensors: per layer 2 norms (weight + bias), 4 attention
  // linears (weight + bias), the router, and 3 linears (weight + bias) per expert; then the rest.
  const tensors = cfg.nLayer * (4 + 8 + 1 + 6 * Math.max(1, cfg.nExperts)) + 6;
  if (tensors > limits.maxTensors) throw overLimit(`${prefix}the number of weight tensors (nLayer ${cfg.nLayer} × ${Math.max(1, cfg.nExperts)} expert(s))`, tensors, 'maxTensors', limits);
  let n = 0;
  for (const shape of checkpointShapes(cfg).values()) n += shape.reduce((a, b) => a * b, 1);
  if (n > limits.maxParameters) throw overLimit(`${prefix}the model's parameter count`, n, 'maxParameters', limits);
}

/**
 * A KV cache of batch × maxLen positions for this model, against the limits, before it is made
 * (the KVCache constructor checks that both are positive integers).
 */
export function checkCacheSize(cfg: ModelConfig, batch: number, maxLen: number, limits: ModelLimits): void {
  const positions = batch * maxLen;
  if (positions > limits.maxCachePositions) throw overLimit(`createCache: batch × maxLen (${batch} × ${maxLen})`, positions, 'maxCachePositions', limits);
  const bytes = positions * cfg.nLayer * 2 * cfg.nKvHead * cfg.headDim * 4;
  if (bytes > limits.maxCacheBytes) throw overLimit(`createCache: the full cache's bytes (batch ${batch} × maxLen ${maxLen} × ${cfg.nLayer} layers × k,v × ${cfg.nKvHead} × ${cfg.headDim} × 4)`, bytes, 'maxCacheBytes', limits);
}
