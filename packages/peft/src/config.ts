/**
 * Adapter configs in TypeScript (camelCase) and their HF PEFT `adapter_config.json` form (snake_case).
 *
 *   const cfg: LoraConfig = { peftType: 'LORA', r: 8, loraAlpha: 16, targetModules: ['c_attn'] };
 *   toAdapterConfigJson(resolveConfig(cfg, model)).r; // 8
 *
 * Defaults are PEFT's (peft/tuners/lora/config.py, peft/tuners/ia3/config.py, peft/config.py as of
 * PEFT 0.20): r 8, lora_alpha 8, lora_dropout 0.0, bias "none", init_lora_weights true. The file
 * carries every field PEFT writes for the type with PEFT's default; fields this package does not
 * model are kept verbatim in `extra` so a round trip loses nothing. `BOTTLENECK_ADAPTER` is ours
 * (HF PEFT has no Houlsby adapter; adapter-transformers' HoulsbyConfig is the anchor).
 */
import { PeftError } from './errors.js';
import { promptConfigInputFromJson, type PromptLearningConfig, type ResolvedPromptConfig } from './prompt/config.js';

export type PeftType = 'LORA' | 'IA3' | 'BOTTLENECK_ADAPTER' | 'PROMPT_TUNING' | 'PREFIX_TUNING';
export type LoraBias = 'none' | 'all' | 'lora_only';
export type LoraInit = boolean | 'gaussian' | 'pissa' | `pissa_niter_${number}`;
/** A list of module names (suffix match after a dot, PEFT's rule), a full-match regex, or 'all-linear'. */
export type TargetModules = readonly string[] | string;

interface CommonConfig {
  /** PEFT's task_type; only "CAUSAL_LM" is meaningful here. Default "CAUSAL_LM". */
  taskType?: string;
  baseModelNameOrPath?: string | null;
  revision?: string | null;
  inferenceMode?: boolean;
  /** Linears kept as trainable copies and saved with the adapter (e.g. ['lm_head']). */
  modulesToSave?: readonly string[] | null;
  /** Seed of the adapter's random init (with each module's name). Not written to the file. Default 0. */
  seed?: number;
}

export interface LoraConfig extends CommonConfig {
  peftType: 'LORA';
  r?: number;
  loraAlpha?: number;
  loraDropout?: number;
  /** Default: PEFT's per family (gpt2 c_attn; llama q_proj, v_proj). */
  targetModules?: TargetModules | null;
  excludeModules?: TargetModules | null;
  /** Set automatically from the base layout (true for GPT-2's Conv1D), as PEFT does. */
  fanInFanOut?: boolean;
  bias?: LoraBias;
  useRslora?: boolean;
  useDora?: boolean;
  /**
   * true: A Kaiming-uniform(a=√5), B zeros; 'gaussian': A ~ N(0, (1/r)²), B zeros; false: both random
   * (debugging); 'pissa' (or 'pissa_niter_<k>', computed exactly here): A, B from the top-r SVD of
   * W and the base weight replaced by the residual W − s·BA (float bases only).
   */
  initLoraWeights?: LoraInit;
  layersToTransform?: number | readonly number[] | null;
  layersPattern?: string | readonly string[] | null;
  rankPattern?: Readonly<Record<string, number>>;
  alphaPattern?: Readonly<Record<string, number>>;
}

export interface IA3Config extends CommonConfig {
  peftType: 'IA3';
  /** Default: PEFT's per family (gpt2 c_attn, mlp.c_proj; llama k_proj, v_proj, down_proj). */
  targetModules?: TargetModules | null;
  excludeModules?: TargetModules | null;
  /** Modules whose INPUT is scaled (the rest scale their output). Default per family (gpt2 mlp.c_proj; llama down_proj). */
  feedforwardModules?: TargetModules | null;
  fanInFanOut?: boolean;
  initIa3Weights?: boolean;
}

export type BottleneckActivation = 'relu' | 'gelu' | 'swish';

export interface BottleneckConfig extends CommonConfig {
  peftType: 'BOTTLENECK_ADAPTER';
  /** Default: attention output and FFN down projections (gpt2 attn.c_proj, mlp.c_proj; llama o_proj, down_proj). */
  targetModules?: TargetModules | null;
  /** Bottleneck width. Default ⌈C / reductionFactor⌉. */
  bottleneckSize?: number | null;
  /** Default 16 (adapter-transformers' Houlsby). */
  reductionFactor?: number;
  /** Default 'swish' (adapter-transformers' Houlsby). */
  nonLinearity?: BottleneckActivation;
  /** Std of the down projection's normal init. Default 0.01. The up projection starts at zero (identity at init). */
  initStd?: number;
}

