/**
 * Argument checks shared by the processors (internal). Each throws SampleError('INVALID_ARGUMENT')
 * with a message naming the option, its value and the allowed range.
 *
 *   requireInt('topK', 2.5, 1);   // throws "topK must be an integer ≥ 1, got 2.5"
 */
import { SampleError } from '../errors.js';

export function invalid(message: string): never {
  throw new SampleError('INVALID_ARGUMENT', message);
}

/** An integer ≥ `min`. */
export function requireInt(name: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min) invalid(`${name} must be an integer ≥ ${min}, got ${value}`);
  return value;
}

/** A finite number. */
export function requireFinite(name: string, value: number): number {
  if (!Number.isFinite(value)) invalid(`${name} must be a finite number, got ${value}`);
  return value;
}

/** A number in the interval described by `lo`/`hi` and their open/closed ends. */
export function requireRange(
  name: string,
  value: number,
  lo: number,
  hi: number,
  { loOpen = false, hiOpen = false }: { loOpen?: boolean; hiOpen?: boolean } = {},
): number {
  const okLo = loOpen ? value > lo : value >= lo;
  const okHi = hiOpen ? value < hi : value <= hi;
  if (!(okLo && okHi)) {
    invalid(`${name} must be in ${loOpen ? '(' : '['}${lo}, ${hi}${hiOpen ? ')' : ']'}, got ${value}`);
  }
  return value;
}

/** A token id that indexes a row of `vocabSize` logits. */
export function requireTokenId(name: string, id: number, vocabSize: number): number {
  if (!Number.isInteger(id) || id < 0 || id >= vocabSize) {
    invalid(`${name}: token id ${id} is outside the vocabulary [0, ${vocabSize}); check ids against the model's vocab`);
  }
  return id;
}

/** The last `lastN` of `ids[from:]` (all of them when lastN is undefined). */
export function tailWindow(ids: readonly number[], from: number, lastN: number | undefined): readonly number[] {
  const start = lastN === undefined ? from : Math.max(from, ids.length - lastN);
  return ids.slice(start);
}
