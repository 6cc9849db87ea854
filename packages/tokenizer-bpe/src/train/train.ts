/**
 * Byte-level BPE training: text in, TokenizerDefinition out.
 *
 *   const def = await trainBpe('aaabdaaabac', { vocabSize: 259 });
 *   def.ranks.get('aa')   // 256     def.ranks.get('ab')  // 257     def.ranks.get('aaab')  // 258
 *
 * Algorithm (as in HF tokenizers, not minbpe's recount-everything loop):
 *  1. Each input chunk is split around special-token text (which is dropped), then pre-tokenized
 *     with the pattern; identical pieces are counted once, as UTF-8 byte sequences ("words").
 *  2. Pair counts are built once over the unique words, each pair keeping the words it occurs in.
 *  3. A max-heap yields the best pair (lazy invalidation: a popped entry whose count is stale is
 *     requeued); the merge rewrites only the words holding the pair and adjusts the counts of the
 *     neighbouring pairs. Cost grows with the number of unique words, not corpus size.
 *
 * Tie-break, precisely: the pair with the highest count wins (count = adjacent occurrences,
 * overlapping ones included, summed over words × word frequency); among equal counts, the pair
 * (left id, right id) that is smallest, comparing left ids first, then right ids. Byte tokens
 * have id = byte value, merged tokens 256, 257, … in merge order, so the result is a pure
 * function of the input text and options. Occurrences are replaced left to right.
 *
 * A merge whose bytes equal an existing token (a different split of the same string) reuses that
 * token's id and adds no rank. Training stops at `vocabSize`, when no pair is left, or when the
 * best count is below `minFrequency`, so the vocabulary can come out smaller than asked.
 * Special tokens get ids right after the last merged token unless given explicit ids.
 */
import { TokenizerError } from '../errors.js';
import type { TokenizerDefinition } from '../definition.js';
import { learnMerges } from './learn-merges.js';
import { resolveTrainOptions, type ResolvedTrainOptions, type TrainOptions } from './options.js';
import { WordCounter } from './pretokenize.js';
import { TrainingVocab, buildDefinition, type Merge } from './vocab.js';
import { WordStore } from './words.js';

export type { TrainOptions, TrainProgress } from './options.js';

/** A definition plus the merge history that produced it (`merges[i].id` may repeat an id). */
export interface TrainResult {
  definition: TokenizerDefinition;
  merges: Merge[];
}

/**
 * Trains on a string, or on chunks from a sync or async iterable (each chunk is pre-tokenized on
 * its own: pass whole documents or lines, not arbitrary byte slices).
 *
 *   const def = await trainBpe(readDocuments(), { vocabSize: 8192, specialTokens: ['<|endoftext|>'] });
 *   // readDocuments(): an AsyncIterable<string> of whole documents
 */
export async function trainBpe(
  input: string | Iterable<string> | AsyncIterable<string>,
  opts: TrainOptions,
): Promise<TokenizerDefinition> {
  const resolved = resolveTrainOptions(opts);
  const counter = newCounter(resolved);
  if (typeof input !== 'string' && isAsyncIterable(input)) {
    for await (const chunk of input) addChunk(counter, chunk, resolved);
  } else {
    countSync(counter, input, resolved);
  }
  return learnFromCounts(counter.counts, resolved).definition;
}

/**
 * The synchronous version of `trainBpe` for a string or a sync iterable of strings.
 *
 *   trainBpeSync(['hello world', 'hello there'], { vocabSize: 300 }).ranks.get('hello')  // 259
 */
export function trainBpeSync(input: string | Iterable<string>, opts: TrainOptions): TokenizerDefinition {
  return trainBpeWithMerges(input, opts).definition;
}

/**
 * `trainBpeSync` that also returns the merge list, in order (for tests and inspection).
 *
 *   trainBpeWithMerges('abab', { vocabSize: 258 }).merges
 *   // [{ left: 97, right: 98, id: 256 }, { left: 256, right: 256, id: 257 }]
 */
export function trainBpeWithMerges(input: string | Iterable<string>, opts: TrainOptions): TrainResult {
  const resolved = resolveTrainOptions(opts);
  const counter = newCounter(resolved);
  countSync(counter, input, resolved);
  return learnFromCounts(counter.counts, resolved);
}

/**
 * Runs the merge loop on piece counts (piece text → occurrences) and assembles the definition.
 *
 *   learnFromCounts(new Map([['ab', 5]]), resolveTrainOptions({ vocabSize: 257 })).merges
 *   // [{ left: 97, right: 98, id: 256 }]
 */
export function learnFromCounts(
  counts: ReadonlyMap<string, number>,
  opts: ResolvedTrainOptions,
): TrainResult {
  const vocab = new TrainingVocab();
  const total = opts.maxNewTokens;
  const report = opts.onProgress;
  const every = Math.max(1, Math.floor(total / 200));
  report?.({ merges: 0, total, phase: 'merge' });
  const merges = learnMerges(WordStore.fromCounts(counts), vocab, {
    maxNewTokens: total,
    minFrequency: opts.minFrequency,
    onNewToken:
      report && ((n) => (n % every === 0 || n === total) && report({ merges: n, total, phase: 'merge' })),
  });
  const done = vocab.size - 256;
  if (report && done !== total) report({ merges: done, total, phase: 'merge' }); // stopped early
  return { definition: buildDefinition(vocab, opts.specials, opts.name, opts.pattern), merges };
}

function newCounter(opts: ResolvedTrainOptions): WordCounter {
  return new WordCounter(
    opts.splitter,
    opts.specials.map(([text]) => text),
  );
}

function countSync(counter: WordCounter, input: string | Iterable<string>, opts: ResolvedTrainOptions): void {
  if (typeof input === 'string') addChunk(counter, input, opts);
  else if (input !== null && typeof input === 'object' && Symbol.iterator in input) {
    for (const chunk of input) addChunk(counter, chunk, opts);
  } else
    throw new TokenizerError(
      'INVALID_ARGUMENT',
      'trainBpe: input must be a string or an iterable of strings',
    );
}

function addChunk(counter: WordCounter, chunk: unknown, opts: ResolvedTrainOptions): void {
  if (typeof chunk !== 'string') {
    throw new TokenizerError(
      'INVALID_ARGUMENT',
      `trainBpe: input chunks must be strings, got ${typeof chunk}`,
    );
  }
  counter.add(chunk);
  opts.onProgress?.({ merges: 0, total: opts.maxNewTokens, phase: 'count', chunks: counter.chunks });
}

function isAsyncIterable(x: unknown): x is AsyncIterable<string> {
  return x !== null && typeof x === 'object' && Symbol.asyncIterator in x;
}
