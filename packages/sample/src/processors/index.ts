/**
 * Logits processors and the default chain (re-exported by the package index).
 *
 *   import { buildProcessors, applyProcessors } from './processors/index.js';
 */
export { AllowedTokensProcessor } from './allowed-tokens.js';
export { BadWordsProcessor } from './bad-words.js';
export { applyProcessors, buildProcessors, type SamplingOptions } from './chain.js';
export {
  FrequencyPresencePenaltyProcessor,
  type FrequencyPresencePenaltyOptions,
} from './frequency-presence-penalty.js';
export { GreedyProcessor } from './greedy.js';
export { LogitBiasProcessor } from './logit-bias.js';
export { MinPProcessor, type MinPOptions } from './min-p.js';
export { NoRepeatNGramProcessor } from './no-repeat-ngram.js';
export { RepetitionPenaltyProcessor, type RepetitionPenaltyOptions } from './repetition-penalty.js';
export { TemperatureProcessor } from './temperature.js';
export { TopKProcessor, type TopKOptions } from './top-k.js';
export { TopPProcessor, type TopPOptions } from './top-p.js';
export { TypicalPProcessor, type TypicalPOptions } from './typical-p.js';
