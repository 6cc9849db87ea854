import { describe, expect, it } from 'vitest';
import type { TokenizerDefinition } from '../definition.js';
import { TokenizerError, type TokenizerErrorCode } from '../errors.js';
import { CL100K_PATTERN, GPT2_PATTERN, O200K_PATTERN } from '../patterns.js';
import { expectError } from '../testing/expect-error.js';
import { randomCorpus } from '../testing/random-corpus.js';
import { trainBpeSync } from '../train/train.js';
import { BYTE_TO_CHAR, binaryToByteLevel, byteLevelToBinary } from './byte-level.js';
import { deriveMerges } from './derive-merges.js';
import { fromHfTokenizerJson, toHfTokenizerJson } from './hf-json.js';
import { TIKTOKEN_PAT_STRS } from './hf-patterns.js';

/** 256 byte tokens (rank = byte) plus the given multi-byte tokens. */
function def(
  extra: Array<[string, number]>,
  specials: Array<[string, number]> = [],
  pattern = GPT2_PATTERN,
): TokenizerDefinition {
  const ranks = new Map<string, number>();
  for (let b = 0; b < 256; b++) ranks.set(String.fromCharCode(b), b);
  for (const [t, r] of extra) ranks.set(t, r);
  return { name: 'tokenizer', pattern, ranks, specialTokens: new Map(specials) };
}

describe('byte-level text (GPT-2 bytes_to_unicode)', () => {
  it('maps bytes like GPT-2', () => {
    expect(BYTE_TO_CHAR[32]).toBe('Ġ');
    expect(BYTE_TO_CHAR[10]).toBe('Ċ');
    expect(BYTE_TO_CHAR[0]).toBe('Ā');
    expect(BYTE_TO_CHAR[33]).toBe('!');
    expect(BYTE_TO_CHAR[173]).toBe('Ń'); // the soft hyphen is not printable: 256 + 67
    expect(new Set(BYTE_TO_CHAR).size).toBe(256);
    expect(binaryToByteLevel(' the\n')).toBe('ĠtheĊ');
    expect(byteLevelToBinary('ĠtheĊ')).toBe(' the\n');
    expect(byteLevelToBinary('中')).toBeUndefined();
  });
});

describe('deriveMerges', () => {
  it('splits each token with lower-ranked BPE', () => {
    // 'abc' (258): BPE below 258 on a,b,c merges 'ab' (256) before 'bc' (257) → ab + c.
    const d = def([
      ['ab', 256],
      ['bc', 257],
      ['abc', 258],
    ]);
    expect(deriveMerges(d.ranks).map((m) => [m.left, m.right])).toEqual([
      ['a', 'b'],
      ['b', 'c'],
      ['ab', 'c'],
    ]);
  });
  it('rejects a token with no two-part split', () => {
    expectError(
      () => deriveMerges(def([['abc', 256]]).ranks),
      'INVALID_FORMAT',
      /"abc" \(rank 256\) cannot be made/,
    );
  });
});

describe('toHfTokenizerJson', () => {
  it('writes the expected merges and vocab for a hand-built vocabulary', () => {
    const d = def(
      [
        ['he', 256],
        ['ll', 257],
        ['hell', 258],
        ['hello', 259],
        [' hello', 260],
      ],
      [['<|endoftext|>', 261]],
    );
    const json = toHfTokenizerJson(d);
    expect(json.model.merges).toEqual(['h e', 'l l', 'he ll', 'hell o', 'Ġ hello']);
    expect(json.model.vocab['Ġhello']).toBe(260);
    expect(json.model.vocab['Ġ']).toBe(32);
    expect(json.model.vocab['!']).toBe(33);
    expect(Object.keys(json.model.vocab)).toHaveLength(261); // specials live in added_tokens only
    expect(json.added_tokens).toEqual([
      {
        id: 261,
        content: '<|endoftext|>',
        single_word: false,
        lstrip: false,
        rstrip: false,
        normalized: false,
        special: true,
      },
    ]);
    expect(json.pre_tokenizer).toEqual({
      type: 'ByteLevel',
      add_prefix_space: false,
      trim_offsets: true,
      use_regex: true,
    });
    expect(json.model.type).toBe('BPE');
    expect(json.model.byte_fallback).toBe(false);
  });

  it('writes a Split + ByteLevel sequence for a custom pattern', () => {
    const json = toHfTokenizerJson(def([], [], '\\S+|\\s+'));
    expect(json.pre_tokenizer).toEqual({
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: '\\S+|\\s+' }, behavior: 'Isolated', invert: false },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    });
  });
});

