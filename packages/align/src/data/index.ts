// Data: JSONL rows, validation, tokenization with TRL's truncation, resumable batch sources.
export { readJsonl, parseJsonl, type JsonlOptions, type RowValidator } from './jsonl.js';
export {
  validatePreferenceRow, validateUnpairedRow, validatePromptRow, validateClassificationRow, validateRegressionRow,
  type Turns, type PreferenceRecord, type UnpairedRecord, type PromptRecord, type ClassificationRecord, type RegressionRecord,
} from './records.js';
export {
  tokenizePreference, tokenizeUnpaired, tokenizePrompt, tokenizeText, truncateRow, resolveEos, labelIndex,
  type TokenizeRowOptions, type TokenizedPair, type TokenizedCompletion, type TokenizedUnpaired, type TokenizedText,
} from './tokenize.js';
export { collateRows, collateIds, maskRows, type Rows } from './collate.js';
export { EpochSampler, type SamplerOptions } from './sampler.js';
export {
  collatePairs, pairSource, collateUnpaired, unpairedSource, collateText, textSource,
  type BatchOptions, type PairExample, type PairBatch, type KtoBatch, type TextExample, type TextBatch,
} from './batches.js';
