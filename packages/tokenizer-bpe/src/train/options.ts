/**
 * Checks and normalises the options of `trainBpe`, so the training code can trust them.
 *
 *   resolveTrainOptions({ vocabSize: 300, specialTokens: ['<|endoftext|>'] })
 *   // → { vocabSize: 300, maxNewTokens: 43, specials: [['<|endoftext|>', undefined]], ... }
 */
import { TokenizerError } from '../errors.js';
import { type TokenizerLimits, limitExceeded, resolveLimits } from '../limits.js';
import { SafePattern } from '../pattern/safe-pattern.js';
import { CL100K_PATTERN, GPT2_PATTERN, O200K_PATTERN } from '../patterns.js';
import type { PieceSplitter } from './pretokenize.js';

/** The default training pattern: GPT-2's (patterns.ts, with tiktoken's whitespace semantics). */
export const DEFAULT_TRAIN_PATTERN = GPT2_PATTERN;

/** Progress report: `merges` new tokens made so far out of `total` wanted. */
export interface TrainProgress {
  merges: number;
  total: number;
  phase: 'count' | 'merge';
  /** In the 'count' phase: how many input chunks have been pre-tokenized so far. */
  chunks?: number;
}

export interface TrainOptions {
  /** Total vocabulary: 256 byte tokens + merged tokens + special tokens. */
  vocabSize: number;
  /** Pre-tokenization regex source (JS syntax, compiled with 'gu'); default GPT-2's. */
  pattern?: string;
  /** Special tokens: a list (ids follow the last merge) or text → explicit id. */
  specialTokens?: string[] | Record<string, number>;
  /** Stop early when the most frequent pair occurs fewer times than this (default 1). */
  minFrequency?: number;
  /** Name stored in the definition (default 'bpe'). */
  name?: string;
  onProgress?: (p: TrainProgress) => void;
  /**
   * Overrides of TOKENIZER_LIMITS: `maxVocabSize` bounds vocabSize and explicit special ids,
   * `maxSpecialTokens` / `maxSpecialTokenLength` the special tokens, the pattern limits the pattern.
   */
  limits?: Partial<TokenizerLimits>;
}

export interface ResolvedTrainOptions {
  vocabSize: number;
  pattern: string;
  /** Splits text into pieces: a RegExp for the built-in patterns, the linear-time matcher for others. */
  splitter: PieceSplitter;
  /** [text, explicit id or undefined], in the order given. */
  specials: Array<[string, number | undefined]>;
  /** vocabSize − 256 − number of specials. */
  maxNewTokens: number;
  minFrequency: number;
  name: string;
  onProgress: ((p: TrainProgress) => void) | undefined;
}

function invalid(message: string): TokenizerError {
  return new TokenizerError('INVALID_ARGUMENT', `trainBpe: ${message}`);
}

/**
 * Validates `opts`; every problem is a TokenizerError('INVALID_ARGUMENT') naming the option.
 *
 *   resolveTrainOptions({ vocabSize: 255 })  // throws: vocabSize must be an integer ≥ 256 …
 */
export function resolveTrainOptions(opts: TrainOptions): ResolvedTrainOptions {
  if (opts === null || typeof opts !== 'object') throw invalid('options must be an object');
  const limits = resolveLimits(opts.limits);
  const specials = resolveSpecials(opts.specialTokens, limits);
  const vocabSize = opts.vocabSize;
  const min = 256 + specials.length;
  if (!Number.isInteger(vocabSize) || vocabSize < min) {
    throw invalid(
      `vocabSize must be an integer ≥ ${min} (256 bytes + ${specials.length} special tokens), got ${String(vocabSize)}`,
    );
  }
  if (vocabSize > limits.maxVocabSize) throw limitExceeded(`trainBpe: vocabSize is ${vocabSize}`, limits.maxVocabSize, 'maxVocabSize');
  const maxNewTokens = vocabSize - min;
  checkExplicitIds(specials, 256 + maxNewTokens, limits);
  const pattern = opts.pattern ?? DEFAULT_TRAIN_PATTERN;
  return {
    vocabSize,
    pattern,
    splitter: compileTrainPattern(pattern, limits),
    specials,
    maxNewTokens,
    minFrequency: resolveMinFrequency(opts.minFrequency),
    name: resolveName(opts.name),
    onProgress: resolveProgress(opts.onProgress),
  };
}

