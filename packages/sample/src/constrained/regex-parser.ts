/**
 * A recursive-descent parser for the regex subset the constraints support: literals, escapes
 * (\d \w \s and negations, \n \t \xHH \uHHHH \u{H…}, escaped punctuation), classes with ranges
 * and negation, `.`, groups `( )` `(?: )` `(?<name> )`, `|`, and the greedy quantifiers
 * `* + ? {m} {m,} {m,n}`. Matching is always anchored (the whole text must match), so a leading
 * `^` and a trailing `$` are accepted and ignored. Anything else — backreferences, lookaround,
 * lazy or possessive quantifiers, \b, \p{…}, flags — is a SampleError('CONSTRAINT_INVALID')
 * naming the position.
 *
 *   parseRegex('\\d{2}')   // → { type: 'repeat', item: { type: 'chars', set: [48, 57] }, min: 2, max: 2 }
 *   parseRegex('a(?=b)')   // throws: regex /a(?=b)/ at position 1: lookahead (?=…) / (?!…) is not supported; …
 */
import { SampleError } from '../errors.js';
import { type ConstraintLimits, SAMPLE_LIMITS } from '../limits.js';
import { type CharSet, DIGIT, DOT, SPACE, WORD, charSet, negate, single, unionAll } from './charset.js';
import type { RegexNode } from './regex-ast.js';

const EMPTY: RegexNode = { type: 'empty' };

/**
 * Parses `pattern` into a RegexNode, or throws SampleError('CONSTRAINT_INVALID'). The pattern may
 * be untrusted: its length, group nesting and quantifier counts are checked against `limits`
 * (limits.ts) as it is read, so a hostile pattern ends in a typed error, never a stack overflow.
 */
export function parseRegex(pattern: string, limits: ConstraintLimits = SAMPLE_LIMITS): RegexNode {
  if (typeof pattern !== 'string') {
    throw new SampleError('CONSTRAINT_INVALID', `a regex constraint needs a string pattern, got ${pattern === null ? 'null' : typeof pattern}`);
  }
  if (pattern.length > limits.maxPatternLength) {
    throw new SampleError(
      'CONSTRAINT_INVALID',
      `regex of ${pattern.length} characters is longer than the limit of ${limits.maxPatternLength} (limits.maxPatternLength)`,
    );
  }
  return new Parser(pattern, limits).parse();
}

class Parser {
  private pos = 0;
  private depth = 0;

  constructor(private readonly src: string, private readonly limits: ConstraintLimits) {}

  parse(): RegexNode {
    if (this.peek() === '^') this.pos++;
    const node = this.alternation();
    if (this.pos < this.src.length) {
      this.fail(this.peek() === ')' ? 'unmatched ")"' : `unexpected ${JSON.stringify(this.peek())}`);
    }
    return node;
  }

  // ---- structure -------------------------------------------------------------------------------

  private alternation(): RegexNode {
    const options = [this.sequence()];
    while (this.peek() === '|') {
      this.pos++;
      options.push(this.sequence());
    }
    return options.length === 1 ? options[0]! : { type: 'alt', options };
  }

  private sequence(): RegexNode {
    const items: RegexNode[] = [];
    while (this.pos < this.src.length && this.peek() !== '|' && this.peek() !== ')') {
      if (this.peek() === '$' && this.pos === this.src.length - 1) {
        this.pos++; // a trailing $ is implied by anchored matching
        break;
      }
      items.push(this.quantified(this.atom()));
    }
    if (items.length === 0) return EMPTY;
    return items.length === 1 ? items[0]! : { type: 'concat', items };
  }

  private atom(): RegexNode {
    const at = this.pos;
    const ch = this.peek();
    switch (ch) {
      case '(':
        return this.group();
      case '[':
        return { type: 'chars', set: this.charClass() };
      case '.':
        this.pos++;
        return { type: 'chars', set: DOT };
      case '\\':
        return { type: 'chars', set: this.escape(false) };
      case '*':
      case '+':
      case '?':
        return this.fail(`nothing to repeat before "${ch}"`, at);
      case '{':
        return this.fail('a "{" that starts no valid quantifier (write \\{ for a literal brace)', at);
      case '^':
        return this.fail('"^" is only supported at the start (matching is always anchored)', at);
      case '$':
        return this.fail('"$" is only supported at the end (matching is always anchored)', at);
      default:
        return { type: 'chars', set: this.single(this.literal()) };
    }
  }

