import { describe, expect, it } from 'vitest';
import type { TokenizerDefinition } from '../definition.js';
import { TokenizerError } from '../errors.js';
import { randomCorpus } from '../testing/random-corpus.js';
import { trainBpeSync } from '../train/train.js';
import { fromCompactJson, stringifyCompactJson, toCompactJson } from './minbpe-json.js';

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(TokenizerError);
    return `${(e as TokenizerError).code}: ${(e as Error).message}`;
  }
  return 'no error';
}

describe('compact JSON (llm-ts-bpe v1)', () => {
  const trained = trainBpeSync(randomCorpus(31, 'abcé中 ', 2000), {
    vocabSize: 600,
    specialTokens: ['<|endoftext|>', '__proto__'],
    name: 'compact',
  });

  it('round-trips a trained definition, through text too', () => {
    const json = toCompactJson(trained);
    expect(json.format).toBe('llm-ts-bpe');
    expect(json.merges).toHaveLength(600 - 256 - 2);
    expect(fromCompactJson(json)).toEqual(trained);
    const text = stringifyCompactJson(json);
    expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(json)));
    expect(fromCompactJson(text)).toEqual(trained);
  });

  it('writes merges as rank pairs, one per line', () => {
    const def = trainBpeSync('aaabdaaabac', { vocabSize: 259 });
    const text = stringifyCompactJson(toCompactJson(def));
    expect(text).toContain('"merges": [\n    [97,97],\n    [97,98],\n    [256,257]\n  ]\n}\n');
    expect(stringifyCompactJson({ ...toCompactJson(def), merges: [] })).toContain('"merges": []');
  });

  it('refuses definitions whose ranks do not fit the format', () => {
    const ranks = new Map(trained.ranks);
    ranks.set('a', 9999);
    ranks.set('\x00', 97);
    expect(codeOf(() => toCompactJson({ ...trained, ranks }))).toMatch(
      /^UNSUPPORTED: compact format: byte 0 must have rank 0/,
    );
    const gap = new Map(trained.ranks);
    const [last] = [...gap].filter(([, r]) => r === 599 - 2);
    gap.set(last![0], 700);
    expect(codeOf(() => toCompactJson({ ...trained, ranks: gap }))).toMatch(/^UNSUPPORTED: .*without gaps/);
  });

  const valid = () => ({
    format: 'llm-ts-bpe',
    version: 1,
    name: 'x',
    pattern: '\\S+',
    specialTokens: { '<s>': 258 },
    merges: [
      [97, 98],
      [256, 99],
    ],
  });
  const hostile: Array<[string, (j: Record<string, any>) => unknown, RegExp]> = [
    ['bad JSON', () => '{', /^INVALID_FORMAT: .*not valid JSON/],
    ['another format', (j) => ({ ...j, format: 'minbpe' }), /^INVALID_FORMAT: .*"format"/],
    ['another version', (j) => ({ ...j, version: 2 }), /^UNSUPPORTED: .*version 2/],
    ['no name', (j) => ({ ...j, name: 5 }), /"name" must be a string/],
    ['a bad pattern', (j) => ({ ...j, pattern: '(' }), /^INVALID_FORMAT: .*"pattern" does not compile/],
    ['merges not an array', (j) => ({ ...j, merges: {} }), /"merges" must be an array/],
    [
      'a merge with three ranks',
      (j) => ({ ...j, merges: [[1, 2, 3]] }),
      /merges\[0\] must be \[leftRank, rightRank\]/,
    ],
    [
      'a merge of a later rank',
      (j) => ({
        ...j,
        merges: [
          [97, 98],
          [257, 99],
        ],
      }),
      /merges\[1\] refers to rank 257/,
    ],
    [
      'a fractional rank',
      (j) => ({ ...j, merges: [[97.5, 98]] }),
      /merges\[0\]\[0\] must be a non-negative integer/,
    ],
    [
      'a merge that remakes a token',
      (j) => ({
        ...j,
        merges: [
          [97, 98],
          [97, 98],
        ],
      }),
      /merges\[1\] remakes the bytes of rank 256/,
    ],
    [
      'special ids colliding with ranks',
      (j) => ({ ...j, specialTokens: { '<s>': 257 } }),
      /"<s>" has id 257, which is a rank/,
    ],
    [
      'duplicate special ids',
      (j) => ({ ...j, specialTokens: { '<s>': 300, '</s>': 300 } }),
      /special token id 300 is used twice/,
    ],
    ['specials as an array', (j) => ({ ...j, specialTokens: [] }), /"specialTokens" must be an object/],
  ];
  for (const [label, mutate, message] of hostile) {
    it(`rejects ${label}`, () => {
      expect(codeOf(() => fromCompactJson(mutate(valid())))).toMatch(message);
    });
  }

  it('reads a valid hand-written file', () => {
    const def: TokenizerDefinition = fromCompactJson(valid());
    expect(def.ranks.get('ab')).toBe(256);
    expect(def.ranks.get('abc')).toBe(257);
    expect(def.specialTokens).toEqual(new Map([['<s>', 258]]));
  });
});
