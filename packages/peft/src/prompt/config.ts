/**
 * Prompt-learning configs (prompt tuning, prefix tuning) and their adapter_config.json fields, as
 * HF PEFT writes them (peft/config.py PromptLearningConfig, peft/tuners/prompt_tuning/config.py,
 * peft/tuners/prefix_tuning/config.py). The model-shaped fields PEFT fills from the base config
 * (peft/utils/other.py _prepare_prompt_learning_config) are filled here from ours:
 *   token_dim = C, num_attention_heads = H, num_layers = L, num_transformer_submodules = 1;
 *   prefix tuning on a model with kv heads (llama): token_dim = K·D, num_attention_heads = K (PEFT #1901).
 *
 *   resolvePromptConfig({ peftType: 'PROMPT_TUNING', numVirtualTokens: 8 }, model.config).tokenDim; // C
 */
import type { ModelConfig } from '@llm/transformer';
import { PeftError } from '../errors.js';

export type PromptTuningInit = 'RANDOM' | 'TEXT' | 'SAMPLE_VOCAB';

interface PromptCommon {
  numVirtualTokens: number;
  /** Model-shaped fields of a file (checked against the model, else filled from it). */
  tokenDim?: number;
  numAttentionHeads?: number;
  numLayers?: number;
  /** adapter_config.json fields not modelled here (kept for the round trip). */
  extra?: Record<string, unknown>;
  taskType?: string;
  baseModelNameOrPath?: string | null;
  revision?: string | null;
  inferenceMode?: boolean;
  /** Seed of the random init. Not written to the file. Default 0. */
  seed?: number;
}

export interface PromptTuningConfig extends PromptCommon {
  peftType: 'PROMPT_TUNING';
  /** RANDOM: N(0, 1) as torch.nn.Embedding; TEXT: the embeddings of promptTuningInitText's tokens, repeated to fill; SAMPLE_VOCAB: of random vocabulary ids. Default RANDOM. */
  promptTuningInit?: PromptTuningInit;
  promptTuningInitText?: string | null;
  tokenizerNameOrPath?: string | null;
}

export interface PrefixTuningConfig extends PromptCommon {
  peftType: 'PREFIX_TUNING';
  /** Reparameterize through a 2-layer MLP (embedding → Linear → tanh → Linear). Default false. */
  prefixProjection?: boolean;
  /** The MLP's hidden width. Default token_dim. */
  encoderHiddenSize?: number | null;
  /** 'zero': the prefix starts at zero (the MLP's last layer zero with projection). Default null: random. */
  initWeights?: 'zero' | null;
}

export type PromptLearningConfig = PromptTuningConfig | PrefixTuningConfig;

interface ResolvedPromptCommon {
  numVirtualTokens: number;
  taskType: string;
  baseModelNameOrPath: string | null;
  revision: string | null;
  inferenceMode: boolean;
  seed: number;
  /** Model-shaped fields (PEFT fills them from the base config). */
  tokenDim: number;
  numAttentionHeads: number;
  numLayers: number;
  numTransformerSubmodules: 1;
  /** Fields of adapter_config.json not modelled here, kept for the round trip. */
  extra: Record<string, unknown>;
}
export interface ResolvedPromptTuningConfig extends ResolvedPromptCommon {
  peftType: 'PROMPT_TUNING';
  promptTuningInit: PromptTuningInit;
  promptTuningInitText: string | null;
  tokenizerNameOrPath: string | null;
}
export interface ResolvedPrefixTuningConfig extends ResolvedPromptCommon {
  peftType: 'PREFIX_TUNING';
  prefixProjection: boolean;
  encoderHiddenSize: number;
  initWeights: 'zero' | null;
}
export type ResolvedPromptConfig = ResolvedPromptTuningConfig | ResolvedPrefixTuningConfig;

const bad = (msg: string): never => {
  throw new PeftError('CONFIG_INVALID', msg);
};
const int = (k: string, v: unknown, min: number, max: number): number =>
  typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max ? v : bad(`${k} must be an integer in [${min}, ${max}], got ${JSON.stringify(v)}`);
const str = (k: string, v: unknown): string | null => (v === null || v === undefined ? null : typeof v === 'string' ? v : bad(`${k} must be a string or null`));

