import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { TokenizerError } from './errors.js';
import { translateGeneric, translateTiktokenPattern } from './pattern-translate.js';
import { CL100K_PATTERN, GPT2_PATTERN, O200K_PATTERN, compilePattern } from './patterns.js';
import { rng } from '@llm/kit';
import { fixedDocuments, randomText } from './testing/parity-corpus.js';

const require = createRequire(import.meta.url);
const patStr = (name: string): string => (require(`tiktoken/encoders/${name}.json`) as { pat_str: string }).pat_str;

function split(source: string, text: string): string[] {
  return Array.from(text.matchAll(compilePattern(source)), (m) => m[0]);
}

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return e instanceof TokenizerError ? e.code : `other: ${String(e)}`;
  }
  return undefined;
}

describe('compilePattern', () => {
  it('compiles with flags gu', () => {
    expect(compilePattern(String.raw`\p{L}+`).flags).toBe('gu');
    expect(split(CL100K_PATTERN, "I'm here")).toEqual(['I', "'m", ' here']);
  });
  it('reports a bad source as INVALID_ARGUMENT', () => {
    expect(codeOf(() => compilePattern('(unclosed'))).toBe('INVALID_ARGUMENT');
    expect(() => compilePattern('[')).toThrow(/invalid pre-tokenization pattern "\["/);
  });
});

describe('translateTiktokenPattern', () => {
  it("maps tiktoken's own pat_strs to the built-in constants", () => {
    expect(translateTiktokenPattern(patStr('r50k_base'))).toBe(GPT2_PATTERN);
    expect(translateTiktokenPattern(patStr('p50k_base'))).toBe(GPT2_PATTERN);
    expect(translateTiktokenPattern(patStr('cl100k_base'))).toBe(CL100K_PATTERN);
    expect(translateTiktokenPattern(patStr('o200k_base'))).toBe(O200K_PATTERN);
  });

  it('translates those pat_strs generically into equivalent regexes', () => {
    const r = rng(5);
    const docs = [...fixedDocuments(), ...Array.from({ length: 3000 }, () => randomText(r, 30))];
    for (const [name, constant] of [['r50k_base', GPT2_PATTERN], ['cl100k_base', CL100K_PATTERN], ['o200k_base', O200K_PATTERN]] as const) {
      const generic = translateGeneric(patStr(name));
      const bad = docs.filter((d) => split(generic, d).join('\u0000') !== split(constant, d).join('\u0000'));
      expect(bad.length, `${name}: ${JSON.stringify(bad.slice(0, 3))}`).toBe(0);
    }
  });

  it('gives Rust meanings to \\s \\S \\d \\w and .', () => {
    const t = (src: string, s: string): string[] => split(translateTiktokenPattern(src), s);
    expect(t(String.raw`\s+`, 'a\u0085\u00a0b\ufeffc')).toEqual(['\u0085\u00a0']);
    expect(t(String.raw`\S+`, 'a\u0085b')).toEqual(['a', 'b']);
    expect(t(String.raw`\d+`, 'x٣4y')).toEqual(['٣4']);
    expect(t(String.raw`\w+`, 'héllo wörld_1')).toEqual(['héllo', 'wörld_1']);
    expect(t('.+', 'a\rb\nc')).toEqual(['a\rb', 'c']);
    expect(t(String.raw`[^\s\d]+`, 'ab 12 ٣c')).toEqual(['ab', 'c']);
  });

  it('expands (?i:…) groups, including ſ for s', () => {
    const src = translateTiktokenPattern(String.raw`(?i:'s|ll)|[a-c]`);
    expect(split(src, "'S 'ſ LL lL b")).toEqual(["'S", "'ſ", 'LL', 'lL', 'b']);
    expect(split(translateTiktokenPattern('(?i:[a-c]x)'), 'Bx AX cX')).toEqual(['Bx', 'AX', 'cX']);
  });

  it('turns possessive quantifiers into atomic groups', () => {
    const atomic = translateTiktokenPattern('a*+a');
    expect(split(atomic, 'aaa')).toEqual([]); // `a*` keeps every a; no backtracking
    expect(split(translateTiktokenPattern('a*a'), 'aaa')).toEqual(['aaa']);
    expect(split(translateTiktokenPattern(String.raw`\p{N}{1,3}+x|\d`), '1234x')).toEqual(['1', '234x']);
    expect(split(translateTiktokenPattern(String.raw`(?:ab)++c|.`), 'ababc')).toEqual(['ababc']);
  });

  it("translates Python tiktoken's possessive cl100k pattern", () => {
    const py = String.raw`'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s`;
    expect(split(translateTiktokenPattern(py), "We'LL pay 12345!!\n  ")).toEqual(['We', "'LL", ' pay', ' ', '123', '45', '!!\n', '  ']);
  });

  it('rewrites (?P<name> and escaped punctuation', () => {
    expect(compilePattern(translateTiktokenPattern('(?P<w>a)b')).exec('ab')?.groups?.w).toBe('a');
    expect(split(translateTiktokenPattern(String.raw`\#\'`), "#'")).toEqual(["#'"]);
  });

  it('refuses what it cannot translate faithfully', () => {
    for (const src of [String.raw`\bword\b`, String.raw`(a)\1`, '(?x)a b', '(?s:.)', String.raw`[^\S]`, '(a', 'a)']) {
      expect(codeOf(() => translateTiktokenPattern(src)), src).toBe('UNSUPPORTED');
    }
  });
});
