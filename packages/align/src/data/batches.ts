/**
 * Batch sources for the objectives, each a seeded, resumable EpochSampler:
 *
 *   pairSource(pairs, { batchSize: 4, seed: 1, padId: 0 })
 *     → PairBatch: chosen rows 0…B−1 then rejected rows B…2B−1 in ONE [2B, T] forward (TRL's
 *       concatenated_forward), with per-pair margin and precomputed reference log-probs when present.
 *   unpairedSource(rows, { …, maxLength })
 *     → KtoBatch: the B rows, then B KL rows (prompt i with completion i−1 of the same batch, TRL's
 *       `_get_kl_dataset` shift by one), [2B, T].
 *   textSource(texts, { … })  → TextBatch for classifiers / regressors: ids [B, T], labels or targets.
 *
 * Dimension legend: B examples, T longest row.
 */
import { AlignError } from '../errors.js';
import { collateIds, collateRows, type Rows } from './collate.js';
import { EpochSampler, type SamplerOptions } from './sampler.js';
import type { TokenizedPair, TokenizedUnpaired } from './tokenize.js';

export interface BatchOptions extends SamplerOptions {
  /** Id written into padding (never a target). */
  padId: number;
}

/** A tokenized pair, plus its reference log-probs once precomputed (precomputeReferenceLogps). */
export interface PairExample extends TokenizedPair {
  refChosen?: number;
  refRejected?: number;
}

export interface PairBatch extends Rows {
  kind: 'pair';
  /** B: pairs in the batch (rows = 2B). */
  pairs: number;
  margin?: Float32Array; // [B]
  refChosen?: Float32Array; // [B]
  refRejected?: Float32Array; // [B]
  /** Example indices (into the source's examples). */
  indices: number[];
}

export function collatePairs(examples: readonly PairExample[], padId: number, indices: number[] = examples.map((_, i) => i)): PairBatch {
  checkPad(padId);
  const rows = [...examples.map((e) => ({ promptIds: e.promptIds, responseIds: e.chosenIds })), ...examples.map((e) => ({ promptIds: e.promptIds, responseIds: e.rejectedIds }))];
  const out: PairBatch = { kind: 'pair', ...collateRows(rows, padId), pairs: examples.length, indices };
  if (examples.some((e) => e.margin !== undefined)) out.margin = Float32Array.from(examples, (e) => e.margin ?? 0);
  const refs = examples.filter((e) => e.refChosen !== undefined && e.refRejected !== undefined).length;
  if (refs === examples.length) {
    out.refChosen = Float32Array.from(examples, (e) => e.refChosen!);
    out.refRejected = Float32Array.from(examples, (e) => e.refRejected!);
  } else if (refs > 0) {
    throw new AlignError('INVALID_ARGUMENT', 'collatePairs: some examples carry precomputed reference log-probs and some do not; precompute them for all.');
  }
  return out;
}

const pairIds = (e: PairExample) => [e.promptIds, e.chosenIds, e.rejectedIds, e.margin ?? 0, e.refChosen ?? 0, e.refRejected ?? 0];

export function pairSource(examples: readonly PairExample[], opts: BatchOptions): EpochSampler<PairExample, PairBatch> {
  return new EpochSampler(examples, opts, 'pairs', (rows, idx) => collatePairs(rows, opts.padId, idx), pairIds);
}

export interface KtoBatch extends Rows {
  kind: 'kto';
  /** B: examples (rows = 2B: the examples, then their KL rows). */
  examples: number;
  /** [B] 1 desirable, 0 undesirable. */
  labels: Uint8Array;
  indices: number[];
}

/** KL rows: prompt i + completion (i − 1 mod B); the completion is cut to fit maxLength after prompt i. */
export function collateUnpaired(examples: readonly TokenizedUnpaired[], padId: number, opts: { maxLength?: number } = {}, indices: number[] = examples.map((_, i) => i)): KtoBatch {
  checkPad(padId);
  const B = examples.length;
  const room = (p: readonly number[]) => (opts.maxLength === undefined ? Infinity : Math.max(1, opts.maxLength - p.length));
  const rows = [
    ...examples.map((e) => ({ promptIds: e.promptIds, responseIds: e.completionIds })),
    ...examples.map((e, i) => ({ promptIds: e.promptIds, responseIds: examples[(i - 1 + B) % B]!.completionIds.slice(0, room(e.promptIds)) })),
  ];
  return { kind: 'kto', ...collateRows(rows, padId), examples: B, labels: Uint8Array.from(examples, (e) => (e.label ? 1 : 0)), indices };
}

export function unpairedSource(examples: readonly TokenizedUnpaired[], opts: BatchOptions & { maxLength?: number }): EpochSampler<TokenizedUnpaired, KtoBatch> {
  const { maxLength } = opts;
  return new EpochSampler(examples, opts, 'unpaired', (rows, idx) => collateUnpaired(rows, opts.padId, maxLength === undefined ? {} : { maxLength }, idx), (e) => [e.promptIds, e.completionIds, e.label ? 1 : 0]);
}

/** A text for a classifier (label) or regressor (target). */
export interface TextExample {
  ids: number[];
  label?: number;
  target?: number;
  source?: string;
}

export interface TextBatch extends Omit<Rows, 'targets'> {
  kind: 'text';
  labels?: Int32Array; // [B]
  targets?: Float32Array; // [B]
  indices: number[];
}

export function collateText(examples: readonly TextExample[], padId: number, indices: number[] = examples.map((_, i) => i)): TextBatch {
  checkPad(padId);
  const empty = examples.findIndex((e) => e.ids.length === 0);
  if (empty >= 0) throw new AlignError('DATA_INVALID', `${examples[empty]!.source ?? `example ${empty}`}: the text has no tokens.`);
  const out: TextBatch = { kind: 'text', ...collateIds(examples.map((e) => e.ids), padId), indices };
  if (examples.every((e) => e.label !== undefined)) out.labels = Int32Array.from(examples, (e) => e.label!);
  if (examples.every((e) => e.target !== undefined)) out.targets = Float32Array.from(examples, (e) => e.target!);
  return out;
}

export function textSource(examples: readonly TextExample[], opts: BatchOptions): EpochSampler<TextExample, TextBatch> {
  return new EpochSampler(examples, opts, 'text', (rows, idx) => collateText(rows, opts.padId, idx), (e) => [e.ids, e.label ?? -1, e.target ?? 0]);
}

function checkPad(padId: number): void {
  if (!(Number.isInteger(padId) && padId >= 0)) throw new AlignError('CONFIG_INVALID', `padId must be a non-negative integer token id, got ${padId}.`);
}
