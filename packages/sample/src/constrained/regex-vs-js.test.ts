// The regex engine (parser → NFA → lazy DFA) agrees with JavaScript's own RegExp, anchored as
// ^(?:…)$ with the 'u' flag, on generated strings: walks of the DFA (mostly matches), their
// mutations (near misses) and random strings over each pattern's alphabet.
import { describe, expect, it } from 'vitest';
import { contains } from './charset.js';
import { DEAD, LazyDfa } from './dfa.js';
import { rng } from '@llm/kit';

const PATTERNS = [
  'a|b',
  'ab*c',
  '(ab|cd)+e?',
  '[a-c]{2,4}',
  '\\d{4}-\\d{2}-\\d{2}',
  '[^abc]+',
  'x(?:y|z){0,3}',
  '(a|ab)(c|bcd)(d*)',
  '[\\w.+-]+@[\\w-]+\\.[a-z]{2,}',
  '.*',
  'a.b',
  '\\s*\\S+',
  '[äöü]+',
  '(?:😀|🎉){1,3}x?',
  '[\\u{1F600}-\\u{1F64F}]{2}',
  '\\d+(?:\\.\\d+)?',
  '\\u00e9\\x41',
  '[\\]\\-^]+',
  '(a*)*b',
  'a{0}b',
  '(|a)+',
  '[^]',
  '[\\d\\s]+',
  '\\W\\D',
  '^ab$',
  '(?<word>[a-z]+) x?',
  'a{2}b{1,}c{0,2}',
  '[a-z&&]+',
  '"(?:[^"\\\\\\x00-\\x1F]|\\\\(?:["\\\\/bfnrt]|u[0-9a-fA-F]{4}))*"',
  '-?(?:0|[1-9][0-9]*)(?:\\.[0-9]+)?(?:[eE][+-]?[0-9]+)?',
  '[\\n\\t\\r\\0]\\/\\.\\*',
  '[^\\s\\S]|a',
];

const EXTRA = [
  'a',
  'b',
  'c',
  'd',
  'e',
  'x',
  'y',
  'z',
  '0',
  '7',
  '-',
  '@',
  '.',
  ' ',
  '\n',
  'ä',
  'ü',
  '😀',
  '🎉',
  'é',
  'A',
  '_',
  '"',
  '\\',
  'u',
  '😃',
];

/** A random walk in the DFA: a string it accepts, or a prefix when the walk dead-ends. */
function walk(dfa: LazyDfa, next: () => number, maxLen: number): string {
  let s = '';
  let q = dfa.start;
  for (let i = 0; i < maxLen; i++) {
    if (dfa.isAccepting(q) && next() < 0.25) break;
    const set = dfa.outSet(q);
    if (set.length === 0) break;
    const r = Math.floor(next() * (set.length / 2)) * 2;
    const lo = set[r]!;
    const hi = Math.min(set[r + 1]!, lo + 200);
    let cp = lo + Math.floor(next() * (hi - lo + 1));
    if (cp >= 0xd800 && cp <= 0xdfff) cp = 0x41;
    if (!contains(set, cp)) break;
    s += String.fromCodePoint(cp);
    q = dfa.step(q, cp);
    if (q === DEAD) break;
  }
  return s;
}

function mutate(s: string, next: () => number, alphabet: string[]): string {
  const chars = [...s];
  const at = Math.floor(next() * (chars.length + 1));
  const c = alphabet[Math.floor(next() * alphabet.length)]!;
  const op = next();
  if (op < 0.33) chars.splice(at, 0, c);
  else if (op < 0.66) chars.splice(at, 1);
  else chars.splice(at, 1, c);
  return chars.join('');
}

function alphabetOf(pattern: string): string[] {
  return [...new Set([...pattern.replace(/\\[a-zA-Z]/g, ''), ...EXTRA])];
}

describe('regex engine vs RegExp', () => {
  for (const pattern of PATTERNS) {
    it(`agrees on /${pattern}/`, () => {
      const dfa = LazyDfa.fromPattern(pattern);
      const js = new RegExp(`^(?:${pattern})$`, 'u');
      const next = rng(pattern.length * 7919 + 1);
      const alphabet = alphabetOf(pattern);
      const strings = new Set<string>(['']);
      for (let i = 0; i < 200; i++) strings.add(walk(dfa, next, 24));
      for (const s of [...strings]) for (let k = 0; k < 2; k++) strings.add(mutate(s, next, alphabet));
      for (let i = 0; i < 150; i++) {
        const n = Math.floor(next() * 8);
        strings.add(Array.from({ length: n }, () => alphabet[Math.floor(next() * alphabet.length)]!).join(''));
      }
      let positives = 0;
      for (const s of strings) {
        const want = js.test(s);
        expect([s, dfa.matches(s)]).toEqual([s, want]);
        if (want) positives++;
      }
      expect(positives).toBeGreaterThan(0);
    });
  }
});
