// The incremental decoder accepts exactly what TextDecoder's fatal mode accepts, byte by byte.
import { describe, expect, it } from 'vitest';
import { rng } from '@llm/kit';
import { INVALID, NO_PENDING, decodeFrom, isPending, pendingRange, utf8Step } from './utf8.js';

const fatal = new TextDecoder('utf-8', { fatal: true });

function jsDecode(bytes: Uint8Array): number[] | null {
  try {
    return [...fatal.decode(bytes)].map((c) => c.codePointAt(0)!);
  } catch {
    return null;
  }
}

describe('utf8', () => {
  it('decodes a character split across steps', () => {
    const r = utf8Step(NO_PENDING, 0xc3);
    expect(isPending(r)).toBe(true);
    expect(pendingRange(r)).toEqual([0xc0, 0xff]);
    expect(utf8Step(r, 0xa4)).toBe(0xe4);
    expect(utf8Step(NO_PENDING, 0xff)).toBe(INVALID);
    expect(utf8Step(utf8Step(NO_PENDING, 0xe0), 0x80)).toBe(INVALID); // overlong
    expect(utf8Step(utf8Step(NO_PENDING, 0xed), 0xa0)).toBe(INVALID); // surrogate
    expect(pendingRange(utf8Step(NO_PENDING, 0xed))).toEqual([0xd000, 0xd7ff]);
    expect(pendingRange(utf8Step(NO_PENDING, 0xf4))).toEqual([0x100000, 0x10ffff]);
  });

  it('agrees with TextDecoder (fatal) on random and near-valid byte strings', () => {
    const next = rng(3);
    const samples = ['a', 'ä', '€', '😀', '東', '\u{10FFFF}', '\uD7FF', '\uE000'];
    for (let i = 0; i < 5000; i++) {
      let bytes: Uint8Array;
      if (i % 2 === 0) {
        bytes = Uint8Array.from({ length: Math.floor(next() * 6) }, () => Math.floor(next() * 256));
      } else {
        const text = Array.from({ length: 3 }, () => samples[Math.floor(next() * samples.length)]!).join('');
        bytes = new TextEncoder().encode(text);
        if (next() < 0.5) bytes[Math.floor(next() * bytes.length)] = Math.floor(next() * 256);
      }
      const ours = decodeFrom(NO_PENDING, bytes);
      const complete = ours !== null && ours.pending === NO_PENDING ? ours.codePoints : null;
      expect([...bytes, complete]).toEqual([...bytes, jsDecode(bytes)]);
      // A pending tail must be a prefix of some valid character: its range's ends encode with it.
      if (ours !== null && ours.pending !== NO_PENDING) {
        const [lo, hi] = pendingRange(ours.pending);
        for (const cp of [lo, hi]) {
          const full = decodeFrom(
            ours.pending,
            new TextEncoder().encode(String.fromCodePoint(cp)).slice(-countTail(bytes)),
          );
          expect(full?.codePoints).toEqual([cp]);
        }
      }
    }
  });
});

/** How many continuation bytes a complete character would still need after `bytes`' pending tail. */
function countTail(bytes: Uint8Array): number {
  let i = bytes.length - 1;
  while (i > 0 && (bytes[i]! & 0xc0) === 0x80) i--;
  const lead = bytes[i]!;
  const len = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
  return len - (bytes.length - i);
}