export type PeftConfig = LoraConfig | IA3Config | BottleneckConfig | PromptLearningConfig;
/** Layer methods (they wrap linears; resolvePeftConfig resolves them without a model). */
export type LayerPeftConfig = LoraConfig | IA3Config | BottleneckConfig;

interface ResolvedCommon {
  taskType: string;
  baseModelNameOrPath: string | null;
  revision: string | null;
  inferenceMode: boolean;
  modulesToSave: string[] | null;
  seed: number;
  /** Fields of adapter_config.json this package does not model, kept for the round trip. */
  extra: Record<string, unknown>;
}
export interface ResolvedLoraConfig extends ResolvedCommon {
  peftType: 'LORA';
  r: number;
  loraAlpha: number;
  loraDropout: number;
  targetModules: string[] | string | null;
  excludeModules: string[] | string | null;
  fanInFanOut: boolean;
  bias: LoraBias;
  useRslora: boolean;
  useDora: boolean;
  initLoraWeights: LoraInit;
  layersToTransform: number | number[] | null;
  layersPattern: string | string[] | null;
  rankPattern: Record<string, number>;
  alphaPattern: Record<string, number>;
}
export interface ResolvedIA3Config extends ResolvedCommon {
  peftType: 'IA3';
  targetModules: string[] | string | null;
  excludeModules: string[] | string | null;
  feedforwardModules: string[] | string | null;
  fanInFanOut: boolean;
  initIa3Weights: boolean;
}
export interface ResolvedBottleneckConfig extends ResolvedCommon {
  peftType: 'BOTTLENECK_ADAPTER';
  targetModules: string[] | string | null;
  bottleneckSize: number | null;
  reductionFactor: number;
  nonLinearity: BottleneckActivation;
  initStd: number;
}
/** A layer method's config with every default filled. */
export type ResolvedLayerConfig = ResolvedLoraConfig | ResolvedIA3Config | ResolvedBottleneckConfig;
/** A config with every default filled (prompt-learning ones are resolved against a model: src/prompt/config.ts). */
export type ResolvedPeftConfig = ResolvedLayerConfig | ResolvedPromptConfig;

/** Prompt tuning or prefix tuning (their inputs are resolved against the model when the tuner is built). */
export function isPromptLearning(c: { peftType: string }): c is PromptLearningConfig | ResolvedPromptConfig {
  return c.peftType === 'PROMPT_TUNING' || c.peftType === 'PREFIX_TUNING';
}

const bad = (msg: string): never => {
  throw new PeftError('CONFIG_INVALID', msg);
};
const num = (k: string, v: unknown, min: number, max = Infinity, int = false): number => {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (int && !Number.isInteger(v))) {
    bad(`${k} must be ${int ? 'an integer' : 'a number'} in [${min}, ${max}], got ${JSON.stringify(v)}`);
  }
  return v as number;
};
const bool = (k: string, v: unknown): boolean => (typeof v === 'boolean' ? v : bad(`${k} must be true or false, got ${JSON.stringify(v)}`));
const strOrNull = (k: string, v: unknown): string | null => (v === null || v === undefined ? null : typeof v === 'string' ? v : bad(`${k} must be a string or null`));
function targets(k: string, v: unknown): string[] | string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') {
    try {
      new RegExp(v);
    } catch {
      bad(`${k} is not a valid regular expression`);
    }
    return v;
  }
  if (Array.isArray(v) && v.every((s) => typeof s === 'string')) return [...(v as string[])];
  return bad(`${k} must be a list of module names, a regex string or null`);
}
function names(k: string, v: unknown): string[] | null {
  if (v === null || v === undefined) return null;
  if (Array.isArray(v) && v.every((s) => typeof s === 'string')) return [...(v as string[])];
  return bad(`${k} must be a list of module names or null`);
}
function pattern(k: string, v: unknown): Record<string, number> {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) bad(`${k} must be an object of name → number`);
  const out: Record<string, number> = {};
  for (const [key, val] of Object.entries(v as object)) out[key] = num(`${k}["${key}"]`, val, 0);
  return out;
}

function common(c: CommonConfig & { extra?: Record<string, unknown> }): ResolvedCommon {
  return {
    taskType: c.taskType ?? 'CAUSAL_LM',
    baseModelNameOrPath: strOrNull('baseModelNameOrPath', c.baseModelNameOrPath),
    revision: strOrNull('revision', c.revision),
    inferenceMode: c.inferenceMode === undefined ? false : bool('inferenceMode', c.inferenceMode),
    modulesToSave: names('modulesToSave', c.modulesToSave),
    seed: num('seed', c.seed ?? 0, 0, 2 ** 32 - 1, true),
    extra: { ...(c.extra ?? {}) },
  };
}

