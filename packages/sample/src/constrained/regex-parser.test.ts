import { describe, expect, it } from 'vitest';
import { SampleError } from '../errors.js';
import { parseRegex } from './regex-parser.js';

function errorOf(pattern: string): SampleError {
  try {
    parseRegex(pattern);
  } catch (e) {
    if (e instanceof SampleError) return e;
    throw e;
  }
  throw new Error(`/${pattern}/ parsed`);
}

describe('parseRegex', () => {
  it('parses the subset into the AST', () => {
    expect(parseRegex('\\d{2}')).toEqual({ type: 'repeat', item: { type: 'chars', set: [48, 57] }, min: 2, max: 2 });
    expect(parseRegex('ab|c*')).toEqual({
      type: 'alt',
      options: [
        {
          type: 'concat',
          items: [
            { type: 'chars', set: [97, 97] },
            { type: 'chars', set: [98, 98] },
          ],
        },
        { type: 'repeat', item: { type: 'chars', set: [99, 99] }, min: 0, max: Infinity },
      ],
    });
    expect(parseRegex('[^]')).toEqual({ type: 'chars', set: [0, 0x10ffff] });
    expect(parseRegex('😀')).toEqual({ type: 'chars', set: [0x1f600, 0x1f600] });
    expect(parseRegex('^$')).toEqual({ type: 'empty' });
  });

  it.each([
    ['(a)\\1', 'backreference', 3],
    ['(?<x>a)\\k<x>', 'backreference', 7],
    ['a(?=b)', 'lookahead', 1],
    ['a(?!b)', 'lookahead', 1],
    ['(?<=a)b', 'lookbehind', 0],
    ['(?<!a)b', 'lookbehind', 0],
    ['a*?', 'lazy quantifier', 2],
    ['a{1,3}?', 'lazy quantifier', 6],
    ['\\bword', 'word-boundary', 0],
    ['\\p{L}', 'Unicode property', 0],
    ['(?i)a', 'group modifier', 0],
  ])('rejects unsupported /%s/ (%s) naming position %i', (pattern, what, pos) => {
    const e = errorOf(pattern);
    expect(e.code).toBe('CONSTRAINT_INVALID');
    expect(e.message).toContain(what);
    expect(e.message).toContain(`at position ${pos}`);
    expect(e.message).toContain('not supported');
  });

  it.each([
    ['(ab', 'unclosed group', 0],
    ['ab)', 'unmatched', 2],
    ['[ab', 'unclosed character class', 0],
    ['*a', 'nothing to repeat', 0],
    ['a**', 'quantifier after a quantifier', 2],
    ['a{2,1}', 'max < min', 1],
    ['a{99999}', 'above', 1],
    ['a{x}', 'no valid quantifier', 1],
    ['[z-a]', 'out of order', 1],
    ['a^b', '"^"', 1],
    ['a$b', '"$"', 1],
    ['\\q', 'unknown escape', 0],
    ['\\x4', 'malformed', 0],
    ['ab\\', 'trailing backslash', 2],
  ])('rejects malformed /%s/ (%s) naming position %i', (pattern, what, pos) => {
    const e = errorOf(pattern);
    expect(e.code).toBe('CONSTRAINT_INVALID');
    expect(e.message).toContain(what);
    expect(e.message).toContain(`at position ${pos}`);
  });
});