  private group(): RegexNode {
    const at = this.pos;
    this.pos++; // (
    if (++this.depth > this.limits.maxRegexDepth) {
      this.fail(`groups nested deeper than ${this.limits.maxRegexDepth} levels (limits.maxRegexDepth)`, at);
    }
    if (this.src.startsWith('?', this.pos)) this.groupPrefix(at);
    const inner = this.alternation();
    if (this.peek() !== ')') this.fail('unclosed group "("', at);
    this.pos++;
    this.depth--;
    return inner;
  }

  /** Consumes `?:` or `?<name>`; rejects lookaround and inline flags. */
  private groupPrefix(at: number): void {
    const rest = this.src.slice(this.pos);
    if (rest.startsWith('?:')) {
      this.pos += 2;
      return;
    }
    const named = /^\?<([A-Za-z_$][\w$]*)>/.exec(rest);
    if (named) {
      this.pos += named[0].length;
      return;
    }
    if (rest.startsWith('?=') || rest.startsWith('?!')) this.unsupported('lookahead (?=…) / (?!…)', at);
    if (rest.startsWith('?<=') || rest.startsWith('?<!')) this.unsupported('lookbehind (?<=…) / (?<!…)', at);
    this.unsupported('group modifier "(?"', at);
  }

  // ---- quantifiers -----------------------------------------------------------------------------

  private quantified(item: RegexNode): RegexNode {
    const at = this.pos;
    const bounds = this.quantifier();
    if (bounds === null) return item;
    const next = this.peek();
    if (next === '?') this.unsupported('lazy quantifier (…?)', this.pos);
    if (next === '*' || next === '+' || next === '{') this.fail(`quantifier after a quantifier at "${next}"`, this.pos);
    const [min, max] = bounds;
    if (max < min) this.fail(`quantifier {${min},${max}} has max < min`, at);
    const maxRepeat = this.limits.maxRepeat;
    if (max !== Infinity ? max > maxRepeat : min > maxRepeat) {
      this.fail(`quantifier count above ${maxRepeat} (limits.maxRepeat)`, at);
    }
    return { type: 'repeat', item, min, max };
  }

  /** [min, max] of a quantifier at the cursor (consumed), or null when there is none. */
  private quantifier(): [number, number] | null {
    const ch = this.peek();
    if (ch === '*' || ch === '+' || ch === '?') {
      this.pos++;
      return ch === '*' ? [0, Infinity] : ch === '+' ? [1, Infinity] : [0, 1];
    }
    if (ch !== '{') return null;
    const m = /^\{(\d+)(,(\d*))?\}/.exec(this.src.slice(this.pos));
    if (!m) this.fail('a "{" that starts no valid quantifier (write \\{ for a literal brace)');
    this.pos += m[0].length;
    const min = Number(m[1]);
    const max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
    return [min, max];
  }

  // ---- characters ------------------------------------------------------------------------------

  /** `[…]` / `[^…]` at the cursor. `[]` matches nothing and `[^]` anything, as in JavaScript. */
  private charClass(): CharSet {
    const at = this.pos;
    this.pos++; // [
    const negated = this.peek() === '^';
    if (negated) this.pos++;
    const parts: CharSet[] = [];
    while (this.peek() !== ']') {
      if (this.pos >= this.src.length) this.fail('unclosed character class "["', at);
      parts.push(this.classItem());
    }
    this.pos++; // ]
    const set = unionAll(parts);
    return negated ? negate(set) : set;
  }

  /** One class member: a character, a range `a-z`, or an escape like \d. */
  private classItem(): CharSet {
    const at = this.pos;
    const lo = this.classAtom();
    if (this.peek() !== '-' || this.src[this.pos + 1] === ']' || this.pos + 1 >= this.src.length) return lo;
    this.pos++; // -
    const hi = this.classAtom();
    const single = (s: CharSet): s is readonly [number, number] => s.length === 2 && s[0] === s[1];
    if (!single(lo) || !single(hi)) this.fail('a range with a class escape like \\d as an end', at);
    if (hi[0] < lo[0]) this.fail('a range out of order', at);
    return charSet([[lo[0], hi[0]]]);
  }

