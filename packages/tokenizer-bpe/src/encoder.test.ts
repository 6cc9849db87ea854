import { describe, expect, it } from 'vitest';
import type { TokenizerDefinition } from './definition.js';
import { Tokenizer } from './encoder.js';
import { getEncoding, getEncodingDefinition } from './encodings.js';
import { TokenizerError, type TokenizerErrorCode } from './errors.js';
import { GPT2_PATTERN } from './patterns.js';
import { rng } from '@llm/kit';
import { expectError } from './testing/expect-error.js';
import { fixedDocuments } from './testing/parity-corpus.js';

/** A tiny byte-level vocabulary: 256 bytes, a few merges, two special tokens. */
function tinyDefinition(pattern = GPT2_PATTERN): TokenizerDefinition {
  const ranks = new Map<string, number>();
  for (let b = 0; b < 256; b++) ranks.set(String.fromCharCode(b), b);
  ['he', 'll', 'hell', 'hello', ' w', ' wo', 'rl', ' wor', ' worl', ' world'].forEach((t, k) => ranks.set(t, 256 + k));
  return { name: 'tiny', pattern, ranks, specialTokens: new Map([['<|end|>', 300], ['<|pad|>', 301]]) };
}

describe('Tokenizer basics', () => {
  const tok = new Tokenizer(tinyDefinition());

  it('encodes, decodes and counts', () => {
    expect(tok.encode('hello world')).toEqual([259, 265]);
    expect(tok.decode([259, 265])).toBe('hello world');
    expect(tok.countTokens('hello world')).toBe(2);
    expect(tok.encodeBatch(['hello', ' world'])).toEqual([[259], [265]]);
    expect(tok.vocabSize).toBe(302);
    expect(tok.definition.name).toBe('tiny');
  });

  it('exposes special tokens read-only and gives token bytes', () => {
    expect([...tok.specialTokens]).toEqual([['<|end|>', 300], ['<|pad|>', 301]]);
    expect(Array.from(tok.tokenToBytes(258))).toEqual([104, 101, 108, 108]);
    expect(new TextDecoder().decode(tok.tokenToBytes(300))).toBe('<|end|>');
    const copy = tok.tokenToBytes(104);
    copy[0] = 0;
    expect(Array.from(tok.tokenToBytes(104))).toEqual([104]);
  });

  it('rejects unknown ids and non-string input', () => {
    expectError(() => tok.decode([1, 999]), 'UNKNOWN_TOKEN', /999/);
    expectError(() => tok.decode([-1]), 'UNKNOWN_TOKEN');
    expectError(() => tok.decode([1.5]), 'UNKNOWN_TOKEN');
    expectError(() => tok.tokenToBytes(302), 'UNKNOWN_TOKEN');
    expectError(() => tok.encode(42 as unknown as string), 'INVALID_ARGUMENT');
  });

  it('decodes invalid UTF-8 with U+FFFD and keeps a leading BOM', () => {
    expect(tok.decode([0xe2, 0x82])).toBe('\ufffd');
    expect(tok.decode([0xff, 104])).toBe('\ufffdh');
    expect(tok.decode([0xef, 0xbb, 0xbf, 104])).toBe('\ufeffh');
    expect(tok.decode(new Uint32Array([104, 105]))).toBe('hi');
    expect(tok.decode(new Set([104, 105]))).toBe('hi');
  });

  it('checks its definition', () => {
    const def = tinyDefinition();
    expectError(() => new Tokenizer({ ...def, specialTokens: new Map([['<|x|>', 5]]) }), 'INVALID_ARGUMENT', /used twice/);
    expectError(() => new Tokenizer({ ...def, ranks: new Map([['a', -1]]) }), 'INVALID_ARGUMENT', /non-negative/);
    expectError(() => new Tokenizer({ ...def, pattern: '(' }), 'INVALID_ARGUMENT', /invalid pre-tokenization pattern/);
  });

  it('throws UNSUPPORTED when text needs a byte the vocabulary lacks', () => {
    const def: TokenizerDefinition = { name: 'ab', pattern: GPT2_PATTERN, ranks: new Map([['a', 0], ['b', 1]]), specialTokens: new Map() };
    expect(new Tokenizer(def).encode('abba')).toEqual([0, 1, 1, 0]);
    expectError(() => new Tokenizer(def).encode('abc'), 'UNSUPPORTED', /\[63\]/);
  });
});