/** Fill defaults and validate (PeftError CONFIG_INVALID / UNSUPPORTED_PEFT_TYPE). Target defaults per family are filled later, against a model. */
export function resolvePeftConfig(input: LayerPeftConfig | ResolvedLayerConfig): ResolvedLayerConfig {
  if (typeof input !== 'object' || input === null) return bad('the adapter config must be an object');
  const c = input as LayerPeftConfig & { extra?: Record<string, unknown> };
  if (isPromptLearning(c as { peftType: string })) throw new PeftError('INVALID_ARGUMENT', `${(c as { peftType: string }).peftType} configs are resolved against a model (getPeftModel / addAdapter do it).`);
  switch (c.peftType) {
    case 'LORA': {
      const r = num('r', c.r ?? 8, 1, 65536, true);
      const init = c.initLoraWeights ?? true;
      if (init !== true && init !== false && init !== 'gaussian' && !isPissa(init)) {
        throw new PeftError('UNSUPPORTED', `initLoraWeights ${JSON.stringify(init)} is not supported; use true (Kaiming-uniform A, zero B), 'gaussian', 'pissa' or false.`);
      }
      const bias = c.bias ?? 'none';
      if (!['none', 'all', 'lora_only'].includes(bias)) bad(`bias must be "none", "all" or "lora_only", got ${JSON.stringify(bias)}`);
      const ltt = c.layersToTransform;
      const layersToTransform = ltt === undefined || ltt === null ? null : typeof ltt === 'number' ? num('layersToTransform', ltt, 0, Infinity, true) : Array.isArray(ltt) ? ltt.map((l) => num('layersToTransform', l, 0, Infinity, true)) : bad('layersToTransform must be an integer, a list of them or null');
      const lp = c.layersPattern;
      const layersPattern = lp === undefined || lp === null ? null : typeof lp === 'string' ? lp : names('layersPattern', lp);
      const tm = targets('targetModules', c.targetModules);
      if (typeof tm === 'string' && tm.toLowerCase() !== 'all-linear' && (layersToTransform !== null || layersPattern !== null)) bad('layersToTransform / layersPattern need targetModules as a list, not a regex (PEFT’s rule)');
      return {
        peftType: 'LORA',
        ...common(c),
        r,
        loraAlpha: num('loraAlpha', c.loraAlpha ?? 8, 0),
        loraDropout: num('loraDropout', c.loraDropout ?? 0, 0, 1 - Number.EPSILON),
        targetModules: tm,
        excludeModules: targets('excludeModules', c.excludeModules),
        fanInFanOut: bool('fanInFanOut', c.fanInFanOut ?? false),
        bias: bias as LoraBias,
        useRslora: bool('useRslora', c.useRslora ?? false),
        useDora: bool('useDora', c.useDora ?? false),
        initLoraWeights: init,
        layersToTransform,
        layersPattern,
        rankPattern: pattern('rankPattern', c.rankPattern),
        alphaPattern: pattern('alphaPattern', c.alphaPattern),
      };
    }
    case 'IA3':
      return {
        peftType: 'IA3',
        ...common(c),
        targetModules: targets('targetModules', c.targetModules),
        excludeModules: targets('excludeModules', c.excludeModules),
        feedforwardModules: targets('feedforwardModules', c.feedforwardModules),
        fanInFanOut: bool('fanInFanOut', c.fanInFanOut ?? false),
        initIa3Weights: bool('initIa3Weights', c.initIa3Weights ?? true),
      };
    case 'BOTTLENECK_ADAPTER': {
      const act = c.nonLinearity ?? 'swish';
      if (!['relu', 'gelu', 'swish'].includes(act)) bad(`nonLinearity must be "relu", "gelu" or "swish", got ${JSON.stringify(act)}`);
      return {
        peftType: 'BOTTLENECK_ADAPTER',
        ...common(c),
        targetModules: targets('targetModules', c.targetModules),
        bottleneckSize: c.bottleneckSize === undefined || c.bottleneckSize === null ? null : num('bottleneckSize', c.bottleneckSize, 1, 1 << 20, true),
        reductionFactor: num('reductionFactor', c.reductionFactor ?? 16, 1),
        nonLinearity: act,
        initStd: num('initStd', c.initStd ?? 0.01, 0),
      };
    }
    default:
      throw new PeftError('UNSUPPORTED_PEFT_TYPE', `peft_type ${JSON.stringify((c as { peftType?: unknown }).peftType)} is not supported here; use "LORA", "IA3", "BOTTLENECK_ADAPTER", "PROMPT_TUNING" or "PREFIX_TUNING".`);
  }
}

