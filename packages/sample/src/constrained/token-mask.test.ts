// The trie walk gives the same allowed set as checking every token on its own, for states met
// while generating; and TokenMask applies each of its three layouts correctly.
import { describe, expect, it } from 'vitest';
import { DEAD, LazyDfa } from './dfa.js';
import { TokenMask, allowedTokens, canComplete } from './token-mask.js';
import { rng } from '@llm/kit';
import { trainedVocab } from '../testing/constrained.js';
import { NO_PENDING, decodeFrom } from './utf8.js';
import { indexVocab } from './vocab-index.js';

/**
 * Token-by-token reference: valid UTF-8 after `pending`, every finished character accepted, any
 * partial one completable.
 */
function bruteForce(
  dfa: LazyDfa,
  bytesOf: (id: number) => Uint8Array,
  size: number,
  q0: number,
  p0: number,
  eos: number,
): number[] {
  const out: number[] = [];
  for (let id = 0; id < size; id++) {
    const bytes = bytesOf(id);
    if (id === eos || bytes.length === 0) continue;
    const d = decodeFrom(p0, bytes);
    if (d === null) continue;
    let q = q0;
    for (const cp of d.codePoints) if (q !== DEAD) q = dfa.step(q, cp);
    if (q !== DEAD && (d.pending === NO_PENDING || canComplete(dfa, q, d.pending))) out.push(id);
  }
  return out;
}

describe('allowedTokens', () => {
  const { vocab, eos } = trainedVocab();
  const index = indexVocab(vocab);
  const excluded = new Uint8Array(vocab.size);
  excluded[eos] = 1;

  it.each([
    '\\{"name":"[a-zäöü ]{0,12}","age":\\d+\\}',
    '(?:Köln|Grüße|東京|😀)+',
    '[^"]*"',
    '\\d{4}-\\d{2}-\\d{2}',
    '[\\u0080-\\u{10FFFF}]{1,6}',
  ])('matches a per-token check on states reached by random walks: /%s/', (pattern) => {
    const dfa = LazyDfa.fromPattern(pattern);
    const next = rng(11);
    let checked = 0;
    for (let run = 0; run < 12; run++) {
      let q = dfa.start;
      let p = NO_PENDING;
      for (let step = 0; step < 10; step++) {
        const ids = allowedTokens(index, dfa, q, p, excluded);
        const want = bruteForce(dfa, (id) => vocab.tokenBytes(id), vocab.size, q, p, eos);
        expect([...ids].sort((a, b) => a - b)).toEqual(want);
        checked++;
        if (ids.length === 0) break;
        const id = ids[Math.floor(next() * ids.length)]!;
        const d = decodeFrom(p, vocab.tokenBytes(id))!;
        for (const cp of d.codePoints) q = dfa.step(q, cp);
        p = d.pending;
      }
    }
    expect(checked).toBeGreaterThan(12);
  });

  it('the vocabulary has tokens that end inside a character (so pending bytes are exercised)', () => {
    const fatal = new TextDecoder('utf-8', { fatal: true });
    const partial = Array.from({ length: vocab.size }, (_, id) => vocab.tokenBytes(id)).filter((b) => {
      if (b.length < 2) return false;
      try {
        fatal.decode(b);
        return false;
      } catch {
        return true;
      }
    });
    expect(partial.length).toBeGreaterThan(5);
  });
});

describe('TokenMask', () => {
  it.each([
    ['allowed list', [3]],
    ['bitset', Array.from({ length: 40 }, (_, i) => i * 2)],
    ['banned list', Array.from({ length: 99 }, (_, i) => (i < 50 ? i : i + 1))],
  ])('applies a %s and pads extra logits with −Infinity', (_, allowed) => {
    const size = 100;
    const mask = TokenMask.fromAllowed(Int32Array.from(allowed), size);
    const logits = Float32Array.from({ length: size + 4 }, (_, i) => i + 0.5);
    mask.apply(logits);
    const set = new Set(allowed);
    for (let i = 0; i < logits.length; i++) {
      expect(logits[i]).toBe(set.has(i) ? i + 0.5 : -Infinity);
      expect(mask.has(i)).toBe(set.has(i));
    }
    expect(mask.allowedCount).toBe(allowed.length);
  });
});