describe('round trip through tokenizer.json', () => {
  const patterns: Array<[string, string]> = [
    ['gpt2', GPT2_PATTERN],
    ['cl100k', CL100K_PATTERN],
    ['o200k', O200K_PATTERN],
    ['custom', String.raw`\p{L}+|\p{N}{1,3}| ?[^\p{L}\p{N}]+|[\r\n]+| +`],
  ];
  for (const [label, pattern] of patterns) {
    it(`keeps ranks, specials and pattern (${label})`, () => {
      const text = randomCorpus(21, 'abcdé中🙂 12,.', 3000);
      const trained = trainBpeSync(text, {
        vocabSize: 900,
        pattern,
        specialTokens: ['<|endoftext|>', '<|pad|>'],
        name: 'rt',
      });
      const back = fromHfTokenizerJson(JSON.stringify(toHfTokenizerJson(trained)), { name: 'rt' });
      expect(back).toEqual(trained);
    });
  }
});

/** A minimal valid GPT-2-style tokenizer.json with 'ab' = 256 and <|endoftext|> = 257 in vocab. */
function gpt2Like(): Record<string, any> {
  const vocab: Record<string, number> = {};
  for (let b = 0; b < 256; b++) vocab[BYTE_TO_CHAR[b]!] = b;
  vocab['ab'] = 256;
  vocab['<|endoftext|>'] = 257;
  return {
    version: '1.0',
    added_tokens: [{ id: 257, content: '<|endoftext|>', special: true }],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    decoder: { type: 'ByteLevel' },
    model: { type: 'BPE', vocab, merges: [['a', 'b']] },
  };
}

