/**
 * Timing a synchronous piece of work the way the benchmarks do: `warmup` untimed calls, then
 * `reps` timed ones (performance.now() around `fn` only), and their median. `after` receives each
 * call's result outside the timed span (to dispose tensors, say).
 *
 *   const { median, times } = timeRuns(() => tf.matMul(a, b), { reps: 21, warmup: 10, after: (c) => c.dispose() });
 *   timeRuns(() => tok.encode(text), { reps: 5 }).median;   // ms
 */
import { median } from './median.js';

export interface TimeRunsOptions<T> {
  /** Timed calls (default 5). */
  reps?: number;
  /** Untimed calls first (default 0). */
  warmup?: number;
  /** Called with each call's result, outside the timed span. */
  after?: (result: T) => void;
}

/** Runs `fn` warmup + reps times; returns the timed calls' ms and their median. */
export function timeRuns<T>(fn: (call: number) => T, opts: TimeRunsOptions<T> = {}): { median: number; times: number[] } {
  const { reps = 5, warmup = 0, after } = opts;
  if (!(reps >= 1)) throw new RangeError(`reps must be at least 1, got ${reps}`);
  const times: number[] = [];
  for (let call = 0; call < warmup + reps; call++) {
    const t0 = performance.now();
    const result = fn(call);
    const ms = performance.now() - t0;
    after?.(result);
    if (call >= warmup) times.push(ms);
  }
  return { median: median(times), times };
}
