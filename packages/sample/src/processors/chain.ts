/**
 * The default sampler chain: `buildProcessors(options)` turns sampling options into an ordered list
 * of processors and `applyProcessors` runs them on one row. The order is
 *
 *   1. context-dependent: repetition penalty → frequency/presence penalty → no-repeat n-gram →
 *      bad words → allowed tokens → logit bias
 *   2. temperature (or GreedyProcessor when temperature = 0)
 *   3. truncation warpers: top-k → top-p → min-p → typical-p
 *
 * Stage 1 then 2 then 3 follows HF transformers' `GenerationMixin._get_logits_processor`
 * (generation/utils.py, checked at commit 000034a44ef8): the score processors (repetition penalty,
 * no-repeat n-gram, bad words, …) are appended first, and only then, when sampling, the former
 * "warpers" in the order temperature, top_k, top_p, min_p, typical_p — min_p explicitly after
 * temperature ("Applied after temperature scaling", llama.cpp PR 3841). Within stage 1 the brief's
 * order is used; frequency/presence sits right after the repetition penalty as in llama.cpp's
 * penalties sampler, and logit bias comes last so it is an exact additive offset on the final
 * pre-temperature logit and cannot un-ban a token (−Infinity + b = −Infinity).
 * Temperature 0 (or doSample false) means greedy: the chain ends with GreedyProcessor (only the
 * first argmax survives) and the warpers are skipped, as HF skips them when do_sample = False.
 * A value that turns a step off (temperature 1, topK 0, topP 1, minP 0, typicalP 1,
 * repetitionPenalty 1, both penalties 0, noRepeatNgramSize 0) adds no processor, as in HF.
 *
 *   const chain = buildProcessors({ temperature: 0.7, topK: 40, topP: 0.9, repetitionPenalty: 1.1 });
 *   // → [RepetitionPenalty(1.1), Temperature(0.7), TopK(40), TopP(0.9)]
 *   const next = sampleToken(applyProcessors(logits, chain, { ids, promptLength }), rng);
 */
import { isGreedy, resolveGenerationConfig, type GenerationConfig, type SamplingOptions } from '../config.js';
import { SampleError } from '../errors.js';
import { assertValidLogits } from '../sampling.js';
import type { LogitsProcessor, SampleContext } from '../types.js';
import { AllowedTokensProcessor } from './allowed-tokens.js';
import { BadWordsProcessor } from './bad-words.js';
import { FrequencyPresencePenaltyProcessor } from './frequency-presence-penalty.js';
import { GreedyProcessor } from './greedy.js';
import { LogitBiasProcessor } from './logit-bias.js';
import { MinPProcessor } from './min-p.js';
import { NoRepeatNGramProcessor } from './no-repeat-ngram.js';
import { RepetitionPenaltyProcessor } from './repetition-penalty.js';
import { TemperatureProcessor } from './temperature.js';
import { TopKProcessor } from './top-k.js';
import { TopPProcessor } from './top-p.js';
import { TypicalPProcessor } from './typical-p.js';

export type { SamplingOptions } from '../config.js';

/**
 * Checks `opts` (through resolveGenerationConfig: SampleError('INVALID_ARGUMENT') naming the bad
 * option) and returns the chain in the documented order. A resolved GenerationConfig is accepted
 * as it is; its `doSample: false` gives the greedy chain like temperature 0.
 *
 *   buildProcessors({});                      // []   (plain sampling from softmax(logits))
 *   buildProcessors({ temperature: 0 });      // [GreedyProcessor]
 *   buildProcessors({ topP: 1.5 });           // throws "topP must be in (0, 1], got 1.5"
 */
export function buildProcessors(opts: SamplingOptions | GenerationConfig = {}): LogitsProcessor[] {
  const c = resolveGenerationConfig(opts);
  const { temperature, topK, topP, minP, typicalP, repetitionPenalty, noRepeatNgramSize: ngram } = c;
  const [frequency, presence, lastN] = [c.frequencyPenalty, c.presencePenalty, c.penaltyLastN ?? undefined];

  const chain: LogitsProcessor[] = [];
  // 1. context-dependent processors
  if (repetitionPenalty !== 1) chain.push(new RepetitionPenaltyProcessor(repetitionPenalty, { lastN }));
  if (frequency !== 0 || presence !== 0) {
    chain.push(new FrequencyPresencePenaltyProcessor({ frequency, presence, lastN }));
  }
  if (ngram > 0) chain.push(new NoRepeatNGramProcessor(ngram));
  if (c.badWords.length > 0) chain.push(new BadWordsProcessor(c.badWords));
  if (c.allowedTokens !== null) chain.push(new AllowedTokensProcessor(c.allowedTokens));
  if (c.logitBias !== null) {
    const bias = new LogitBiasProcessor(c.logitBias);
    if (bias.bias.size > 0) chain.push(bias);
  }
  // 2. temperature; 0 = greedy, which makes the warpers pointless (HF skips them without do_sample)
  if (isGreedy(c)) {
    chain.push(new GreedyProcessor());
    return chain;
  }
  if (temperature !== 1) chain.push(new TemperatureProcessor(temperature));
  // 3. truncation warpers, in HF's order
  if (topK > 0) chain.push(new TopKProcessor(topK));
  if (topP < 1) chain.push(new TopPProcessor(topP));
  if (minP > 0) chain.push(new MinPProcessor(minP));
  if (typicalP < 1) chain.push(new TypicalPProcessor(typicalP));
  return chain;
}

/**
 * Runs `processors` in order on `logits` (in place) and returns the same array. Rejects NaN or
 * +Infinity logits, an empty row, or a row already all −Infinity, and a `ctx.promptLength` outside
 * [0, ids.length].
 *
 *   applyProcessors(Float32Array.of(1, 2, 3), [new TopKProcessor(1)], { ids: [], promptLength: 0 });
 *   // → [-Inf, -Inf, 3]
 */
export function applyProcessors(
  logits: Float32Array,
  processors: readonly LogitsProcessor[],
  ctx: SampleContext,
): Float32Array {
  assertValidLogits(logits);
  if (!Number.isInteger(ctx.promptLength) || ctx.promptLength < 0 || ctx.promptLength > ctx.ids.length) {
    throw new SampleError(
      'INVALID_ARGUMENT',
      `ctx.promptLength must be an integer in [0, ids.length = ${ctx.ids.length}], got ${ctx.promptLength}`,
    );
  }
  for (const p of processors) p.process(logits, ctx);
  return logits;
}
