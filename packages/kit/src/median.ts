/**
 * The median the benchmarks report: the middle of the sorted values; for an even count the upper
 * of the two middle ones (a value that was really measured, never an average of two).
 *
 *   median([3, 1, 2]);      // → 2
 *   median([4, 1, 3, 2]);   // → 3
 */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new RangeError('median of no values');
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
}
