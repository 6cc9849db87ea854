/**
 * Commander value parsers shared by `llm-chat` and `llm-chat serve`.
 *
 *   .option('--top-k <n>', 'keep the k most likely', num(0, 1e9, true), 40)   // "abc" → "must be an integer in [0, 1000000000]"
 */
import { InvalidArgumentError } from 'commander';

/** A number in [min, max] (an integer when `int`). */
export const num = (min: number, max: number, int = false) => (v: string): number => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < min || n > max || (int && !Number.isInteger(n))) throw new InvalidArgumentError(`must be ${int ? 'an integer' : 'a number'} in [${min}, ${max}]`);
  return n;
};
