// The hand-written scanners must cut text exactly where the built-in regexes of patterns.ts do.
// Differential test on the fixed documents plus 20 000 random strings (no tiktoken needed; the
// tiktoken side is parity.test.ts).
import { describe, expect, it } from 'vitest';
import { CL100K_PATTERN, GPT2_PATTERN, O200K_PATTERN, compilePattern } from '../patterns.js';
import { rng } from '@llm/kit';
import { fixedDocuments, randomText } from '../testing/parity-corpus.js';
import { type Scanner, scanCl100k, scanGpt2, scanO200k } from './scanners.js';

function byScanner(scan: Scanner, text: string, start = 0, end = text.length): string[] {
  const out: string[] = [];
  for (let i = start; i < end; ) {
    const j = scan(text, i, end);
    if (j <= i || j > end) throw new Error(`scanner returned ${j} at ${i}`);
    out.push(text.slice(i, j));
    i = j;
  }
  return out;
}

function byRegex(source: string, text: string): string[] {
  return Array.from(text.matchAll(compilePattern(source)), (m) => m[0]);
}

const CASES: Array<[string, Scanner, string]> = [
  ['gpt2', scanGpt2, GPT2_PATTERN],
  ['cl100k', scanCl100k, CL100K_PATTERN],
  ['o200k', scanO200k, O200K_PATTERN],
];

describe.each(CASES)('%s scanner', (_name, scan, pattern) => {
  it('matches the regex on the fixed documents and 20 000 random strings', () => {
    const r = rng(42);
    const docs = [...fixedDocuments()];
    for (let k = 0; k < 20000; k++) docs.push(randomText(r, 1 + Math.floor(r() * 40)));
    let bad = 0;
    const examples: string[] = [];
    for (const doc of docs) {
      const a = byScanner(scan, doc);
      const b = byRegex(pattern, doc);
      if (a.join('\u0000') !== b.join('\u0000') || a.length !== b.length) {
        bad++;
        if (examples.length < 3) examples.push(`${JSON.stringify(doc)} → ${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
      }
    }
    expect(bad, `${bad} of ${docs.length} documents split differently: ${examples.join('\n')}`).toBe(0);
  });

  it('treats `end` as the end of the text', () => {
    const text = 'hello   world  \n\n  <|x|>  tail';
    const end = text.indexOf('<|');
    expect(byScanner(scan, text, 0, end)).toEqual(byRegex(pattern, text.slice(0, end)));
    expect(byScanner(scan, text, end + 5)).toEqual(byRegex(pattern, text.slice(end + 5)));
  });
});

describe('scanner examples', () => {
  it('cl100k groups digits by three and keeps the last space of a run for the next word', () => {
    expect(byScanner(scanCl100k, 'x = 12345\n')).toEqual(['x', ' =', ' ', '123', '45', '\n']);
    expect(byScanner(scanCl100k, 'a   b')).toEqual(['a', '  ', ' b']);
    expect(byScanner(scanCl100k, "WE'LL it'ſ")).toEqual(['WE', "'LL", ' it', "'ſ"]);
  });
  it('o200k splits at case changes and keeps contractions on the word', () => {
    expect(byScanner(scanO200k, "HelloWorld's XMLHttp")).toEqual(['Hello', "World's", ' XMLHttp']);
    expect(byScanner(scanO200k, 'a/b!!\n/x')).toEqual(['a', '/b', '!!\n/', 'x']);
  });
  it('gpt2 contractions are case-sensitive and digits are not grouped', () => {
    expect(byScanner(scanGpt2, "it's IT'S 123456")).toEqual(['it', "'s", ' IT', "'", 'S', ' 123456']);
  });
  it('reads lone surrogates as U+FFFD (punctuation) and keeps pairs whole', () => {
    expect(byScanner(scanCl100k, 'a\ud800b 😀😀')).toEqual(['a', '\ud800b', ' 😀😀']);
    expect(byScanner(scanO200k, '𝐀𝐁c')).toEqual(['𝐀𝐁c']);
  });
  it('uses Rust\'s \\s: U+0085 is whitespace, U+FEFF is not', () => {
    expect(byScanner(scanCl100k, 'a\u0085\u0085b')).toEqual(['a', '\u0085', '\u0085b']);
    expect(byScanner(scanCl100k, 'a\ufeff\ufeff b')).toEqual(['a', '\ufeff\ufeff', ' b']);
  });
});
