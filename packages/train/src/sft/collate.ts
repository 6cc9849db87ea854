/**
 * Batching SFT examples: right padding, next-token targets, attention masks, and length grouping.
 *
 *   const batch = collate(examples, { padId: 0 });          // flat typed arrays, row-major [B, T]
 *   const { inputs, targets, mask } = toTensors(batch);     // int32 [B, T] tensors + mask rows
 *   const logits = model.forward(inputs, { attentionMask: mask });   // [B, T, V]
 *   const loss = crossEntropy(logits, targets);             // mean over targets ≠ −100: the SFT loss
 *
 * Targets are already shifted (targets[b, t] is the token after position t), so the training loop
 * uses logits and targets as they are: no slicing.
 */
import { tf, Rng } from '@llm/tensor-gpu';
import { TrainError } from '../errors.js';
import { IGNORE_INDEX } from '@llm/tensor-gpu';
import type { TokenizedExample } from './examples.js';

export interface CollateOptions {
  /** Id written into padding positions of `inputs` (never a target: padded targets are −100). */
  padId: number;
  /** Cut longer examples to their first maxLength tokens first. Default: no cut. */
  maxLength?: number;
  /** 'longest' (default): T = longest example; a number: T fixed (an example longer than it is an error). */
  padTo?: 'longest' | number;
}

/** A batch as flat row-major arrays of shape [batch, length]. */
export interface Batch {
  /** [B, T] token ids, padId after each example's end. */
  inputs: Int32Array;
  /** [B, T] next-token targets: labels[t + 1], −100 at the last real position, in padding and where labels are −100. */
  targets: Int32Array;
  /** [B, T] 1 for real tokens, 0 for padding. */
  mask: Uint8Array;
  batch: number;
  length: number;
}

/**
 * Pads examples on the right into one batch. T = the longest example (or padTo): inputs keep every
 * token, and targets are the labels shifted left by one, so the last real position of each row
 * (which predicts nothing) and all padding get −100.
 *
 *   collate([{ ids: [5, 6, 7, 8], labels: [-100, -100, 7, 8] },
 *            { ids: [5, 9],       labels: [-100, 9] }], { padId: 0 })
 *   // batch 2, length 4
 *   // inputs  = [5, 6,    7,    8,     5,    9,    0,    0]
 *   // targets = [-100, 7, 8, -100,     9, -100, -100, -100]
 *   // mask    = [1, 1, 1, 1,           1, 1, 0, 0]
 *
 * targets[b, t] is what logits[b, t] must predict: `crossEntropy(logits, targets)` is the loss.
 */
export function collate(examples: readonly TokenizedExample[], opts: CollateOptions): Batch {
  checkCollateOptions(examples, opts);
  const rows = examples.map((ex, i) => cut(ex, i, opts.maxLength));
  const longest = Math.max(...rows.map((r) => r.ids.length));
  const length = opts.padTo === undefined || opts.padTo === 'longest' ? longest : opts.padTo;
  if (longest > length) {
    const i = rows.findIndex((r) => r.ids.length > length);
    throw new TrainError('INVALID_ARGUMENT', `collate: example ${i} has ${rows[i]!.ids.length} tokens, more than padTo ${length}. Set maxLength ≤ padTo to cut it.`);
  }
  const batch = rows.length;
  const inputs = new Int32Array(batch * length).fill(opts.padId); // [B, T]
  const targets = new Int32Array(batch * length).fill(IGNORE_INDEX); // [B, T]
  const mask = new Uint8Array(batch * length); // [B, T]
  rows.forEach((row, b) => {
    const offset = b * length;
    inputs.set(row.ids, offset);
    targets.set(shiftedTargets(row.labels), offset);
    mask.fill(1, offset, offset + row.ids.length);
  });
  return { inputs, targets, mask, batch, length };
}

/**
 * Next-token targets of one example: labels shifted left by one, −100 at the end.
 *
 *   shiftedTargets([-100, -100, 7, 8])   // → [-100, 7, 8, -100]
 */
export function shiftedTargets(labels: readonly number[]): number[] {
  return [...labels.slice(1), IGNORE_INDEX];
}

