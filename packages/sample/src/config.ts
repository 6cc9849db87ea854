/**
 * One GenerationConfig (HF's GenerationConfig): every generation setting, its default and its
 * check, in one place. `resolveGenerationConfig(options, modelDefaults)` takes each field from the
 * first of
 *
 *   1. the explicit options,
 *   2. the model's defaults (`modelGenerationDefaults(model)`: a checkpoint's generation_config.json,
 *      then config.json's eos id),
 *   3. GENERATION_DEFAULTS (the library's, below),
 *
 * checks the result (SampleError INVALID_ARGUMENT naming the option, its value and what is
 * allowed) and returns a complete, frozen GenerationConfig. generate / stream, beamSearch,
 * speculativeGenerate and buildProcessors each resolve once per call and read only the result;
 * resolving a resolved config gives it back unchanged.
 *
 *   const cfg = resolveGenerationConfig({ temperature: 0.7 }, { eosTokenId: [128001, 128009], topP: 0.9 });
 *   cfg.eosTokenId;     // [128001, 128009] — every id of the list stops generation
 *   cfg.topP;           // 0.9 (the model's)
 *   cfg.maxNewTokens;   // 256 (the library's)
 *
 * Two rules follow HF: a `maxNewTokens` given at a level drops a lower level's `maxLength`
 * (max_new_tokens takes precedence over max_length); `doSample: false` means greedy whatever the
 * temperature — except that an explicit `temperature > 0` in the options implies `doSample: true`,
 * so a user's temperature is never silently ignored because a checkpoint says do_sample = false.
 * List-valued options (logitBias, badWords, allowedTokens) are checked for shape here and, with the
 * model's vocabulary (generationConfigFor passes it), for ids outside it; their entries' values by
 * their processors when the chain is built (buildProcessors), in the same call. Size bounds are
 * SAMPLE_LIMITS (limits.ts).
 */
import type { CausalLMLike } from './model.js';
import { SAMPLE_LIMITS } from './limits.js';
import { invalid, requireFinite, requireInt, requireRange } from './processors/validate.js';

/** Sampling options (HF generation_config / OpenAI names in camelCase). All optional. */
export interface SamplingOptions {
  /** > 0 scales logits by 1/t; 0 = greedy (argmax). Default 1. */
  temperature?: number;
  /** Keep the k most likely tokens (ties kept); 0 = off (default). */
  topK?: number;
  /** Nucleus: keep the smallest top set with mass ≥ p, p in (0, 1]; 1 = off (default). */
  topP?: number;
  /** Keep tokens with prob ≥ minP · max prob, in [0, 1]; 0 = off (default). */
  minP?: number;
  /** Locally typical sampling mass in (0, 1]; 1 = off (default). */
  typicalP?: number;
  /** CTRL/HF repetition penalty > 0 over prompt + generated ids; 1 = off (default). */
  repetitionPenalty?: number;
  /** OpenAI frequency penalty over generated ids (finite; default 0). */
  frequencyPenalty?: number;
  /** OpenAI presence penalty over generated ids (finite; default 0). */
  presencePenalty?: number;
  /** Window for the penalties: the last N ids (repetition) / last N generated ids (frequency, presence). null = all (default). */
  penaltyLastN?: number | null;
  /** Ban repeating any n-gram of this size; 0 = off (default). */
  noRepeatNgramSize?: number;
  /** Token id → additive bias; −Infinity bans. */
  logitBias?: ReadonlyMap<number, number> | Readonly<Record<number, number>> | null;
  /** Token sequences that must not be generated ([t] bans t; [a, b] bans b after a). */
  badWords?: readonly (readonly number[])[];
  /** Only these token ids may be generated. null = all (default). */
  allowedTokens?: Iterable<number> | null;
}

/** Everything generation can be told, all optional (what a caller or a model gives). */
export interface GenerationOptions extends SamplingOptions {
  /** Tokens to generate at most per row. Default 256. */
  maxNewTokens?: number;
  /** Prompt + generated tokens at most; null = no such limit (default). */
  maxLength?: number | null;
  /** End-of-sequence id or ids: generation stops after emitting any of them (it is kept in the output). Default the model's. */
  eosTokenId?: number | readonly number[] | null;
  /** More ids that stop generation (kept in the output; finish reason "stop"). */
  stopTokenIds?: readonly number[];
  /** Stop when the decoded output contains one of these (needs a tokenizer); texts are cut before it. */
  stopStrings?: readonly string[];
  /** false = greedy; true (default) = sample from the processed distribution (temperature 0 is greedy too). */
  doSample?: boolean;
  /** Seed of sampling (row b of a batch draws from a stream derived from seed and b). Default 0. */
  seed?: number;
  /** Beams of beamSearch. Default 1. */
  numBeams?: number;
  /** beamSearch's length normalisation exponent (> 0 favours longer sequences). Default 1. */
  lengthPenalty?: number;
  /** beamSearch: true stops once numBeams hypotheses are finished; false (default) and HF's "never" use the heuristic. */
  earlyStopping?: boolean | 'never';
  /** Hypotheses beamSearch returns, in [1, numBeams]. Default 1. */
  numReturnSequences?: number;
  /** Tokens the draft model proposes per round in speculativeGenerate. Default 4. */
  numDraftTokens?: number;
}

