/**
 * Scoring as lm-evaluation-harness: multiple choice by log-likelihood, generation by exact match
 * after a regex extraction; a metric's standard error is the sample standard deviation over items
 * divided by √n (for a 0/1 metric: √(p(1−p)/(n−1))).
 *
 *   chooseMc([-1.386, -2.079], ['c', 'ab'])   // → { pred: 0, predNorm: 1 }  (−2.079/2 > −1.386/1)
 *   extractAnswer('The sum is 42.\n', '-?\\d+')  // → '42'
 *   meanStderr([1, 0, 1, 1])                    // → { mean: 0.75, stderr: √(0.75·0.25/3) = 0.25 }
 */

/**
 * The argmax of the summed log-likelihoods (`acc`) and of the log-likelihoods divided by each
 * choice's length in characters (`acc_norm`: lm-eval's `len(choice)`, the choice text without the
 * target delimiter; characters = bytes for ASCII text). Ties go to the first choice (numpy argmax).
 */
export function chooseMc(logprobs: readonly number[], choices: readonly string[]): { pred: number; predNorm: number } {
  const argmax = (xs: number[]) => xs.reduce((best, x, i) => (x > xs[best]! ? i : best), 0);
  return { pred: argmax([...logprobs]), predNorm: argmax(logprobs.map((lp, i) => lp / [...choices[i]!].length)) };
}

/**
 * The answer in a generation: the first match of `pattern` (its first capture group when it has
 * one), or '[invalid]' (lm-eval's fallback) when nothing matches; without a pattern, the trimmed
 * output.
 */
export function extractAnswer(output: string, pattern: string | null): string {
  if (pattern === null) return output.trim();
  const m = new RegExp(pattern).exec(output);
  if (!m) return '[invalid]';
  return (m.length > 1 && m[1] !== undefined ? m[1] : m[0]).trim();
}

/** 1 when the extracted answer equals the target (both trimmed; optionally case-insensitive), else 0. */
export function exactMatch(answer: string, target: string, ignoreCase = false): number {
  const norm = (s: string) => (ignoreCase ? s.trim().toLowerCase() : s.trim());
  return norm(answer) === norm(target) ? 1 : 0;
}

/** Mean and its standard error (sample std / √n, lm-eval's mean_stderr); stderr NaN for n < 2. */
export function meanStderr(xs: readonly number[]): { mean: number; stderr: number } {
  const n = xs.length;
  const mean = xs.reduce((a, x) => a + x, 0) / n;
  if (n < 2) return { mean, stderr: NaN };
  const variance = xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1);
  return { mean, stderr: Math.sqrt(variance / n) };
}