/** LoRA scaling of a (rank, alpha): α/r, or α/√r with rsLoRA (peft/tuners/lora/layer.py update_layer). */
export function loraScaling(r: number, alpha: number, useRslora: boolean): number {
  return useRslora ? alpha / Math.sqrt(r) : alpha / r;
}

/**
 * PEFT's get_pattern_key: the first rank_pattern / alpha_pattern key that matches the module name
 * as `(.*\.)?key$` (a regex on the tail), else null.
 */
export function patternValue(patterns: Record<string, number>, moduleName: string): number | null {
  for (const [key, v] of Object.entries(patterns)) {
    let re: RegExp;
    try {
      re = new RegExp(`^(.*\\.)?(?:${key})$`);
    } catch {
      throw new PeftError('CONFIG_INVALID', `rank/alpha pattern key ${JSON.stringify(key)} is not a valid regular expression.`);
    }
    if (re.test(moduleName)) return v;
  }
  return null;
}

// ---- adapter_config.json -------------------------------------------------------------------

/** Fields PEFT 0.20's LoraConfig writes that this package does not model, with PEFT's defaults. */
const LORA_OTHER_DEFAULTS: Record<string, unknown> = {
  alora_invocation_tokens: null,
  arrow_config: null,
  corda_config: null,
  ensure_weight_tying: false,
  eva_config: null,
  kasa_config: null,
  layer_replication: null,
  loftq_config: {},
  lora_bias: false,
  lora_ga_config: null,
  megatron_config: null,
  megatron_core: 'megatron.core',
  monteclora_config: null,
  qalora_group_size: 16,
  target_parameters: null,
  trainable_token_indices: null,
  use_bdlora: null,
  use_qalora: false,
  velora_config: null,
};
/** Of those, the ones whose non-default value changes the math: refuse rather than silently ignore. */
const LORA_UNSUPPORTED_IF_SET = ['alora_invocation_tokens', 'arrow_config', 'kasa_config', 'layer_replication', 'lora_bias', 'target_parameters', 'trainable_token_indices', 'use_bdlora', 'use_qalora', 'velora_config', 'monteclora_config'];

const COMMON_KEYS: Array<[string, keyof ResolvedCommon]> = [
  ['task_type', 'taskType'],
  ['base_model_name_or_path', 'baseModelNameOrPath'],
  ['revision', 'revision'],
  ['inference_mode', 'inferenceMode'],
  ['modules_to_save', 'modulesToSave'],
];
const LORA_KEYS: Array<[string, string]> = [
  ['r', 'r'], ['lora_alpha', 'loraAlpha'], ['lora_dropout', 'loraDropout'], ['target_modules', 'targetModules'],
  ['exclude_modules', 'excludeModules'], ['fan_in_fan_out', 'fanInFanOut'], ['bias', 'bias'], ['use_rslora', 'useRslora'],
  ['use_dora', 'useDora'], ['init_lora_weights', 'initLoraWeights'], ['layers_to_transform', 'layersToTransform'],
  ['layers_pattern', 'layersPattern'], ['rank_pattern', 'rankPattern'], ['alpha_pattern', 'alphaPattern'],
];
const IA3_KEYS: Array<[string, string]> = [
  ['target_modules', 'targetModules'], ['exclude_modules', 'excludeModules'], ['feedforward_modules', 'feedforwardModules'],
  ['fan_in_fan_out', 'fanInFanOut'], ['init_ia3_weights', 'initIa3Weights'],
];
const BOTTLENECK_KEYS: Array<[string, string]> = [
  ['target_modules', 'targetModules'], ['bottleneck_size', 'bottleneckSize'], ['reduction_factor', 'reductionFactor'],
  ['non_linearity', 'nonLinearity'], ['init_std', 'initStd'],
];
const keysOf = (t: PeftType): Array<[string, string]> => (t === 'LORA' ? LORA_KEYS : t === 'IA3' ? IA3_KEYS : BOTTLENECK_KEYS);
/** Float-typed fields (written as 0.0, not 0, as Python's json does). */
export const FLOAT_FIELDS: ReadonlySet<string> = new Set(['lora_dropout', 'init_std']);

