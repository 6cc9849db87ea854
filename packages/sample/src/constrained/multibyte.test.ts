// Non-ASCII patterns with a byte-level vocabulary: every character is split across tokens, so
// the constraint must carry pending UTF-8 bytes and only allow lead/continuation bytes that can
// still complete an allowed character.
import { describe, expect, it } from 'vitest';
import { regexConstraint } from './regex-constraint.js';
import { byteVocab, generate } from '../testing/constrained.js';

const { vocab, eos } = byteVocab();

function allowedBytes(c: ReturnType<typeof regexConstraint>, s: ReturnType<typeof c.start>): number[] {
  const logits = new Float32Array(vocab.size);
  c.mask(logits, s);
  return [...logits.keys()].filter((i) => logits[i] !== -Infinity);
}

describe('multi-byte characters split across tokens', () => {
  it('[äöü]+ allows exactly the bytes that can continue ä (C3 A4), ö (C3 B6), ü (C3 BC)', () => {
    const c = regexConstraint('[äöü]+', vocab, { eosIds: [eos] });
    const s0 = c.start();
    expect(allowedBytes(c, s0)).toEqual([0xc3]);
    const s1 = c.advance(s0, 0xc3);
    expect(c.isComplete(s1)).toBe(false); // mid-character: no EOS
    expect(allowedBytes(c, s1)).toEqual([0xa4, 0xb6, 0xbc]);
    const s2 = c.advance(s1, 0xb6);
    expect(c.isComplete(s2)).toBe(true);
    expect(allowedBytes(c, s2)).toEqual([0xc3, eos]);
  });

  it('emoji: the four bytes of 😀 (F0 9F 98 80) and 🎉 (F0 9F 8E 89) one at a time', () => {
    const c = regexConstraint('(?:😀|🎉){1,2}', vocab, { eosIds: [eos] });
    let s = c.start();
    expect(allowedBytes(c, s)).toEqual([0xf0]);
    s = c.advance(s, 0xf0);
    expect(allowedBytes(c, s)).toEqual([0x9f]);
    s = c.advance(s, 0x9f);
    expect(allowedBytes(c, s)).toEqual([0x8e, 0x98]);
    s = c.advance(s, 0x98);
    expect(allowedBytes(c, s)).toEqual([0x80]);
    s = c.advance(s, 0x80);
    expect(allowedBytes(c, s)).toEqual([0xf0, eos]);
  });

  it('a class spanning many lead bytes prunes by the range a prefix can still reach', () => {
    // Cyrillic and emoticons
    const c = regexConstraint('[\\u0400-\\u04FF\\u{1F600}-\\u{1F64F}]', vocab, { eosIds: [eos] });
    expect(allowedBytes(c, c.start())).toEqual([0xd0, 0xd1, 0xd2, 0xd3, 0xf0]);
    const f0 = c.advance(c.start(), 0xf0);
    expect(allowedBytes(c, f0)).toEqual([0x9f]);
    expect(allowedBytes(c, c.advance(f0, 0x9f))).toEqual([0x98, 0x99]);
  });

  it.each(['[äöü]+', '(?:😀|🎉|東京)+x?', '[^\\x00-\\x7F]{1,5}', '[a-zß-ÿ]{2,6}!'])(
    'sampling /%s/ byte by byte for 100 seeds gives valid UTF-8 that RegExp matches',
    (pattern) => {
      const c = regexConstraint(pattern, vocab, { eosIds: [eos] });
      const js = new RegExp(`^(?:${pattern})$`, 'u');
      for (let seed = 0; seed < 100; seed++) {
        const out = generate(c, vocab, [eos], seed, { maxTokens: 200 });
        expect(out.complete).toBe(true);
        expect(js.test(out.text), out.text).toBe(true); // out.text was decoded with fatal UTF-8
      }
    },
  );

  it('a token that is invalid UTF-8 in context is banned even when its bytes alone would be fine', () => {
    // Tokens: 0 = C3, 1 = A4 (continuation), 2 = 'a', 3 = C3 A4 ('ä'), 4 = EOS.
    const toks = [[0xc3], [0xa4], [0x61], [0xc3, 0xa4], []].map((b) => Uint8Array.from(b));
    const v = { size: 5, tokenBytes: (id: number) => toks[id] ?? new Uint8Array(0) };
    const c = regexConstraint('(?:ä|a)+', v, { eosIds: [4] });
    const masked = (s: ReturnType<typeof c.start>): number[] => {
      const l = new Float32Array(5);
      c.mask(l, s);
      return [...l.keys()].filter((i) => l[i] !== -Infinity);
    };
    expect(masked(c.start())).toEqual([0, 2, 3]); // a lone continuation byte cannot start
    expect(masked(c.advance(c.start(), 0))).toEqual([1]); // after C3 only A4; 'a' or C3 A4 would break UTF-8
  });
});
