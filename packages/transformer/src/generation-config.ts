/**
 * A checkpoint's generation defaults: HF `generation_config.json` ⇄ a typed camelCase object
 * (`model.generationConfig`), which @llm/sample reads as the model's defaults (explicit options >
 * these > the library's).
 *
 *   fromHfGenerationConfig({ eos_token_id: [128001, 128009], do_sample: true, temperature: 0.6, transformers_version: '4.45.0' });
 *   // { eosTokenId: [128001, 128009], doSample: true, temperature: 0.6, extra: { transformers_version: '4.45.0' } }
 *   toHfGenerationConfig(thatObject);   // the same JSON again (keys sorted, as HF writes them)
 *
 * Fields are parsed for their JSON type only (an id is an integer ≥ 0 below the vocabulary, a count
 * an integer, do_sample a boolean…); whether a value makes sense (top_p in (0, 1], …) is decided
 * where it is used, by @llm/sample's resolveGenerationConfig. Every other field — HF options
 * llm-ts does not read (stop_strings, bad_words_ids, …), `transformers_version`,
 * `_from_model_config`, and known fields set to null — is kept as read in `extra` and written back
 * unchanged, so a load → save round trip preserves the file.
 *
 * eos: HF generates with generation_config's `eos_token_id` when the file has one; config.json's
 * (ModelConfig.eosTokenId) is only the fallback. Both may be a list; every id of it ends a sequence.
 */
import type { ModelConfig } from './config.js';
import { TransformerError, showValue } from './errors.js';

/** generation_config.json name → our name → JSON type. One row per field drives the type and both directions. */
const FIELDS = [
  ['bos_token_id', 'bosTokenId', 'id'],
  ['eos_token_id', 'eosTokenId', 'ids'],
  ['pad_token_id', 'padTokenId', 'id'],
  ['max_new_tokens', 'maxNewTokens', 'count'],
  ['max_length', 'maxLength', 'count'],
  ['do_sample', 'doSample', 'bool'],
  ['temperature', 'temperature', 'number'],
  ['top_k', 'topK', 'count'],
  ['top_p', 'topP', 'number'],
  ['min_p', 'minP', 'number'],
  ['typical_p', 'typicalP', 'number'],
  ['repetition_penalty', 'repetitionPenalty', 'number'],
  ['no_repeat_ngram_size', 'noRepeatNgramSize', 'count'],
  ['num_beams', 'numBeams', 'count'],
  ['length_penalty', 'lengthPenalty', 'number'],
  ['early_stopping', 'earlyStopping', 'stopping'],
  ['num_return_sequences', 'numReturnSequences', 'count'],
] as const;

/** The TypeScript type of each JSON type. */
interface KindTypes {
  /** A token id; null = none. */
  id: number | null;
  /** One id or a list, any of which ends a sequence; null = none. */
  ids: number | readonly number[] | null;
  count: number;
  number: number;
  bool: boolean;
  stopping: boolean | 'never';
}
type Kind = keyof KindTypes;
type Row = (typeof FIELDS)[number];

/**
 * HF GenerationConfig fields llm-ts reads, camelCased (bosTokenId, eosTokenId, padTokenId,
 * maxNewTokens, maxLength, doSample, temperature, topK, topP, minP, typicalP, repetitionPenalty,
 * noRepeatNgramSize, numBeams, lengthPenalty, earlyStopping, numReturnSequences), all optional
 * (absent = no opinion), plus `extra`: every other field of the file, as read.
 */
export type ModelGenerationConfig = { [R in Row as R[1]]?: KindTypes[R[2]] } & { extra?: Record<string, unknown> };

/** What a field of `kind` must be, for the error message. */
function want(kind: Kind, V: number): string {
  const id = `a token id (an integer ${V < Infinity ? `in [0, ${V})` : '≥ 0'})`;
  return { id: `${id} or null`, ids: `${id}, a non-empty list of them, or null`, count: 'an integer ≥ 0', number: 'a finite number', bool: 'true or false', stopping: 'true, false or "never"' }[kind];
}

const isId = (v: unknown, V: number) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v < V;

function accepts(kind: Kind, v: unknown, V: number): boolean {
  switch (kind) {
    case 'id':
      return v === null || isId(v, V);
    case 'ids':
      return v === null || isId(v, V) || (Array.isArray(v) && v.length > 0 && v.every((id) => isId(id, V)));
    case 'count':
      return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
    case 'number':
      return typeof v === 'number' && Number.isFinite(v);
    case 'bool':
      return typeof v === 'boolean';
    case 'stopping':
      return typeof v === 'boolean' || v === 'never';
  }
}

/**
 * Parse a generation_config.json object. Ids must be below `vocabSize` when given. Throws
 * TransformerError CONFIG_INVALID naming the field for a value of the wrong type.
 */
export function fromHfGenerationConfig(json: unknown, vocabSize = Infinity): ModelGenerationConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw invalid('must hold a JSON object');
  const extra: Record<string, unknown> = { ...(json as Record<string, unknown>) };
  const out: Record<string, unknown> = {};
  for (const [hf, key, kind] of FIELDS) {
    const v = extra[hf];
    if (v === undefined || (v === null && kind !== 'id' && kind !== 'ids')) continue; // null for a setting = unset: kept in extra
    if (!accepts(kind, v, vocabSize)) throw invalid(`"${hf}" must be ${want(kind, vocabSize)}, got ${showValue(v)}`);
    out[key] = Array.isArray(v) ? [...(v as number[])] : v;
    delete extra[hf];
  }
  if (Object.keys(extra).length > 0) out.extra = extra;
  return out as ModelGenerationConfig;
}

/** generation_config.json for `gc` (keys sorted, as HF writes the file). */
export function toHfGenerationConfig(gc: ModelGenerationConfig): Record<string, unknown> {
  const json: Record<string, unknown> = { ...(gc.extra ?? {}) };
  for (const [hf, key] of FIELDS) {
    const v = gc[key];
    if (v !== undefined) json[hf] = Array.isArray(v) ? [...(v as number[])] : v;
  }
  return Object.fromEntries(Object.keys(json).sort().map((k) => [k, json[k]]));
}

/**
 * What save() writes when the model carries no generation config of its own: HF's
 * GenerationConfig.from_model_config — the special-token ids of config.json — or null when the
 * config sets neither bos nor eos.
 */
export function generationConfigFromModelConfig(cfg: ModelConfig): ModelGenerationConfig | null {
  if (cfg.bosTokenId === null && cfg.eosTokenId === null) return null;
  return { bosTokenId: cfg.bosTokenId, eosTokenId: cfg.eosTokenId, ...(cfg.padTokenId !== null ? { padTokenId: cfg.padTokenId } : {}), extra: { _from_model_config: true } };
}

/** Whether `gc` says anything (a field or an extra entry). */
export const hasGenerationConfig = (gc: ModelGenerationConfig | undefined): gc is ModelGenerationConfig =>
  gc !== undefined && Object.entries(gc).some(([k, v]) => v !== undefined && (k !== 'extra' || Object.keys(v as object).length > 0));

const invalid = (msg: string) => new TransformerError('CONFIG_INVALID', `generation_config.json: ${msg}.`);