  private classAtom(): CharSet {
    return this.peek() === '\\' ? this.escape(true) : single(this.literal());
  }

  /** The code point at the cursor (a whole surrogate pair), consumed. */
  private literal(): number {
    const cp = this.src.codePointAt(this.pos)!;
    this.pos += cp > 0xffff ? 2 : 1;
    return cp;
  }

  /** An escape at the cursor (`\` included), as a set. Inside a class `\b` is a backspace. */
  private escape(inClass: boolean): CharSet {
    const at = this.pos;
    this.pos++; // backslash
    if (this.pos >= this.src.length) this.fail('a trailing backslash', at);
    const ch = this.src[this.pos]!;
    const classes: Record<string, CharSet> = { d: DIGIT, w: WORD, s: SPACE };
    const controls: Record<string, number> = { n: 0x0a, r: 0x0d, t: 0x09, f: 0x0c, v: 0x0b };
    const lower = ch.toLowerCase();
    if (lower in classes && 'dwsDWS'.includes(ch)) {
      this.pos++;
      const set = classes[lower]!;
      return ch === lower ? set : negate(set);
    }
    if (ch in controls) {
      this.pos++;
      return single(controls[ch]!);
    }
    if (ch === 'b' && inClass) {
      this.pos++;
      return single(0x08);
    }
    if (ch === '0' && !/[0-9]/.test(this.src[this.pos + 1] ?? '')) {
      this.pos++;
      return single(0);
    }
    if (ch === 'x' || ch === 'u') return single(this.hexEscape(at));
    if (/[1-9]/.test(ch) || ch === 'k') return this.unsupported('backreference', at);
    if (ch === 'b' || ch === 'B') return this.unsupported(`word-boundary assertion \\${ch}`, at);
    if (ch === 'p' || ch === 'P') return this.unsupported(`Unicode property escape \\${ch}{…}`, at);
    if (/[A-Za-z0-9]/.test(ch)) return this.fail(`unknown escape \\${ch}`, at);
    return single(this.literal()); // escaped punctuation or any other character stands for itself
  }

  /** `\xHH`, `\uHHHH` or `\u{H…}` after the backslash; returns the code point. */
  private hexEscape(at: number): number {
    const m = /^(?:x([0-9a-fA-F]{2})|u([0-9a-fA-F]{4})|u\{([0-9a-fA-F]{1,6})\})/.exec(this.src.slice(this.pos));
    if (!m) return this.fail('a malformed \\x or \\u escape', at);
    this.pos += m[0].length;
    const cp = parseInt(m[1] ?? m[2] ?? m[3]!, 16);
    if (cp > 0x10ffff) this.fail('a code point above U+10FFFF', at);
    return cp;
  }

  // ---- helpers ---------------------------------------------------------------------------------

  private readonly singles = new Map<number, CharSet>();

  /** The set of one code point, shared by every literal of it (a long literal pattern makes one per character). */
  private single(cp: number): CharSet {
    let set = this.singles.get(cp);
    if (set === undefined) this.singles.set(cp, (set = single(cp)));
    return set;
  }

  private peek(): string {
    return this.src[this.pos] ?? '';
  }

  /** Throws for malformed syntax (`what` says what is wrong). */
  private fail(what: string, at: number = this.pos): never {
    const shown = this.src.length > 200 ? `${this.src.slice(0, 200)}…` : this.src; // a huge pattern is not echoed whole
    throw new SampleError('CONSTRAINT_INVALID', `regex /${shown}/ at position ${at}: ${what}`);
  }

  /** Throws for valid JavaScript syntax outside the supported subset. */
  private unsupported(feature: string, at: number): never {
    this.fail(
      `${feature} is not supported; constraints take literals, escapes, [classes], ., groups, | and ` +
        'greedy * + ? {m,n} (matching is always anchored to the whole text)',
      at,
    );
  }
}