function checkCollateOptions(examples: readonly TokenizedExample[], opts: CollateOptions): void {
  if (examples.length === 0) throw new TrainError('INVALID_ARGUMENT', 'collate: no examples; pass at least one.');
  if (!Number.isInteger(opts.padId) || opts.padId < 0) {
    throw new TrainError('INVALID_ARGUMENT', `collate: padId must be a non-negative integer token id, got ${opts.padId}.`);
  }
  if (opts.maxLength !== undefined && !(Number.isInteger(opts.maxLength) && opts.maxLength >= 1)) {
    throw new TrainError('INVALID_ARGUMENT', `collate: maxLength must be a positive integer, got ${opts.maxLength}.`);
  }
  const { padTo } = opts;
  if (padTo !== undefined && padTo !== 'longest' && !(Number.isInteger(padTo) && padTo >= 1)) {
    throw new TrainError('INVALID_ARGUMENT', `collate: padTo must be 'longest' or a positive integer, got ${JSON.stringify(padTo)}.`);
  }
}

/** One example checked and cut to maxLength (keeping its start). */
function cut(ex: TokenizedExample, i: number, maxLength = Infinity): TokenizedExample {
  if (ex.ids.length === 0) throw new TrainError('INVALID_ARGUMENT', `collate: example ${i} has no tokens; drop it before batching.`);
  if (ex.ids.length !== ex.labels.length) {
    throw new TrainError('INVALID_ARGUMENT', `collate: example ${i} has ${ex.ids.length} ids but ${ex.labels.length} labels; they must align one to one.`);
  }
  if (ex.ids.length <= maxLength) return ex;
  return { ids: ex.ids.slice(0, maxLength), labels: ex.labels.slice(0, maxLength) };
}

/**
 * The batch as tensors for a model: int32 [B, T] inputs and targets, and the mask as rows of 0/1
 * (what `TransformerLM.forward(ids, { attentionMask })` takes). The caller disposes the tensors.
 *
 *   toTensors(collate([{ ids: [5, 9], labels: [-100, 9] }], { padId: 0, padTo: 3 }))
 *   // → { inputs: [[5, 9, 0]], targets: [[9, -100, -100]], mask: [[1, 1, 0]] }
 */
export function toTensors(batch: Batch): { inputs: tf.Tensor2D; targets: tf.Tensor2D; mask: number[][] } {
  const shape: [number, number] = [batch.batch, batch.length];
  const inputs = tf.tensor2d(batch.inputs, shape, 'int32'); // [B, T]
  const targets = tf.tensor2d(batch.targets, shape, 'int32'); // [B, T]
  const mask = Array.from({ length: batch.batch }, (_, b) => Array.from(batch.mask.subarray(b * batch.length, (b + 1) * batch.length)));
  return { inputs, targets, mask };
}

export interface GroupByLengthOptions {
  batchSize: number;
  /** Seed of the shuffles: the same seed gives the same batches. */
  seed: number;
  /** Examples sorted together (default 50 × batchSize): larger cuts more padding, smaller keeps more randomness. */
  windowSize?: number;
}

/**
 * Batches of example indices with similar lengths, to cut padding (HF's LengthGroupedSampler idea):
 * shuffle all indices, sort each window of `windowSize` by length (longest first), cut it into
 * batches, shuffle the batches, and put the batch holding the longest example first (so an
 * out-of-memory shows at the first step, not hours in). Every index appears exactly once; the
 * last batch of a window may be smaller.
 *
 *   groupByLength([5, 100, 7, 98], { batchSize: 2, seed: 0 })   // → [[1, 3], [2, 0]]
 */
export function groupByLength(lengths: ArrayLike<number>, opts: GroupByLengthOptions): number[][] {
  const { batchSize, seed, windowSize = 50 * batchSize } = opts;
  for (const [name, v] of [['batchSize', batchSize], ['windowSize', windowSize]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new TrainError('INVALID_ARGUMENT', `groupByLength: ${name} must be a positive integer, got ${v}.`);
  }
  const random = seededRandom(seed);
  const order = shuffle(Array.from({ length: lengths.length }, (_, i) => i), random);
  const batches: number[][] = [];
  for (let w = 0; w < order.length; w += windowSize) {
    const window = order.slice(w, w + windowSize).sort((a, b) => lengths[b]! - lengths[a]!);
    for (let s = 0; s < window.length; s += batchSize) batches.push(window.slice(s, s + batchSize));
  }
  shuffle(batches, random);
  const longest = maxOf(lengths);
  const first = batches.findIndex((batch) => batch.some((i) => lengths[i] === longest));
  if (first > 0) batches.unshift(...batches.splice(first, 1));
  return batches;
}

function maxOf(values: ArrayLike<number>): number {
  let m = -Infinity;
  for (let i = 0; i < values.length; i++) m = Math.max(m, values[i]!);
  return m;
}

/** Fisher–Yates in place. */
function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** The shared seeded PRNG (@llm/tensor-gpu), as a () => [0, 1) function. */
function seededRandom(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.next();
}
