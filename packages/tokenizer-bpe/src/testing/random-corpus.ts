/**
 * Small deterministic corpora for the trainer and format tests (not part of the package API).
 *
 *   randomCorpus(1, 'ab', 50)  // the same 50 pseudo-words of a/b on every run
 */
import { rng } from '@llm/kit';

/** `words` pseudo-words over `alphabet`, 1–10 chars each, joined by spaces and some newlines. */
export function randomCorpus(seed: number, alphabet: string, words: number): string {
  const rnd = rng(seed);
  const chars = [...alphabet];
  const out: string[] = [];
  for (let i = 0; i < words; i++) {
    const len = 1 + Math.floor(rnd() * 10);
    let w = '';
    for (let j = 0; j < len; j++) w += chars[Math.floor(rnd() * chars.length)]!;
    out.push(w, rnd() < 0.1 ? '\n' : ' ');
  }
  return out.join('');
}

/** The GPT-2 pre-tokenization regex with JS `\s` (a local variant of GPT2_PATTERN for tests). */
export const GPT2_TEST_PATTERN =
  "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
