import { describe, expect, it } from 'vitest';
import { TokenizerError } from '../errors.js';
import { GPT2_TEST_PATTERN, randomCorpus } from '../testing/random-corpus.js';
import { trainBpeReference } from './reference.js';
import { trainBpe, trainBpeSync, trainBpeWithMerges, type TrainOptions } from './train.js';
import { TrainingVocab } from './vocab.js';
import { DEFAULT_TRAIN_PATTERN } from './options.js';
import { GPT2_PATTERN } from '../patterns.js';

const pairs = (r: { merges: Array<{ left: number; right: number; id: number }> }) =>
  r.merges.map((m) => [m.left, m.right, m.id]);

/** Token bytes (binary strings) in rank order, from rank 256 up. */
const mergedTokens = (ranks: Map<string, number>) =>
  [...ranks]
    .filter(([, r]) => r >= 256)
    .sort((a, b) => a[1] - b[1])
    .map(([t]) => t);

describe('trainBpe: hand-checked merges', () => {
  it('learns the classic "aaabdaaabac" sequence', () => {
    // GPT-2 pre-tokenization keeps "aaabdaaabac" as one piece (all letters), count 1.
    // Pairs, overlapping windows counted: aa 4, ab 2, bd 1, da 1, ba 1, ac 1.
    //  1. (a,a)=(97,97) count 4 → 256 'aa'.     word: aa a b d aa a b a c
    //  2. counts: (256,97) 2, (97,98) 2, others 1; tie at 2 → smaller left id: (97,98) → 257 'ab'.
    //     word: aa ab d aa ab a c
    //  3. (256,257) count 2 → 258 'aaab'.       word: aaab d aaab a c
    //  4. all pairs count 1: (258,100) (100,258) (258,97) (97,99); smallest left 97 → (97,99) 259 'ac'
    //     word: aaab d aaab ac
    //  5. (258,100) (100,258) (258,259): smallest left 100 → (100,258) → 260 'daaab'
    //  6. (258,260) (260,259): left 258 → 261 'aaabdaaab'.   7. (261,259) → 262, the whole word.
    //  Then no pair is left, so training stops at 263 tokens although 270 were asked for.
    const expected = [
      [97, 97, 256],
      [97, 98, 257],
      [256, 257, 258],
      [97, 99, 259],
      [100, 258, 260],
      [258, 260, 261],
      [261, 259, 262],
    ];
    const fast = trainBpeWithMerges('aaabdaaabac', { vocabSize: 270 });
    expect(pairs(fast)).toEqual(expected);
    expect(pairs(trainBpeReference('aaabdaaabac', { vocabSize: 270 }))).toEqual(expected);
    expect(mergedTokens(fast.definition.ranks)).toEqual([
      'aa',
      'ab',
      'aaab',
      'ac',
      'daaab',
      'aaabdaaab',
      'aaabdaaabac',
    ]);
    expect(fast.definition.ranks.size).toBe(263);
  });

  it('counts pieces across words, with frequencies, and numbers specials after the last merge', () => {
    // Pieces: 'ab' ×1, ' ab' ×2, ' ba' ×1.
    // Pairs: (a,b) 1+2 = 3, (' ',a) 2, (' ',b) 1, (b,a) 1.
    //  1. (97,98) → 256 'ab'.   words: [ab] [' ', ab]×2 [' ', b, a]
    //  2. (32,256) count 2 → 257 ' ab'.
    //  3. (32,98) 1 vs (98,97) 1: left 32 < 98 → 258 ' b'.   4. (258,97) → 259 ' ba'. Nothing left.
    const r = trainBpeWithMerges('ab ab ab ba', { vocabSize: 300, specialTokens: ['<|eot|>', '<|pad|>'] });
    expect(pairs(r)).toEqual([
      [97, 98, 256],
      [32, 256, 257],
      [32, 98, 258],
      [258, 97, 259],
    ]);
    expect([...r.definition.specialTokens]).toEqual([
      ['<|eot|>', 260],
      ['<|pad|>', 261],
    ]);
  });

  it('handles overlapping runs left to right ("aaaaa" → aa aa a → aa aaa)', () => {
    const r = trainBpeWithMerges('aaaaa', { vocabSize: 300 });
    // (a,a) count 4 → 256; word: aa aa a. Then (256,256) 1 and (256,97) 1 tie; same left id, the
    // smaller right id 97 wins → 257 'aaa'; word: aa aaa. Then (256,257) → 258 'aaaaa'.
    expect(pairs(r)).toEqual([
      [97, 97, 256],
      [256, 97, 257],
      [256, 257, 258],
    ]);
  });
});

