/**
 * Parses an untrusted pre-tokenization pattern (JavaScript regex syntax, flags 'gu') into the
 * small tree the linear-time matcher runs, refusing what it cannot run in linear time.
 *
 *   parsePattern("'s|\\p{L}+|\\s+(?!\\S)", TOKENIZER_LIMITS)
 *   // → { t: 'alt', items: [ seq ', s ], [ rep(\p{L}, 1..∞) ], [ rep(\s), look(!\S) ] ] }
 *   parsePattern('(a*)*b', TOKENIZER_LIMITS)   // throws UNSAFE_PATTERN (a repeated group that can match '')
 *
 * Order of checks, each linear in the pattern's length: its length (`maxPatternLength`), its
 * group nesting (`maxPatternDepth`, counted without recursion, so `((((…))))` is a typed error and
 * never a stack overflow), JavaScript's own syntax check (`new RegExp(source, 'gu')`), then this
 * parser (recursive only as deep as the nesting already checked) and the refusals of
 * `vetPattern`.
 */
import { TokenizerError } from '../errors.js';
import type { TokenizerLimits } from '../limits.js';

/** Assertion kinds: `^`, `$`, `\b`, `\B`. */
export const enum AssertKind {
  Start = 0,
  End = 1,
  WordBoundary = 2,
  NotWordBoundary = 3,
}

export type PatternNode =
  /** One code point from a set; `src` is JavaScript source matching exactly one code point. */
  | { t: 'set'; src: string }
  | { t: 'seq'; items: PatternNode[] }
  | { t: 'alt'; items: PatternNode[] }
  /** A group; captures are not reported, `name` only matters for the atomic-group idiom. */
  | { t: 'group'; body: PatternNode; name: string | undefined }
  | { t: 'look'; body: PatternNode; behind: boolean; neg: boolean }
  | { t: 'rep'; body: PatternNode; min: number; max: number; greedy: boolean }
  | { t: 'assert'; kind: AssertKind }
  | { t: 'backref'; ref: string }
  /** `(?=(?<n>X))\k<n>`: X matched once, never backtracked into (what possessive quantifiers become). */
  | { t: 'atomic'; body: PatternNode };

/** A TokenizerError('UNSAFE_PATTERN') that quotes (the start of) the pattern. */
export function unsafePattern(source: string, why: string): TokenizerError {
  const shown = source.length > 120 ? `${JSON.stringify(source.slice(0, 120))}…` : JSON.stringify(source);
  return new TokenizerError(
    'UNSAFE_PATTERN',
    `pre-tokenization pattern ${shown} is refused: ${why}. Patterns from files run on a linear-time matcher that accepts ` +
      `the subset documented in the README ("Limits and threat model"); rewrite the pattern within it.`,
  );
}

/** Group nesting depth of `source` (parentheses outside classes and escapes), computed without recursion. */
export function patternDepth(source: string): number {
  let depth = 0;
  let max = 0;
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source.charCodeAt(i);
    if (c === 0x5c /* \ */) {
      i++;
      continue;
    }
    if (inClass) {
      if (c === 0x5d /* ] */) inClass = false;
      continue;
    }
    if (c === 0x5b /* [ */) inClass = true;
    else if (c === 0x28 /* ( */) max = Math.max(max, ++depth);
    else if (c === 0x29 /* ) */) depth--;
  }
  return max;
}

/** Checks size, depth and JavaScript syntax, then parses and vets `source`. */
export function parsePattern(source: string, limits: TokenizerLimits): PatternNode {
  if (typeof source !== 'string' || source.length === 0) {
    throw new TokenizerError('INVALID_ARGUMENT', 'a pre-tokenization pattern must be a non-empty regex source');
  }
  if (source.length > limits.maxPatternLength) {
    throw new TokenizerError(
      'LIMIT_EXCEEDED',
      `pre-tokenization pattern is ${source.length} characters long, over the limit of ${limits.maxPatternLength} (limits.maxPatternLength)`,
    );
  }
  const depth = patternDepth(source);
  if (depth > limits.maxPatternDepth) {
    throw unsafePattern(source, `its groups nest ${depth} deep, over the limit of ${limits.maxPatternDepth} (limits.maxPatternDepth)`);
  }
  try {
    new RegExp(source, 'gu');
  } catch (e) {
    throw new TokenizerError('INVALID_ARGUMENT', `invalid pre-tokenization pattern ${JSON.stringify(source)}: ${(e as Error).message}`, { cause: e });
  }
  const tree = new Parser(source).parse();
  return vetPattern(source, tree, limits);
}

const HEX = /^[0-9A-Fa-f]$/;

class Parser {
  private i = 0;

  constructor(private readonly src: string) {}