/** A resolved configuration: every field set, checked, read-only. */
export type GenerationConfig = Readonly<Required<Omit<GenerationOptions, 'eosTokenId' | 'allowedTokens'>>> & {
  /** Every id that ends a sequence ([] = none). */
  readonly eosTokenId: readonly number[];
  readonly allowedTokens: readonly number[] | null;
};

/** What a model may carry as its generation defaults (plain data; extra fields are ignored). */
export type ModelGenerationDefaults = Readonly<GenerationOptions>;

/** The library defaults (level 3). Every sampling value here turns its processor off. */
export const GENERATION_DEFAULTS: GenerationConfig = Object.freeze({
  // length and stopping
  maxNewTokens: 256, maxLength: null, eosTokenId: [], stopTokenIds: [], stopStrings: [],
  // sampling: plain softmax sampling, seed 0
  doSample: true, seed: 0, temperature: 1, topK: 0, topP: 1, minP: 0, typicalP: 1,
  repetitionPenalty: 1, frequencyPenalty: 0, presencePenalty: 0, penaltyLastN: null, noRepeatNgramSize: 0,
  logitBias: null, badWords: [], allowedTokens: null,
  // beam search and speculative decoding
  numBeams: 1, lengthPenalty: 1, earlyStopping: false, numReturnSequences: 1, numDraftTokens: 4,
});

/**
 * The model's defaults: its `generationConfig` (a checkpoint's generation_config.json), with
 * config.json's eos id as the fallback when that has none (HF generates with generation_config's
 * eos_token_id when present).
 */
export function modelGenerationDefaults(model: Pick<CausalLMLike, 'config' | 'generationConfig'>): ModelGenerationDefaults {
  const gc = model.generationConfig ?? {};
  const eos = gc.eosTokenId !== undefined ? gc.eosTokenId : model.config.eosTokenId;
  return { ...gc, ...(eos !== undefined ? { eosTokenId: eos } : {}) };
}

/** The config generation runs with for `model`: resolveGenerationConfig(options, modelGenerationDefaults(model), { vocabSize }). */
export const generationConfigFor = (model: Pick<CausalLMLike, 'config' | 'generationConfig'>, options: GenerationOptions = {}): GenerationConfig =>
  resolveGenerationConfig(options, modelGenerationDefaults(model), { vocabSize: model.config.vocabSize });

/** What the resolver may know about the model beyond its defaults. */
export interface ResolveContext {
  /** The model's vocabulary: every token id of the config (eos, stop ids, logit bias, bad words, allowed tokens) must be below it. */
  vocabSize?: number;
}

/**
 * Merge options > model defaults > library defaults and check every field. Options may come from
 * an untrusted client: sizes are bounded (SAMPLE_LIMITS: beams, draft tokens, stop strings) and,
 * with `context.vocabSize`, every token id is checked against the vocabulary here, before anything
 * is allocated. `maxNewTokens` may be any positive integer: generation never allocates by it (it is
 * capped by the model's context).
 */