function resolveSpecials(given: TrainOptions['specialTokens'], limits: TokenizerLimits): Array<[string, number | undefined]> {
  if (given === undefined) return [];
  if (given === null || typeof given !== 'object') {
    throw invalid('specialTokens must be an array of strings or an object { text: id }');
  }
  const count = Array.isArray(given) ? given.length : Object.keys(given).length;
  if (count > limits.maxSpecialTokens) throw limitExceeded(`trainBpe: ${count} special tokens`, limits.maxSpecialTokens, 'maxSpecialTokens');
  const entries: Array<[string, number | undefined]> = Array.isArray(given)
    ? given.map((t: string) => [t, undefined])
    : Object.entries(given);
  const seen = new Set<string>();
  for (const [text, id] of entries) {
    if (typeof text !== 'string' || text.length === 0)
      throw invalid('special tokens must be non-empty strings');
    if (text.length > limits.maxSpecialTokenLength) {
      throw limitExceeded(`trainBpe: a special token of ${text.length} characters`, limits.maxSpecialTokenLength, 'maxSpecialTokenLength');
    }
    if (seen.has(text)) throw invalid(`special token ${JSON.stringify(text)} is listed twice`);
    seen.add(text);
    if (id !== undefined && (!Number.isInteger(id) || id < 0)) {
      throw invalid(
        `special token ${JSON.stringify(text)} has id ${String(id)}; ids must be non-negative integers`,
      );
    }
  }
  return entries;
}

/** Explicit ids must be distinct, clear of every rank training may assign (< firstFree) and below maxVocabSize. */
function checkExplicitIds(specials: Array<[string, number | undefined]>, firstFree: number, limits: TokenizerLimits): void {
  const ids = new Set<number>();
  for (const [text, id] of specials) {
    if (id === undefined) continue;
    if (id >= limits.maxVocabSize) {
      throw limitExceeded(`trainBpe: special token ${JSON.stringify(text)} has id ${id}`, limits.maxVocabSize, 'maxVocabSize');
    }
    if (id < firstFree) {
      throw invalid(
        `special token ${JSON.stringify(text)} has id ${id}, which collides with the byte/merge ranks 0..${
          firstFree - 1
        }`,
      );
    }
    if (ids.has(id)) throw invalid(`special token id ${id} is used twice`);
    ids.add(id);
  }
}

/**
 * The piece splitter for `pattern`: a RegExp (flags 'gu') for the built-in patterns, the
 * linear-time matcher for any other; INVALID_ARGUMENT for bad syntax, UNSAFE_PATTERN when refused.
 *
 *   compileTrainPattern('\\p{L}+', TOKENIZER_LIMITS)   // SafePattern
 */
export function compileTrainPattern(pattern: string, limits: TokenizerLimits): PieceSplitter {
  if (typeof pattern !== 'string' || pattern.length === 0)
    throw invalid('pattern must be a non-empty regex source');
  if (pattern === GPT2_PATTERN || pattern === CL100K_PATTERN || pattern === O200K_PATTERN) return new RegExp(pattern, 'gu');
  try {
    return new SafePattern(pattern, limits);
  } catch (err) {
    if (err instanceof TokenizerError && err.code === 'INVALID_ARGUMENT') {
      throw new TokenizerError('INVALID_ARGUMENT', `trainBpe: bad pattern: ${err.message}`, { cause: err });
    }
    throw err;
  }
}

function resolveMinFrequency(v: number | undefined): number {
  if (v === undefined) return 1;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw invalid(`minFrequency must be a finite number ≥ 0, got ${String(v)}`);
  }
  return Math.max(1, v);
}

function resolveName(v: string | undefined): string {
  if (v === undefined) return 'bpe';
  if (typeof v !== 'string') throw invalid('name must be a string');
  return v;
}

function resolveProgress(v: TrainOptions['onProgress']): ResolvedTrainOptions['onProgress'] {
  if (v !== undefined && typeof v !== 'function') throw invalid('onProgress must be a function');
  return v;
}