  parse(): PatternNode {
    const node = this.alternation();
    if (this.i !== this.src.length) throw this.fail(`unexpected ${JSON.stringify(this.src[this.i])}`);
    return node;
  }

  private fail(what: string): TokenizerError {
    return unsafePattern(this.src, `${what} at character ${this.i} is outside the supported syntax`);
  }

  private alternation(): PatternNode {
    const items = [this.sequence()];
    while (this.src[this.i] === '|') {
      this.i++;
      items.push(this.sequence());
    }
    return items.length === 1 ? items[0]! : { t: 'alt', items };
  }

  private sequence(): PatternNode {
    const items: PatternNode[] = [];
    for (;;) {
      const ch = this.src[this.i];
      if (ch === undefined || ch === '|' || ch === ')') break;
      const atom = this.atom();
      items.push(this.quantified(atom));
    }
    return items.length === 1 ? items[0]! : { t: 'seq', items };
  }

  private quantified(atom: PatternNode): PatternNode {
    const s = this.src;
    let min: number;
    let max: number;
    const ch = s[this.i];
    if (ch === '*' || ch === '+' || ch === '?') {
      min = ch === '+' ? 1 : 0;
      max = ch === '?' ? 1 : Infinity;
      this.i++;
    } else if (ch === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(s.slice(this.i, this.i + 32));
      if (!m) throw this.fail('a malformed {n,m}');
      min = Number(m[1]);
      max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
      this.i += m[0].length;
    } else return atom;
    let greedy = true;
    if (s[this.i] === '?') {
      greedy = false;
      this.i++;
    }
    return { t: 'rep', body: atom, min, max, greedy };
  }

  private atom(): PatternNode {
    const s = this.src;
    const start = this.i;
    const ch = s[start]!;
    switch (ch) {
      case '(':
        return this.group();
      case '[':
        return { t: 'set', src: this.classSource() };
      case '.':
        this.i++;
        return { t: 'set', src: '.' };
      case '^':
        this.i++;
        return { t: 'assert', kind: AssertKind.Start };
      case '$':
        this.i++;
        return { t: 'assert', kind: AssertKind.End };
      case '\\':
        return this.escape();
      default: {
        const cp = s.codePointAt(start)!;
        this.i += cp > 0xffff ? 2 : 1;
        return { t: 'set', src: s.slice(start, this.i) };
      }
    }
  }

  private group(): PatternNode {
    const s = this.src;
    this.i++; // (
    let kind: 'plain' | 'look' = 'plain';
    let name: string | undefined;
    let behind = false;
    let neg = false;
    if (s[this.i] === '?') {
      const rest = s.slice(this.i, this.i + 3);
      if (rest.startsWith('?:')) this.i += 2;
      else if (rest.startsWith('?=') || rest.startsWith('?!')) {
        kind = 'look';
        neg = rest[1] === '!';
        this.i += 2;
      } else if (rest === '?<=' || rest === '?<!') {
        kind = 'look';
        behind = true;
        neg = rest[2] === '!';
        this.i += 3;
      } else if (rest.startsWith('?<')) {
        const close = s.indexOf('>', this.i);
        if (close < 0) throw this.fail('an unclosed group name');
        name = s.slice(this.i + 2, close);
        this.i = close + 1;
      } else throw this.fail(`the group ${JSON.stringify(s.slice(this.i - 1, this.i + 3))}`);
    }
    const body = this.alternation();
    if (s[this.i] !== ')') throw this.fail('an unclosed group');
    this.i++;
    return kind === 'look' ? { t: 'look', body, behind, neg } : { t: 'group', body, name };
  }

  /** The source of a character class `[...]` (JavaScript decides which code points it holds). */
  private classSource(): string {
    const s = this.src;
    const start = this.i;
    let j = start + 1;
    while (j < s.length && s[j] !== ']') j += s[j] === '\\' ? 2 : 1;
    if (j >= s.length) throw this.fail('an unclosed character class');
    this.i = j + 1;
    return s.slice(start, this.i);
  }