export function resolveGenerationConfig(options: GenerationOptions = {}, modelDefaults: ModelGenerationDefaults = {}, context: ResolveContext = {}): GenerationConfig {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) invalid(`generation options must be an object, got ${JSON.stringify(options)}`);
  if (modelDefaults === null || typeof modelDefaults !== 'object') invalid(`the model's generation defaults must be an object, got ${JSON.stringify(modelDefaults)}`);
  const model: ModelGenerationDefaults = options.maxNewTokens !== undefined && options.maxLength === undefined ? { ...modelDefaults, maxLength: undefined } : modelDefaults;
  const pick = <K extends keyof GenerationOptions>(k: K): unknown => (options[k] !== undefined ? options[k] : model[k] !== undefined ? model[k] : GENERATION_DEFAULTS[k as keyof GenerationConfig]);
  /** Where a field's value came from, for messages about a bad one the caller did not write. */
  const from = (k: keyof GenerationOptions): string => (options[k] === undefined && model[k] !== undefined ? " (from the model's generation config)" : '');
  const userSamples = options.doSample === undefined && typeof options.temperature === 'number' && options.temperature > 0;

  const temperature = requireFinite('temperature', pick('temperature') as number);
  if (temperature < 0) invalid(`temperature must be ≥ 0 (0 = greedy), got ${temperature}`);
  const repetitionPenalty = requireFinite('repetitionPenalty', pick('repetitionPenalty') as number);
  if (!(repetitionPenalty > 0)) invalid(`repetitionPenalty must be > 0 (1 = off), got ${repetitionPenalty}`);
  const penaltyLastN = pick('penaltyLastN') as number | null;
  const maxNewTokens = pick('maxNewTokens') as number;
  if (!Number.isInteger(maxNewTokens) || maxNewTokens < 1) invalid(`maxNewTokens must be a positive integer, got ${maxNewTokens}`);
  const maxLength = pick('maxLength') as number | null;
  if (maxLength !== null && (!Number.isInteger(maxLength) || maxLength < 1)) invalid(`maxLength must be a positive integer or null, got ${maxLength}`);
  const numBeams = pick('numBeams') as number;
  if (!Number.isInteger(numBeams) || numBeams < 1) invalid(`numBeams must be a positive integer, got ${numBeams}`);
  if (numBeams > SAMPLE_LIMITS.maxBeams) invalid(`numBeams must be at most ${SAMPLE_LIMITS.maxBeams} (each beam is a row of the KV cache), got ${numBeams}${from('numBeams')}`);
  const numReturnSequences = pick('numReturnSequences') as number;
  if (!Number.isInteger(numReturnSequences) || numReturnSequences < 1 || numReturnSequences > numBeams) invalid(`numReturnSequences must be in [1, numBeams = ${numBeams}], got ${numReturnSequences}`);
  const numDraftTokens = pick('numDraftTokens') as number;
  if (!Number.isInteger(numDraftTokens) || numDraftTokens < 1) invalid(`numDraftTokens must be a positive integer, got ${numDraftTokens}`);
  if (numDraftTokens > SAMPLE_LIMITS.maxDraftTokens) invalid(`numDraftTokens must be at most ${SAMPLE_LIMITS.maxDraftTokens}, got ${numDraftTokens}${from('numDraftTokens')}`);
  const doSample = userSamples ? true : pick('doSample');
  if (typeof doSample !== 'boolean') invalid(`doSample must be true or false, got ${String(doSample)}`);
  const earlyStopping = pick('earlyStopping');
  if (typeof earlyStopping !== 'boolean' && earlyStopping !== 'never') invalid(`earlyStopping must be true, false or "never", got ${String(earlyStopping)}`);
  const seed = pick('seed') as number;
  if (!Number.isSafeInteger(seed) || seed < 0) invalid(`seed must be an integer in [0, 2^53 − 1], got ${seed}${from('seed')}`);
  const stopStrings = pick('stopStrings') as readonly string[];
  if (!Array.isArray(stopStrings) || stopStrings.some((s) => typeof s !== 'string')) invalid(`stopStrings must be a list of strings, got ${JSON.stringify(stopStrings)?.slice(0, 200)}`);
  checkStopStrings(stopStrings, from('stopStrings'));
  const allowedIn = pick('allowedTokens');
  if (allowedIn !== null && (typeof allowedIn !== 'object' || typeof (allowedIn as Iterable<number>)[Symbol.iterator] !== 'function')) {
    invalid(`allowedTokens must be a list of token ids or null, got ${JSON.stringify(allowedIn)}`);
  }
  const allowed = allowedIn === null ? null : [...(allowedIn as Iterable<number>)];
  const logitBias = pick('logitBias');
  if (logitBias !== null && (typeof logitBias !== 'object' || Array.isArray(logitBias))) {
    invalid(`logitBias must be a Map or an object of token id → bias, or null; got ${JSON.stringify(logitBias)?.slice(0, 200)}`);
  }
  const badWords = pick('badWords');
  if (!Array.isArray(badWords) || badWords.some((w) => !Array.isArray(w))) {
    invalid(`badWords must be a list of token-id lists, e.g. [[42], [7, 8]]; got ${JSON.stringify(badWords)?.slice(0, 200)}`);
  }
  const eosTokenId = tokenIds('eosTokenId', pick('eosTokenId'));
  const stopTokenIds = tokenIds('stopTokenIds', pick('stopTokenIds'));
  const V = context.vocabSize;
  if (V !== undefined) {
    inVocab('eosTokenId', eosTokenId, V, from('eosTokenId'));
    inVocab('stopTokenIds', stopTokenIds, V, from('stopTokenIds'));
    if (allowed) inVocab('allowedTokens', allowed, V, from('allowedTokens'));
    for (const w of badWords as number[][]) inVocab('badWords', w, V, from('badWords'));
    if (logitBias !== null) inVocab('logitBias', biasIds(logitBias as NonNullable<GenerationOptions['logitBias']>), V, from('logitBias'));
  }

  return Object.freeze({
    maxNewTokens,
    maxLength,
    eosTokenId,
    stopTokenIds,
    stopStrings: [...stopStrings],
    doSample,
    seed,
    temperature,
    topK: requireInt('topK', pick('topK') as number, 0),
    topP: requireRange('topP', pick('topP') as number, 0, 1, { loOpen: true }),
    minP: requireRange('minP', pick('minP') as number, 0, 1),
    typicalP: requireRange('typicalP', pick('typicalP') as number, 0, 1, { loOpen: true }),
    repetitionPenalty,
    frequencyPenalty: requireFinite('frequencyPenalty', pick('frequencyPenalty') as number),
    presencePenalty: requireFinite('presencePenalty', pick('presencePenalty') as number),
    penaltyLastN: penaltyLastN === null ? null : requireInt('penaltyLastN', penaltyLastN, 0),
    noRepeatNgramSize: requireInt('noRepeatNgramSize', pick('noRepeatNgramSize') as number, 0),
    logitBias: logitBias as GenerationConfig['logitBias'],
    badWords: badWords as GenerationConfig['badWords'],
    allowedTokens: allowed,
    numBeams,
    lengthPenalty: requireFinite('lengthPenalty', pick('lengthPenalty') as number),
    earlyStopping,
    numReturnSequences,
    numDraftTokens,
  });
}