describe('fromHfTokenizerJson', () => {
  it('reads a GPT-2-style file (special token also in vocab, array merges)', () => {
    const d = fromHfTokenizerJson(gpt2Like());
    expect(d.ranks.get('ab')).toBe(256);
    expect(d.ranks.size).toBe(257);
    expect(d.specialTokens).toEqual(new Map([['<|endoftext|>', 257]]));
    expect(d.pattern).toBe(GPT2_PATTERN);
  });

  it('reads a Llama-3-style Split pattern (tiktoken pat_str) as our cl100k pattern', () => {
    const j = gpt2Like();
    j.pre_tokenizer = {
      type: 'Sequence',
      pretokenizers: [
        {
          type: 'Split',
          pattern: { Regex: TIKTOKEN_PAT_STRS.get(CL100K_PATTERN) },
          behavior: 'Isolated',
          invert: false,
        },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    };
    expect(fromHfTokenizerJson(j).pattern).toBe(CL100K_PATTERN);
    expect(toHfTokenizerJson({ ...fromHfTokenizerJson(j), specialTokens: new Map() }).pre_tokenizer).toEqual(
      j.pre_tokenizer,
    );
  });

  it('writes built-in patterns as the pat_strs that translate back to them', async () => {
    const { translateTiktokenPattern } = await import('../pattern-translate.js');
    for (const [ours, rust] of TIKTOKEN_PAT_STRS) expect(translateTiktokenPattern(rust)).toBe(ours);
  });

  const hostile: Array<[string, (j: Record<string, any>) => unknown, TokenizerErrorCode, RegExp]> = [
    ['not JSON', () => '{"model":', 'INVALID_FORMAT', /not valid JSON/],
    ['an array', () => [], 'INVALID_FORMAT', /JSON object/],
    ['no model', (j) => ({ ...j, model: undefined }), 'INVALID_FORMAT', /"model" must be an object/],
    [
      'a WordPiece model',
      (j) => ({ ...j, model: { ...j.model, type: 'WordPiece' } }),
      'UNSUPPORTED',
      /model.type "WordPiece"/,
    ],
    [
      'vocab as an array',
      (j) => ({ ...j, model: { ...j.model, vocab: [] } }),
      'INVALID_FORMAT',
      /model.vocab must be an object/,
    ],
    [
      'merges as an object',
      (j) => ({ ...j, model: { ...j.model, merges: {} } }),
      'INVALID_FORMAT',
      /model.merges must be an array/,
    ],
    [
      'a merge of an unknown token',
      (j) => ({ ...j, model: { ...j.model, merges: ['a b', 'x yz'] } }),
      'INVALID_FORMAT',
      /model.merges\[1\].*unknown token "yz"/,
    ],
    [
      'a merge with one part',
      (j) => ({ ...j, model: { ...j.model, merges: ['ab'] } }),
      'INVALID_FORMAT',
      /model.merges\[0\] must be/,
    ],
    [
      'a merge whose result is not in vocab',
      (j) => ({ ...j, model: { ...j.model, merges: ['a b', 'b c'] } }),
      'INVALID_FORMAT',
      /unknown token "bc"/,
    ],
    [
      'a negative id',
      (j) => ({ ...j, model: { ...j.model, vocab: { ...j.model.vocab, a: -1 } } }),
      'INVALID_FORMAT',
      /model.vocab\["a"\] must be a non-negative integer/,
    ],
    [
      'a duplicate id',
      (j) => ({ ...j, model: { ...j.model, vocab: { ...j.model.vocab, a: 98 } } }),
      'INVALID_FORMAT',
      /id 98 is used by both/,
    ],
    [
      'a non-byte-level token',
      (j) => ({ ...j, model: { ...j.model, vocab: { ...j.model.vocab, 中: 300 } } }),
      'INVALID_FORMAT',
      /"中" is not byte-level text/,
    ],
    [
      'a multi-byte token no merge makes',
      (j) => ({ ...j, model: { ...j.model, vocab: { ...j.model.vocab, xy: 300 } } }),
      'UNSUPPORTED',
      /"xy" \(id 300\) is not produced by any merge/,
    ],
    [
      'merges out of id order',
      (j) => ({ ...j, model: { ...j.model, vocab: { ...j.model.vocab, cd: 258 }, merges: ['c d', 'a b'] } }),
      'UNSUPPORTED',
      /model.merges\[1\].*out of merge order/,
    ],
    [
      'add_prefix_space',
      (j) => ({ ...j, pre_tokenizer: { type: 'ByteLevel', add_prefix_space: true } }),
      'UNSUPPORTED',
      /add_prefix_space must be false/,
    ],
    ['no pre_tokenizer', (j) => ({ ...j, pre_tokenizer: null }), 'UNSUPPORTED', /pre_tokenizer is missing/],
    [
      'a Whitespace pre_tokenizer',
      (j) => ({ ...j, pre_tokenizer: { type: 'Whitespace' } }),
      'UNSUPPORTED',
      /pre_tokenizer of type "Whitespace"/,
    ],
    ['a normalizer', (j) => ({ ...j, normalizer: { type: 'NFC' } }), 'UNSUPPORTED', /normalizer/],
    [
      'byte_fallback',
      (j) => ({ ...j, model: { ...j.model, byte_fallback: true } }),
      'UNSUPPORTED',
      /byte_fallback/,
    ],
    [
      'a WordPiece decoder',
      (j) => ({ ...j, decoder: { type: 'WordPiece' } }),
      'UNSUPPORTED',
      /decoder of type "WordPiece"/,
    ],
    [
      'added_tokens not an array',
      (j) => ({ ...j, added_tokens: {} }),
      'INVALID_FORMAT',
      /added_tokens must be an array/,
    ],
    [
      'an added token without id',
      (j) => ({ ...j, added_tokens: [{ content: 'x' }] }),
      'INVALID_FORMAT',
      /added_tokens\[0\].id/,
    ],
    [
      'an added token whose id is another vocab token',
      (j) => ({ ...j, added_tokens: [{ id: 256, content: '<s>' }] }),
      'INVALID_FORMAT',
      /id 256 is vocab token "ab" and added token "<s>"/,
    ],
    [
      'duplicate added ids',
      (j) => ({
        ...j,
        added_tokens: [
          { id: 257, content: '<|endoftext|>' },
          { id: 257, content: '<x>' },
        ],
      }),
      'INVALID_FORMAT',
      /id 257 is used twice/,
    ],
    [
      'a Split pattern with no JS translation',
      (j) => ({
        ...j,
        pre_tokenizer: {
          type: 'Sequence',
          pretokenizers: [
            { type: 'Split', pattern: { Regex: String.raw`\bword\b` }, behavior: 'Isolated', invert: false },
            { type: 'ByteLevel', add_prefix_space: false, use_regex: false },
          ],
        },
      }),
      'UNSUPPORTED',
      /pattern cannot be used as a JS regex: cannot translate \\b/,
    ],
  ];
  for (const [label, mutate, code, message] of hostile) {
    it(`rejects ${label}`, () => {
      const j = mutate(gpt2Like());
      expectError(() => fromHfTokenizerJson(typeof j === 'string' ? j : JSON.stringify(j)), code, message);
    });
  }

  it('treats "__proto__" as an ordinary token', () => {
    const j = gpt2Like();
    const text = JSON.stringify(j).replace('"ab":256', '"__proto__":300,"ab":256');
    expectError(
      () => fromHfTokenizerJson(text),
      'UNSUPPORTED',
      /"__proto__" \(id 300\) is not produced by any merge/,
    );
  });
});

describe('real tiktoken ranks through tokenizer.json', () => {
  it('round-trips cl100k_base (ranks from the tiktoken package)', async () => {
    const { getEncodingDefinition } = await import('../encodings.js');
    let def: TokenizerDefinition;
    try {
      def = getEncodingDefinition('cl100k_base');
    } catch (e) {
      if ((e as TokenizerError).code === 'UNSUPPORTED') return; // tiktoken package not installed
      throw e;
    }
    const json = toHfTokenizerJson(def);
    expect(json.model.merges.slice(0, 3)).toEqual(['Ġ Ġ', 'ĠĠ ĠĠ', 'i n']);
    expect(json.model.merges).toHaveLength(def.ranks.size - 256);
    const back = fromHfTokenizerJson(JSON.stringify(json), { name: 'cl100k_base' });
    expect(back.pattern).toBe(CL100K_PATTERN);
    expect(back.specialTokens).toEqual(def.specialTokens);
    expect(back.ranks).toEqual(def.ranks);
  });
});
