import { describe, expect, it } from 'vitest';
import { SampleError } from '../errors.js';
import type { TokenVocab } from '../types.js';
import { regexConstraint } from './regex-constraint.js';

/** A toy vocabulary: 0 'a', 1 'b', 2 'ab', 3 'c', 4 special (empty), 5 EOS (empty). */
const toy: TokenVocab = {
  size: 6,
  tokenBytes: (id) => new TextEncoder().encode(['a', 'b', 'ab', 'c', '', ''][id] ?? ''),
};
const EOS = 5;
const finite = (logits: Float32Array): number[] => [...logits.keys()].filter((i) => logits[i] !== -Infinity);

function masked(c: ReturnType<typeof regexConstraint>, state: ReturnType<typeof c.start>): number[] {
  const logits = new Float32Array(6).fill(1);
  c.mask(logits, state);
  return finite(logits);
}

describe('regexConstraint', () => {
  it('masks to tokens that keep a match possible; EOS only when complete; specials never', () => {
    const c = regexConstraint('ab?c?', toy, { eosIds: [EOS] });
    const s0 = c.start();
    expect(masked(c, s0)).toEqual([0, 2]);
    const s1 = c.advance(s0, 0); // 'a'
    expect(c.isComplete(s1)).toBe(true);
    expect(masked(c, s1)).toEqual([1, 3, EOS]);
    const s2 = c.advance(s1, 3); // 'ac'
    expect(c.isFinished(s2)).toBe(true);
    expect(masked(c, s2)).toEqual([EOS]);
    const end = c.advance(s2, EOS);
    expect([c.isComplete(end), c.isFinished(end)]).toEqual([true, true]);
    expect(masked(c, end)).toEqual([EOS]);
  });

  it('keeps the allowed logits unchanged and is the same with a cached mask', () => {
    const c = regexConstraint('(ab)+', toy, { eosIds: [EOS] });
    const logits = Float32Array.of(0.5, 1.5, 2.5, 3.5, 4.5, 5.5);
    const again = logits.slice();
    c.mask(logits, c.start());
    c.mask(again, c.start());
    expect([...logits]).toEqual([0.5, -Infinity, 2.5, -Infinity, -Infinity, -Infinity]);
    expect([...again]).toEqual([...logits]);
  });

  it('rejects tokens the mask would ban, EOS too early and anything after EOS', () => {
    const c = regexConstraint('ab', toy, { eosIds: [EOS] });
    const code = (f: () => unknown): string | undefined => {
      try {
        f();
      } catch (e) {
        return e instanceof SampleError ? e.code : 'other';
      }
      return undefined;
    };
    expect(code(() => c.advance(c.start(), 1))).toBe('CONSTRAINT_INVALID');
    expect(code(() => c.advance(c.start(), 4))).toBe('CONSTRAINT_INVALID');
    expect(code(() => c.advance(c.start(), EOS))).toBe('CONSTRAINT_INVALID');
    const done = c.advance(c.advance(c.start(), 2), EOS);
    expect(code(() => c.advance(done, 0))).toBe('CONSTRAINT_INVALID');
    expect(code(() => c.mask(new Float32Array(3), c.start()))).toBe('SHAPE_MISMATCH');
    expect(code(() => regexConstraint('a', toy, { eosIds: [9] }))).toBe('INVALID_ARGUMENT');
    expect(code(() => regexConstraint('a[]', toy, { eosIds: [EOS] }))).toBe('CONSTRAINT_INVALID');
    expect(code(() => regexConstraint('a(?=b)', toy, { eosIds: [EOS] }))).toBe('CONSTRAINT_INVALID');
  });

  it('is finished when the vocabulary cannot continue, even if the regex could', () => {
    const c = regexConstraint('a(?:x|c)*', toy, { eosIds: [EOS] });
    const s = c.advance(c.start(), 0);
    expect(c.isFinished(s)).toBe(false); // 'c' can follow
    const d = regexConstraint('ax*', toy, { eosIds: [EOS] }); // no token has 'x'
    expect(d.isFinished(d.advance(d.start(), 0))).toBe(true);
  });

  it('bans ids past the vocabulary in padded logits', () => {
    const c = regexConstraint('a*', toy, { eosIds: [EOS] });
    const logits = new Float32Array(8).fill(0);
    c.mask(logits, c.start());
    expect(finite(logits)).toEqual([0, EOS]);
  });
});