/** Whether a resolved config decodes greedily (doSample false or temperature 0). */
export const isGreedy = (cfg: GenerationConfig): boolean => !cfg.doSample || cfg.temperature === 0;

/**
 * Tokens a row may still generate: maxNewTokens, capped by maxLength and the model's context.
 * Throws when maxLength leaves nothing to generate after the prompt.
 */
export function tokenBudget(cfg: GenerationConfig, promptLength: number, blockSize: number, row = 0): number {
  if (cfg.maxLength !== null && cfg.maxLength <= promptLength) {
    invalid(`prompt ${row} has ${promptLength} tokens, which reaches maxLength (${cfg.maxLength}): nothing is left to generate. Raise maxLength or set maxNewTokens.`);
  }
  return Math.min(cfg.maxNewTokens, blockSize - promptLength, (cfg.maxLength ?? Infinity) - promptLength);
}

/** null → []; id → [id]; list → a copy. Every id an integer ≥ 0. */
function tokenIds(name: string, v: unknown): readonly number[] {
  const ids = v === null ? [] : typeof v === 'number' ? [v] : Array.isArray(v) ? [...(v as unknown[])] : null;
  if (ids === null || ids.some((id) => !Number.isInteger(id) || (id as number) < 0)) invalid(`${name} must be a token id (an integer ≥ 0), a list of them, or null; got ${JSON.stringify(v)?.slice(0, 200)}`);
  return ids as number[];
}

/** Every id of `ids` an integer in [0, V); `from` says where a value the caller did not write came from. */
function inVocab(name: string, ids: Iterable<number>, V: number, from: string): void {
  for (const id of ids) {
    if (!Number.isInteger(id) || id < 0 || id >= V) invalid(`${name}: token id ${id} is outside the model's vocabulary [0, ${V})${from}`);
  }
}

/** The token ids a logitBias names (a Map's keys, or a JSON object's keys as numbers). */
function biasIds(bias: NonNullable<GenerationOptions['logitBias']>): number[] {
  return bias instanceof Map ? [...bias.keys()] : Object.keys(bias).map(Number);
}

/** Stop strings: non-empty (an empty one would match everywhere), at most SAMPLE_LIMITS.maxStopStrings of SAMPLE_LIMITS.maxStopStringLength characters. */
function checkStopStrings(stops: readonly string[], from: string): void {
  const { maxStopStrings, maxStopStringLength } = SAMPLE_LIMITS;
  if (stops.length > maxStopStrings) invalid(`stopStrings: at most ${maxStopStrings} stop strings, got ${stops.length}${from}`);
  stops.forEach((s, i) => {
    if (s.length === 0) invalid(`stopStrings[${i}] is empty: a stop string needs at least one character${from}`);
    if (s.length > maxStopStringLength) invalid(`stopStrings[${i}] has ${s.length} characters; at most ${maxStopStringLength}${from}`);
  });
}
