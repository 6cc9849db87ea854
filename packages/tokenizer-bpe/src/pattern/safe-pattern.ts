/**
 * Pre-tokenization patterns from untrusted places (tokenizer files, options) run here: vetted,
 * compiled once, and matched in time linear in the text, with the matches JavaScript's own
 * `new RegExp(source, 'gu')` would give.
 *
 *   const p = compileSafePattern("'s|\\p{L}+|\\s+(?!\\S)|\\s+");
 *   p.split("it's here")                   // → ['it', "'s", ' ', 'here']
 *   compileSafePattern('(a+)+$').split('a'.repeat(100_000) + '!')   // fast: [] (a backtracking engine never returns)
 *   compileSafePattern('(a*)*b')          // UNSAFE_PATTERN: a quantifier over something that can match ''
 *
 * What is accepted (everything else is UNSAFE_PATTERN or, for invalid syntax, INVALID_ARGUMENT):
 * - any JavaScript 'u'-mode syntax for single code points: literals, escapes, `.`, `\d \s \w` and
 *   their negations, `\p{…}` / `\P{…}`, character classes;
 * - sequences, alternation `|`, groups `( )`, `(?: )`, `(?<name> )` (captures are not reported);
 * - quantifiers `* + ? {n} {n,} {n,m}` and their lazy forms, with counts ≤ maxPatternRepeat, on
 *   anything that cannot match the empty string (`(a*)*`, `(a?)+`, `(|a)+` are refused);
 * - anchors `^ $ \b \B`; lookaheads `(?= )` `(?! )` with any accepted body; lookbehinds
 *   `(?<= )` `(?<! )` over a fixed sequence of code points / classes;
 * - the atomic-group idiom `(?=(?<n>X))\k<n>` (what tiktoken's possessive quantifiers translate
 *   to); any other back-reference is refused.
 * Size limits: maxPatternLength, maxPatternDepth, maxPatternRepeat, maxPatternProgram, maxPatternSets.
 */
import { type TokenizerLimits, resolveLimits } from '../limits.js';
import { Matcher } from './matcher.js';
import { parsePattern } from './parse.js';
import { type Program, compileProgram } from './program.js';

const programs = new Map<string, Program>();
const PROGRAM_CACHE = 64;

function programFor(source: string, limits: TokenizerLimits): Program {
  const key = `${limits.maxPatternLength},${limits.maxPatternDepth},${limits.maxPatternRepeat},${limits.maxPatternProgram},${limits.maxPatternSets}\u0000${source}`;
  let prog = programs.get(key);
  if (prog === undefined) {
    prog = compileProgram(parsePattern(source, limits), source, limits);
    if (programs.size >= PROGRAM_CACHE) programs.delete(programs.keys().next().value as string);
    programs.set(key, prog);
  }
  return prog;
}

export class SafePattern {
  private readonly matcher: Matcher;

  /** Vets and compiles `source` (JavaScript regex syntax, as for flags 'gu'). */
  constructor(
    readonly source: string,
    limits?: Partial<TokenizerLimits>,
  ) {
    const resolved = resolveLimits(limits);
    this.matcher = new Matcher(programFor(source, resolved), resolved);
  }

  /**
   * Calls `fn(i, j)` for each non-empty match in text[start..end), in order, as
   * `text.slice(start, end).matchAll(new RegExp(source, 'gu'))` would find them (an empty match
   * skips one code point). `^`, `$` and lookarounds see only that range.
   */
  forEachMatch(text: string, start: number, end: number, fn: (i: number, j: number) => void): void {
    this.matcher.forEachMatch(text, start, end, fn);
  }

  /** The non-empty matches of `text`, in order. `compileSafePattern('\\d+').split('a1b22')` → ['1', '22']. */
  split(text: string): string[] {
    const out: string[] = [];
    this.matcher.forEachMatch(text, 0, text.length, (i, j) => out.push(text.slice(i, j)));
    return out;
  }
}

/** A SafePattern for `source` (see SafePattern): UNSAFE_PATTERN / LIMIT_EXCEEDED / INVALID_ARGUMENT when refused. */
export function compileSafePattern(source: string, limits?: Partial<TokenizerLimits>): SafePattern {
  return new SafePattern(source, limits);
}