describe('trainBpe matches the reference trainer exactly', () => {
  const cases: Array<[string, string | string[], TrainOptions]> = [
    ['random a/b words', randomCorpus(1, 'ab', 400), { vocabSize: 400 }],
    ['random a/b/c words', randomCorpus(2, 'abc', 600), { vocabSize: 500 }],
    ['random letters + digits + punctuation', randomCorpus(3, 'abcde12,.!?', 800), { vocabSize: 600 }],
    ['unicode and emoji', randomCorpus(4, 'éàü中文字🙂👍x ', 500), { vocabSize: 700 }],
    ['runs of one letter', 'a'.repeat(1000) + ' ' + 'aa '.repeat(50) + 'aaa', { vocabSize: 300 }],
    ['alternating', 'abababababababab ab aba bab ' + 'ba'.repeat(33), { vocabSize: 300 }],
    ['chunks', ['hello world', 'hello there', 'world of words', 'help'], { vocabSize: 290 }],
    ['minFrequency stops early', randomCorpus(5, 'abcd', 300), { vocabSize: 1000, minFrequency: 3 }],
    [
      'special tokens are cut out of the text',
      'ab<|eot|>ab<|eot|>a<|eot|>b<|e' + randomCorpus(6, 'ab<|>', 200),
      { vocabSize: 400, specialTokens: ['<|eot|>'] },
    ],
    ['a custom pattern', randomCorpus(7, 'abc ', 300), { vocabSize: 400, pattern: '\\S+|\\s+' }],
    [
      "GPT-2's pattern with JS \\s",
      randomCorpus(8, "ab'1 \t\u00a0", 300),
      { vocabSize: 400, pattern: GPT2_TEST_PATTERN },
    ],
  ];
  for (const [label, input, opts] of cases) {
    it(label, () => {
      const fast = trainBpeWithMerges(input, opts);
      const naive = trainBpeReference(input, opts);
      expect(fast.merges.length).toBeGreaterThan(0);
      expect(pairs(fast)).toEqual(pairs(naive));
      expect(fast.definition).toEqual(naive.definition);
    });
  }

  it('30 random corpora over small alphabets', () => {
    for (let seed = 100; seed < 130; seed++) {
      const text = randomCorpus(seed, 'abc d'.slice(0, 2 + (seed % 4)), 150);
      const opts = { vocabSize: 256 + 40 + (seed % 50) };
      expect(pairs(trainBpeWithMerges(text, opts)), `seed ${seed}`).toEqual(pairs(trainBpeReference(text, opts)));
    }
  });
});

describe('trainBpe: API', () => {
  it('is deterministic, and the async and sync forms agree', async () => {
    const text = randomCorpus(9, 'abcdef ', 500);
    const a = trainBpeSync(text, { vocabSize: 400, name: 'x' });
    const b = await trainBpe(text, { vocabSize: 400, name: 'x' });
    async function* chunks() {
      yield text;
    }
    const c = await trainBpe(chunks(), { vocabSize: 400, name: 'x' });
    expect(b).toEqual(a);
    expect(c).toEqual(a);
    expect(a.name).toBe('x');
    expect(a.pattern).toBe(GPT2_PATTERN);
    expect(DEFAULT_TRAIN_PATTERN).toBe(GPT2_PATTERN);
  });

  it('gives byte tokens rank = byte value and merged tokens 256, 257, …', () => {
    const def = trainBpeSync(randomCorpus(10, 'xyz ', 300), { vocabSize: 300 });
    for (let b = 0; b < 256; b++) expect(def.ranks.get(String.fromCharCode(b))).toBe(b);
    expect([...def.ranks.values()].sort((x, y) => x - y)).toEqual([...Array(300).keys()]);
  });

  it('trains on UTF-8 bytes', () => {
    const def = trainBpeSync('é é é é', { vocabSize: 258 });
    // 'é' is C3 A9; ' é' is 20 C3 A9 (×3). (C3,A9) count 4 → 256, then (20,256) count 3 → 257.
    expect(def.ranks.get('\xc3\xa9')).toBe(256);
    expect(def.ranks.get(' \xc3\xa9')).toBe(257);
  });

  it('accepts explicit special ids and reports progress', () => {
    const seen: string[] = [];
    const def = trainBpeSync(['abc abc', 'abd'], {
      vocabSize: 260,
      specialTokens: { '<|endoftext|>': 259 },
      onProgress: (p) => seen.push(`${p.phase}:${p.merges}/${p.total}`),
    });
    expect(def.specialTokens).toEqual(new Map([['<|endoftext|>', 259]]));
    expect(seen[0]).toBe('count:0/3');
    expect(seen.at(-1)).toBe('merge:3/3');
  });

  it('rejects bad options with INVALID_ARGUMENT', () => {
    const bad: TrainOptions[] = [
      { vocabSize: 255 },
      { vocabSize: 256.5 },
      { vocabSize: 257, specialTokens: ['<a>', '<b>'] },
      { vocabSize: 300, specialTokens: ['<a>', '<a>'] },
      { vocabSize: 300, specialTokens: [''] },
      { vocabSize: 300, specialTokens: { '<a>': 12 } },
      { vocabSize: 300, specialTokens: { '<a>': 400, '<b>': 400 } },
      { vocabSize: 300, pattern: '(' },
      { vocabSize: 300, minFrequency: -1 },
    ];
    for (const opts of bad) {
      expect(() => trainBpeSync('abc', opts), JSON.stringify(opts)).toThrow(TokenizerError);
      try {
        trainBpeSync('abc', opts);
      } catch (e) {
        expect((e as TokenizerError).code).toBe('INVALID_ARGUMENT');
      }
    }
    expect(() => trainBpeSync([42 as unknown as string], { vocabSize: 300 })).toThrow(
      /chunks must be strings/,
    );
  });
});

describe('TrainingVocab', () => {
  it('reuses the id of bytes made by an earlier merge with another split', () => {
    const v = new TrainingVocab();
    const ab = v.merge(97, 98);
    const bc = v.merge(98, 99);
    const abc = v.merge(ab, 99);
    expect(v.merge(97, bc)).toBe(abc);
    expect(v.size).toBe(259);
  });
});