/** Fill defaults and the model-shaped fields; check them against the model when a file gave them. */
export function resolvePromptConfig(input: PromptLearningConfig | ResolvedPromptConfig, model: ModelConfig): ResolvedPromptConfig {
  const prefix = input.peftType === 'PREFIX_TUNING';
  const heads = prefix && model.family === 'llama' ? model.nKvHead : model.nHead;
  const tokenDim = prefix && model.family === 'llama' ? model.nKvHead * model.headDim : model.nEmbd;
  for (const [k, given, want] of [['token_dim', input.tokenDim, tokenDim], ['num_attention_heads', input.numAttentionHeads, heads], ['num_layers', input.numLayers, model.nLayer]] as const) {
    if (given !== undefined && given !== null && given !== want) throw new PeftError('SHAPE_MISMATCH', `the adapter's ${k} is ${given}, this model needs ${want}: the adapter was made for another architecture.`);
  }
  const common: ResolvedPromptCommon = {
    numVirtualTokens: int('numVirtualTokens', input.numVirtualTokens, 1, model.blockSize - 1),
    taskType: input.taskType ?? 'CAUSAL_LM',
    baseModelNameOrPath: str('baseModelNameOrPath', input.baseModelNameOrPath),
    revision: str('revision', input.revision),
    inferenceMode: input.inferenceMode ?? false,
    seed: int('seed', input.seed ?? 0, 0, 2 ** 32 - 1),
    tokenDim,
    numAttentionHeads: heads,
    numLayers: model.nLayer,
    numTransformerSubmodules: 1,
    extra: { ...(input.extra ?? {}) },
  };
  if (!prefix) {
    const c = input as PromptTuningConfig;
    const init = c.promptTuningInit ?? 'RANDOM';
    if (!['RANDOM', 'TEXT', 'SAMPLE_VOCAB'].includes(init)) bad(`promptTuningInit must be "RANDOM", "TEXT" or "SAMPLE_VOCAB", got ${JSON.stringify(init)}`);
    const text = str('promptTuningInitText', c.promptTuningInitText);
    if (init === 'TEXT' && !text) bad('promptTuningInit "TEXT" needs promptTuningInitText');
    return { ...common, peftType: 'PROMPT_TUNING', promptTuningInit: init, promptTuningInitText: text, tokenizerNameOrPath: str('tokenizerNameOrPath', c.tokenizerNameOrPath) };
  }
  const c = input as PrefixTuningConfig;
  const iw = c.initWeights ?? null;
  if (iw !== null && iw !== 'zero') bad(`initWeights must be "zero" or null, got ${JSON.stringify(iw)}`);
  return {
    ...common,
    peftType: 'PREFIX_TUNING',
    prefixProjection: c.prefixProjection ?? false,
    encoderHiddenSize: c.encoderHiddenSize === undefined || c.encoderHiddenSize === null ? tokenDim : int('encoderHiddenSize', c.encoderHiddenSize, 1, 1 << 20),
    initWeights: iw,
  };
}

const COMMON_KEYS: Array<[string, string]> = [
  ['task_type', 'taskType'], ['base_model_name_or_path', 'baseModelNameOrPath'], ['revision', 'revision'],
  ['num_virtual_tokens', 'numVirtualTokens'], ['token_dim', 'tokenDim'], ['num_attention_heads', 'numAttentionHeads'],
  ['num_layers', 'numLayers'], ['num_transformer_submodules', 'numTransformerSubmodules'],
];
const TYPE_KEYS: Record<'PROMPT_TUNING' | 'PREFIX_TUNING', Array<[string, string]>> = {
  PROMPT_TUNING: [['prompt_tuning_init', 'promptTuningInit'], ['prompt_tuning_init_text', 'promptTuningInitText'], ['tokenizer_name_or_path', 'tokenizerNameOrPath']],
  PREFIX_TUNING: [['prefix_projection', 'prefixProjection'], ['encoder_hidden_size', 'encoderHiddenSize'], ['init_weights', 'initWeights']],
};

/** The adapter_config.json object (PEFT writes inference_mode true when saving; modules_to_save null). */
export function promptConfigToJson(cfg: ResolvedPromptConfig): Record<string, unknown> {
  const out: Record<string, unknown> = { auto_mapping: null, modules_to_save: null, ...(cfg.peftType === 'PROMPT_TUNING' ? { tokenizer_kwargs: null } : {}), ...cfg.extra };
  const src = cfg as unknown as Record<string, unknown>;
  for (const [snake, camel] of [...COMMON_KEYS, ...TYPE_KEYS[cfg.peftType]]) out[snake] = src[camel] ?? null;
  out.peft_type = cfg.peftType;
  out.inference_mode = true;
  return out;
}

/**
 * The config input of an untrusted adapter_config.json object of a prompt-learning type, with the
 * file's model-shaped fields (token_dim, num_attention_heads, num_layers) kept so resolving it
 * against a model checks them (SHAPE_MISMATCH for an adapter of another architecture).
 */
export function promptConfigInputFromJson(obj: Record<string, unknown>, what = 'adapter_config.json'): PromptLearningConfig {
  const type = obj.peft_type as 'PROMPT_TUNING' | 'PREFIX_TUNING';
  const keys = [...COMMON_KEYS, ...TYPE_KEYS[type]];
  const known = new Set(['peft_type', 'auto_mapping', 'inference_mode', 'modules_to_save', ...keys.map(([s]) => s)]);
  const input: Record<string, unknown> = { peftType: type, extra: {} };
  for (const [snake, camel] of keys) if (obj[snake] !== undefined && obj[snake] !== null) input[camel] = obj[snake];
  if (input.numTransformerSubmodules !== undefined && input.numTransformerSubmodules !== 1) {
    throw new PeftError('UNSUPPORTED', `${what}: num_transformer_submodules ${JSON.stringify(input.numTransformerSubmodules)}: only decoder-only models (1) are supported.`);
  }
  delete input.numTransformerSubmodules;
  if (Array.isArray(obj.modules_to_save) && obj.modules_to_save.length > 0) throw new PeftError('UNSUPPORTED', `${what}: modules_to_save with prompt learning is not supported by @llm/peft.`);
  for (const [k, v] of Object.entries(obj)) if (!known.has(k)) (input.extra as Record<string, unknown>)[k] = v;
  return input as unknown as PromptLearningConfig;
}
