import { describe, expect, it } from 'vitest';
import { ENCODING_NAMES, getEncoding, getEncodingDefinition } from './encodings.js';
import { TokenizerError } from './errors.js';
import { CL100K_PATTERN, GPT2_PATTERN, O200K_PATTERN } from './patterns.js';

describe('getEncoding', () => {
  it('builds each built-in encoding once and caches it', () => {
    expect(getEncoding('cl100k_base')).toBe(getEncoding('cl100k_base'));
    expect(getEncodingDefinition('cl100k_base')).toBe(getEncoding('cl100k_base').definition);
  });

  it('knows the four encodings, their sizes, patterns and special tokens', () => {
    const facts = ENCODING_NAMES.map((name) => {
      const def = getEncodingDefinition(name);
      return [name, def.ranks.size, def.pattern === GPT2_PATTERN ? 'gpt2' : def.pattern === CL100K_PATTERN ? 'cl100k' : def.pattern === O200K_PATTERN ? 'o200k' : '?', def.specialTokens.get('<|endoftext|>')];
    });
    expect(facts).toEqual([
      ['r50k_base', 50256, 'gpt2', 50256],
      ['p50k_base', 50280, 'gpt2', 50256],
      ['cl100k_base', 100256, 'cl100k', 100257],
      ['o200k_base', 199998, 'o200k', 199999],
    ]);
    expect(getEncoding('cl100k_base').vocabSize).toBe(100277);
    expect(getEncoding('cl100k_base').encode('hello world')).toEqual([15339, 1917]);
  });

  it('rejects unknown names with INVALID_ARGUMENT', () => {
    expect(() => getEncoding('gpt5' as 'r50k_base')).toThrow(TokenizerError);
    expect(() => getEncodingDefinition('nope' as 'r50k_base')).toThrow(/unknown encoding "nope"; known: r50k_base/);
  });
});