  private escape(): PatternNode {
    const s = this.src;
    const start = this.i;
    const n = s[start + 1];
    if (n === undefined) throw this.fail('a trailing backslash');
    if (n === 'b' || n === 'B') {
      this.i += 2;
      return { t: 'assert', kind: n === 'b' ? AssertKind.WordBoundary : AssertKind.NotWordBoundary };
    }
    if (/[1-9]/.test(n)) {
      let j = start + 1;
      while (j < s.length && /\d/.test(s[j]!)) j++;
      this.i = j;
      return { t: 'backref', ref: s.slice(start + 1, j) };
    }
    if (n === 'k') {
      const close = s.indexOf('>', start);
      if (s[start + 2] !== '<' || close < 0) throw this.fail('a malformed \\k<name>');
      this.i = close + 1;
      return { t: 'backref', ref: s.slice(start + 3, close) };
    }
    let end = start + 2;
    if ((n === 'p' || n === 'P') && s[start + 2] === '{') end = this.closeBrace(start);
    else if (n === 'u' && s[start + 2] === '{') end = this.closeBrace(start);
    else if (n === 'u') {
      end = start + 6;
      // A surrogate pair written as two \u escapes is one code point in 'u' mode.
      const hi = parseInt(s.slice(start + 2, start + 6), 16);
      if (hi >= 0xd800 && hi <= 0xdbff && s.startsWith('\\u', end) && [...s.slice(end + 2, end + 6)].every((c) => HEX.test(c))) {
        const lo = parseInt(s.slice(end + 2, end + 6), 16);
        if (lo >= 0xdc00 && lo <= 0xdfff) end += 6;
      }
    } else if (n === 'x') end = start + 4;
    else if (n === 'c') end = start + 3;
    this.i = end;
    return { t: 'set', src: s.slice(start, end) };
  }

  private closeBrace(start: number): number {
    const close = this.src.indexOf('}', start);
    if (close < 0) throw this.fail('an unclosed {');
    return close + 1;
  }
}

/** Whether `node` can match the empty string. */
export function nullable(node: PatternNode): boolean {
  switch (node.t) {
    case 'set':
      return false;
    case 'seq':
      return node.items.every(nullable);
    case 'alt':
      return node.items.some(nullable);
    case 'group':
    case 'atomic':
      return nullable(node.body);
    case 'rep':
      return node.min === 0 || nullable(node.body);
    default:
      return true; // look, assert, backref
  }
}

/**
 * Rewrites the atomic-group idiom `(?=(?<n>X))\k<n>` (how translated possessive quantifiers are
 * spelled) into `atomic` nodes and refuses what the matcher cannot run in linear time (see
 * `unsafePattern` messages). Recursion follows the nesting already limited by `maxPatternDepth`.
 */
function vetPattern(source: string, root: PatternNode, limits: TokenizerLimits): PatternNode {
  const visit = (node: PatternNode): PatternNode => {
    switch (node.t) {
      case 'seq': {
        const items: PatternNode[] = [];
        for (let k = 0; k < node.items.length; k++) {
          const atomic = atomicIdiom(node.items[k]!, node.items[k + 1]);
          if (atomic) {
            items.push({ t: 'atomic', body: visit(atomic) });
            k++;
          } else items.push(visit(node.items[k]!));
        }
        return { t: 'seq', items };
      }
      case 'alt':
        return { t: 'alt', items: node.items.map(visit) };
      case 'group':
        return { t: 'group', body: visit(node.body), name: node.name };
      case 'atomic':
        return { t: 'atomic', body: visit(node.body) };
      case 'look':
        if (node.behind && !fixedSequence(node.body)) {
          throw unsafePattern(source, 'a lookbehind may only hold a fixed sequence of characters or classes (no quantifier, alternation or group inside)');
        }
        return { t: 'look', body: visit(node.body), behind: node.behind, neg: node.neg };
      case 'rep': {
        if (node.min > limits.maxPatternRepeat || (node.max !== Infinity && node.max > limits.maxPatternRepeat)) {
          throw unsafePattern(source, `a counted repetition {${node.min},${node.max === Infinity ? '' : node.max}} goes over ${limits.maxPatternRepeat} (limits.maxPatternRepeat)`);
        }
        if (nullable(node.body)) {
          throw unsafePattern(source, 'a quantifier applies to something that can match the empty string (e.g. (a*)* or (a?)+)');
        }
        return { t: 'rep', body: visit(node.body), min: node.min, max: node.max, greedy: node.greedy };
      }
      case 'backref':
        throw unsafePattern(source, `the back-reference \\${/^\d+$/.test(node.ref) ? node.ref : `k<${node.ref}>`} (back-references need backtracking)`);
      default:
        return node;
    }
  };
  const out = visit(root);
  return out;
}

/** X when `look` is `(?=(?<n>X))` and `next` is `\k<n>`. */
function atomicIdiom(look: PatternNode, next: PatternNode | undefined): PatternNode | undefined {
  if (look.t !== 'look' || look.behind || look.neg || next?.t !== 'backref') return undefined;
  const group = look.body;
  if (group.t !== 'group' || group.name === undefined || group.name !== next.ref) return undefined;
  return group.body;
}

/** A lookbehind body the matcher can check backwards: sets in sequence, possibly grouped. */
function fixedSequence(node: PatternNode): boolean {
  if (node.t === 'set') return true;
  if (node.t === 'group') return fixedSequence(node.body);
  if (node.t === 'seq') return node.items.every(fixedSequence);
  return false;
}