describe('special tokens (tiktoken semantics)', () => {
  const tok = new Tokenizer(tinyDefinition());
  const plain = (s: string): number[] => tok.encodeOrdinary(s);

  it('refuses special-token text by default, naming the token and the options', () => {
    const e = expectError(() => tok.encode('hi <|end|>'), 'DISALLOWED_SPECIAL', /disallowed special token "<\|end\|>"/);
    expect(e.message).toMatch(/allowedSpecial/);
    expect(e.message).toMatch(/disallowedSpecial: \[\]/);
    expectError(() => tok.countTokens('<|pad|>'), 'DISALLOWED_SPECIAL');
  });

  it('emits allowed special tokens as their ids', () => {
    expect(tok.encode('hello<|end|> world', { allowedSpecial: ['<|end|>'] })).toEqual([259, 300, 265]);
    expect(tok.encode('<|pad|><|end|>', { allowedSpecial: 'all' })).toEqual([301, 300]);
    expect(tok.countTokens('<|pad|>x<|end|>', { allowedSpecial: 'all' })).toBe(3);
  });

  it('still refuses the other specials when only some are allowed', () => {
    expectError(() => tok.encode('<|end|><|pad|>', { allowedSpecial: ['<|end|>'] }), 'DISALLOWED_SPECIAL', /<\|pad\|>/);
  });

  it('encodes special text that is neither allowed nor disallowed as ordinary text', () => {
    expect(tok.encode('a<|end|>', { disallowedSpecial: [] })).toEqual(plain('a<|end|>'));
    expect(tok.encode('<|end|><|pad|>', { allowedSpecial: ['<|end|>'], disallowedSpecial: [] })).toEqual([300, ...plain('<|pad|>')]);
    expect(tok.encodeOrdinary('<|end|>')).toEqual(plain('<|end|>'));
  });

  it('refuses a token listed as both allowed and disallowed (like tiktoken)', () => {
    expectError(() => tok.encode('<|end|>', { allowedSpecial: ['<|end|>'], disallowedSpecial: ['<|end|>'] }), 'DISALLOWED_SPECIAL');
  });

  it('rejects names that are not special tokens of the encoding', () => {
    expectError(() => tok.encode('x', { allowedSpecial: ['<|nope|>'] }), 'INVALID_ARGUMENT', /not a special token/);
    expectError(() => tok.encode('x', { disallowedSpecial: ['nope'] }), 'INVALID_ARGUMENT');
    expectError(() => tok.encode('x', { allowedSpecial: '<|end|>' as unknown as 'all' }), 'INVALID_ARGUMENT', /iterable/);
  });

  it('splits the text around specials, so pieces never cross them', () => {
    // "  " before a special: the space run ends at the special, as in tiktoken.
    expect(tok.encode('hello  <|end|>  world', { allowedSpecial: 'all' })).toEqual([...plain('hello  '), 300, ...plain('  world')]);
  });

  it('handles many special tokens (regex finder) the same way', () => {
    const def = tinyDefinition();
    const specials = new Map<string, number>();
    for (let k = 0; k < 20; k++) specials.set(`<|reserved_${k}|>`, 400 + k);
    const big = new Tokenizer({ ...def, specialTokens: specials });
    expect(big.encode('a<|reserved_13|>b<|reserved_1|>', { allowedSpecial: 'all' })).toEqual([97, 413, 98, 401]);
    expectError(() => big.encode('<|reserved_19|>'), 'DISALLOWED_SPECIAL', /reserved_19/);
  });
});

describe('decode of arbitrary id sequences', () => {
  it('equals TextDecoder on the concatenated bytes, for short (string path) and long (byte path) lists', () => {
    const tok = getEncoding('o200k_base');
    const reference = new TextDecoder('utf-8', { ignoreBOM: true });
    const r = rng(11);
    let bad = 0;
    for (const [count, length] of [[500, 12], [3, 20000]] as const) {
      for (let k = 0; k < count; k++) {
        // Random ids hit many tokens that hold partial UTF-8 sequences.
        const ids = Array.from({ length }, () => Math.floor(r() * 199998));
        if (tok.decode(ids) !== reference.decode(tok.decodeBytes(ids))) bad++;
      }
    }
    expect(bad).toBe(0);
  });
});

describe('streaming decoder', () => {
  const tok = getEncoding('cl100k_base');

  it('holds back partial characters and matches decode(all) for every document', () => {
    let bad = 0;
    for (const doc of fixedDocuments()) {
      const ids = tok.encodeOrdinary(doc);
      const d = tok.decoder();
      const chunks = ids.map((id) => d.push(id));
      const all = chunks.join('') + d.flush();
      if (all !== tok.decode(ids) || chunks.some((c) => c.includes('\ufffd') && !tok.decode(ids).includes('\ufffd'))) bad++;
    }
    expect(bad).toBe(0);
  });

  it('emits an emoji split over byte tokens whole, and U+FFFD for a dangling end', () => {
    const bytes = Array.from(new TextEncoder().encode('🙂'));
    const byteIds = bytes.map((b) => getEncodingDefinition('cl100k_base').ranks.get(String.fromCharCode(b))!);
    const d = tok.decoder();
    expect(byteIds.slice(0, 3).map((id) => d.push(id))).toEqual(['', '', '']);
    expect(d.push(byteIds[3]!)).toBe('🙂');
    expect(d.push(byteIds.slice(0, 2))).toBe('');
    expect(d.flush()).toBe('\ufffd');
    expect(d.push(tok.encode('ok'))).toBe('ok');
  });

  it('leaves the stream intact when an unknown id is pushed', () => {
    const d = tok.decoder();
    expectError(() => d.push([15339, 10 ** 7]), 'UNKNOWN_TOKEN');
    expect(d.push(15339) + d.flush()).toBe('hello');
  });
});

describe('cache and custom patterns', () => {
  it('gives the same ids with any cache size (eviction included)', () => {
    const def = getEncodingDefinition('cl100k_base');
    const text = fixedDocuments().join('\n');
    const expected = getEncoding('cl100k_base').encodeOrdinary(text);
    for (const cacheSize of [0, 1, 7, 100]) {
      const tok = new Tokenizer(def, { cacheSize });
      expect(tok.encodeOrdinary(text)).toEqual(expected);
      expect(tok.encodeOrdinary(text)).toEqual(expected); // second pass: served from the cache
    }
  });

  it('runs custom patterns as regexes, dropping unmatched text and empty matches', () => {
    const tok = new Tokenizer(tinyDefinition(String.raw`\p{L}+|x*`));
    expect(tok.decode(tok.encode('hello, world!'))).toBe('helloworld');
    expect(tok.encode('hello')).toEqual([259]);
  });
});