/**
 * The adapter_config.json object PEFT's save_pretrained writes: every field of the type (PEFT's
 * defaults for those not modelled here, or the values read from a file), `inference_mode: true`
 * (PEFT sets it while saving), `auto_mapping: null`. Serialize with `formatAdapterConfig`.
 */
export function toAdapterConfigJson(cfg: ResolvedLayerConfig): Record<string, unknown> {
  const out: Record<string, unknown> = { auto_mapping: null };
  if (cfg.peftType === 'LORA') Object.assign(out, LORA_OTHER_DEFAULTS);
  Object.assign(out, cfg.extra);
  const src = cfg as unknown as Record<string, unknown>;
  for (const [snake, camel] of [...COMMON_KEYS, ...keysOf(cfg.peftType)]) {
    const v = src[camel];
    out[snake] = Array.isArray(v) ? [...v] : v && typeof v === 'object' ? { ...(v as object) } : v ?? null;
  }
  out.peft_type = cfg.peftType;
  out.inference_mode = true;
  return out;
}

/**
 * A resolved config from an adapter_config.json object (untrusted): unknown fields go to `extra`,
 * an unknown peft_type is PeftError UNSUPPORTED_PEFT_TYPE, options that change the math and are
 * not implemented here are PeftError UNSUPPORTED naming the field.
 */
export function fromAdapterConfigJson(json: unknown, what = 'adapter_config.json'): ResolvedLayerConfig | PromptLearningConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new PeftError('ADAPTER_INVALID', `${what} must hold a JSON object.`);
  const obj = json as Record<string, unknown>;
  const type = obj.peft_type;
  if (type === 'PROMPT_TUNING' || type === 'PREFIX_TUNING') return promptConfigInputFromJson(obj, what);
  if (type !== 'LORA' && type !== 'IA3' && type !== 'BOTTLENECK_ADAPTER') {
    throw new PeftError('UNSUPPORTED_PEFT_TYPE', `${what}: peft_type ${JSON.stringify(type)} is not supported; this package reads LORA, IA3, BOTTLENECK_ADAPTER, PROMPT_TUNING and PREFIX_TUNING adapters.`);
  }
  const known = new Set<string>(['peft_type', 'auto_mapping', ...COMMON_KEYS.map(([s]) => s), ...keysOf(type).map(([s]) => s)]);
  const input: Record<string, unknown> = { peftType: type, extra: {} };
  const extra = input.extra as Record<string, unknown>;
  for (const [snake, camel] of [...COMMON_KEYS, ...keysOf(type)]) if (obj[snake] !== undefined && obj[snake] !== null) input[camel] = obj[snake];
  if (obj.modules_to_save === null) input.modulesToSave = null;
  for (const [k, v] of Object.entries(obj)) {
    if (known.has(k)) continue;
    if (type === 'LORA' && k in LORA_OTHER_DEFAULTS && LORA_UNSUPPORTED_IF_SET.includes(k) && !sameJson(v, LORA_OTHER_DEFAULTS[k])) {
      throw new PeftError('UNSUPPORTED', `${what}: ${k} = ${JSON.stringify(v)} is not supported by @llm/peft (only PEFT's default ${JSON.stringify(LORA_OTHER_DEFAULTS[k])}).`);
    }
    extra[k] = v;
  }
  if (obj.auto_mapping !== undefined && obj.auto_mapping !== null) extra.auto_mapping = obj.auto_mapping;
  if (type === 'LORA' && typeof input.initLoraWeights === 'string' && input.initLoraWeights !== 'gaussian' && !isPissa(input.initLoraWeights)) {
    // The init only matters for fresh adapters; a saved one brings its weights. PiSSA / OLoRA / CorDA also change the base weights, which a file cannot undo.
    const init = input.initLoraWeights;
    if (/^(olora|corda|loftq|mica|lora_ga)/i.test(init) || (/^pissa/i.test(init) && !isPissa(init))) throw new PeftError('UNSUPPORTED', `${what}: init_lora_weights "${init}" mutates the base weights; convert the adapter to plain LoRA in PEFT (path_initial_model_for_weight_conversion) before loading.`);
    input.initLoraWeights = true; // eva / orthogonal / …: only the init differs, the saved weights are what counts
  }
  return resolvePeftConfig(input as unknown as LayerPeftConfig);
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** 'pissa' or 'pissa_niter_<k>' (PEFT's fast-SVD variant; the SVD here is exact either way). */
export function isPissa(init: unknown): init is 'pissa' | `pissa_niter_${number}` {
  return typeof init === 'string' && /^pissa(_niter_\d+)?$/.test(init);
}
