/**
 * Translates a tiktoken `pat_str` (Rust regex / fancy-regex syntax) into a JavaScript regex source
 * for flags 'gu':
 *
 *   translateTiktokenPattern("(?i:'s|'t)|\\s+")  // → "(?:'[sSſ]|'[tT])|[\t-\r …]+"
 *   translateTiktokenPattern(cl100kJson.pat_str) === CL100K_PATTERN   // known patterns: exact table
 *
 * Known tiktoken patterns map to the hand-checked constants of patterns.ts (which also lets the
 * encoder use its fast scanners). Anything else goes through a generic rewrite:
 * - `\s \S \d \D \w \W` and `.` get Rust's Unicode meanings;
 * - `(?i:…)` groups spell out both cases of ASCII letters (plus `ſ` for s and `K` for k);
 * - possessive quantifiers `X*+ X++ X?+ X{n,m}+` become the exact atomic emulation
 *   `(?=(?<pN>X*))\k<pN>` (a lookahead is atomic in JavaScript, the backreference consumes it);
 * - `(?P<name>` becomes `(?<name>`.
 * Constructs without a faithful translation (`\b`, numbered back-references, inline flags other
 * than `(?i:`) throw TokenizerError('UNSUPPORTED').
 */
import { TokenizerError } from './errors.js';
import { CL100K_PATTERN, GPT2_PATTERN, O200K_PATTERN, WHITE_SPACE_CLASS } from './patterns.js';

const CONTRACTIONS = String.raw`'s|'t|'re|'ve|'m|'ll|'d`;

/** Our built-in patterns → tiktoken's own `pat_str`s (npm `tiktoken/encoders/*.json`). */
export const TIKTOKEN_PAT_STRS: ReadonlyMap<string, string> = new Map([
  [GPT2_PATTERN, String.raw`${CONTRACTIONS}| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`],
  [
    CL100K_PATTERN,
    String.raw`(?i:${CONTRACTIONS})|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`,
  ],
  [
    O200K_PATTERN,
    [
      String.raw`[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:${CONTRACTIONS})?`,
      String.raw`[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:${CONTRACTIONS})?`,
      String.raw`\p{N}{1,3}`,
      String.raw` ?[^\s\p{L}\p{N}]+[\r\n/]*`,
      String.raw`\s*[\r\n]+`,
      String.raw`\s+(?!\S)`,
      String.raw`\s+`,
    ].join('|'),
  ],
]);

/** tiktoken's `pat_str`s → our constants. */
const KNOWN: ReadonlyMap<string, string> = new Map([...TIKTOKEN_PAT_STRS].map(([ours, theirs]) => [theirs, ours]));

const WORD_CLASS = String.raw`\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control}`;

/** Escapes with a class form (usable inside `[...]`) and a standalone form. */
const CLASS_ESCAPES: Readonly<Record<string, { inClass: string; alone: string }>> = {
  s: { inClass: WHITE_SPACE_CLASS, alone: `[${WHITE_SPACE_CLASS}]` },
  d: { inClass: String.raw`\p{Nd}`, alone: String.raw`\p{Nd}` },
  w: { inClass: WORD_CLASS, alone: `[${WORD_CLASS}]` },
};
const NEGATED_ESCAPES: Readonly<Record<string, string>> = {
  S: `[^${WHITE_SPACE_CLASS}]`,
  D: String.raw`\P{Nd}`,
  W: `[^${WORD_CLASS}]`,
};

function unsupported(src: string, what: string): TokenizerError {
  return new TokenizerError(
    'UNSUPPORTED',
    `cannot translate ${what} in pattern ${JSON.stringify(src)} to JavaScript`,
  );
}

/** Both cases of an ASCII letter as class contents (`s` → `sSſ`), or the char itself. */
function caseVariants(ch: string): string {
  const lo = ch.toLowerCase();
  const up = ch.toUpperCase();
  if (lo === up || !/^[a-z]$/.test(lo)) return ch;
  return lo + up + (lo === 's' ? '\u017F' : lo === 'k' ? '\u212A' : '');
}

const JS_ESCAPABLE = '^$\\.*+?()[]{}|/-';

/** Reads one escape at `i` (which is a backslash): returns [escape text, next index]. */
function readEscape(src: string, i: number): [string, number] {
  const n = src[i + 1];
  if (n === undefined) throw unsupported(src, 'a trailing backslash');
  if ((n === 'p' || n === 'P') && src[i + 2] === '{') {
    const close = src.indexOf('}', i);
    if (close < 0) throw unsupported(src, 'an unclosed \\p{');
    return [src.slice(i, close + 1), close + 1];
  }
  if (n === 'x' && src[i + 2] === '{') {
    const close = src.indexOf('}', i);
    if (close < 0) throw unsupported(src, 'an unclosed \\x{');
    return [`\\u{${src.slice(i + 3, close)}}`, close + 1];
  }
  if (n === 'x') return [src.slice(i, i + 4), i + 4];
  if (/[1-9]/.test(n)) throw unsupported(src, 'a numbered back-reference');
  if ('bBAzZ'.includes(n)) throw unsupported(src, `\\${n}`);
  // Rust lets any punctuation be escaped; JavaScript's 'u' mode only its own syntax characters.
  if (/[^A-Za-z0-9]/.test(n) && !JS_ESCAPABLE.includes(n)) return [n, i + 2];
  return [src.slice(i, i + 2), i + 2];
}

/** Reads a character class starting at `i` ('['): returns [JS class, next index]. */
function readClass(src: string, i: number, fold: boolean): [string, number] {
  let out = '[';
  let j = i + 1;
  if (src[j] === '^') {
    out += '^';
    j++;
  }
  let first = true;
  while (j < src.length && (src[j] !== ']' || first)) {
    first = false;
    const ch = src[j]!;
    if (ch === '[') throw unsupported(src, 'a nested character class');
    if (ch === '\\') {
      const n = src[j + 1] ?? '';
      const esc = CLASS_ESCAPES[n];
      if (esc) {
        out += esc.inClass;
        j += 2;
        continue;
      }
      if (n in NEGATED_ESCAPES) throw unsupported(src, `\\${n} inside a character class`);
      const [text, next] = readEscape(src, j);
      out += text;
      j = next;
      continue;
    }
    if (fold && src[j + 1] === '-' && src[j + 2] !== undefined && src[j + 2] !== ']') {
      const lo = ch;
      const hi = src[j + 2]!;
      out += `${lo}-${hi}`;
      if (/^[a-z]$/i.test(lo) && /^[a-z]$/i.test(hi)) {
        const flip = (c: string): string => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase());
        out += `${flip(lo)}-${flip(hi)}`;
      }
      j += 3;
      continue;
    }
    out += fold ? caseVariants(ch) : ch;
    j++;
  }
  if (j >= src.length) throw unsupported(src, 'an unclosed character class');
  return [out + ']', j + 1];
}

/** Reads a quantifier at `i`, if any: returns [quantifier, next index] or undefined. */
function readQuantifier(src: string, i: number): [string, number] | undefined {
  const ch = src[i];
  if (ch === '*' || ch === '+' || ch === '?') return [ch, i + 1];
  if (ch === '{') {
    const m = /^\{\d+(,\d*)?\}/.exec(src.slice(i));
    if (m) return [m[0], i + m[0].length];
  }
  return undefined;
}

/** Generic Rust-regex → JavaScript translation (see the file comment). */
export function translateGeneric(src: string): string {
  let out = '';
  let atomStart = -1; // index in `out` where the last complete atom starts
  const groupStarts: number[] = [];
  const foldDepths: number[] = []; // group depths that opened a (?i: …)
  let possessives = 0;
  let i = 0;
  while (i < src.length) {
    const ch = src[i]!;
    const fold = foldDepths.length > 0;
    const q = readQuantifier(src, i);
    if (q) {
      if (atomStart < 0) throw unsupported(src, 'a quantifier without an atom');
      let [quant, next] = q;
      if (src[next] === '?') {
        quant += '?';
        next++;
      } else if (src[next] === '+') {
        const atom = out.slice(atomStart);
        const name = `p${possessives++}`;
        out = `${out.slice(0, atomStart)}(?=(?<${name}>${atom}${quant}))\\k<${name}>`;
        i = next + 1;
        atomStart = -1;
        continue;
      }
      out += quant;
      i = next;
      atomStart = -1;
      continue;
    }
    if (ch === '\\') {
      const n = src[i + 1] ?? '';
      atomStart = out.length;
      const esc = CLASS_ESCAPES[n];
      if (esc) out += esc.alone;
      else if (NEGATED_ESCAPES[n] !== undefined) out += NEGATED_ESCAPES[n];
      else {
        const [text, next] = readEscape(src, i);
        out += text;
        i = next;
        continue;
      }
      i += 2;
      continue;
    }
    if (ch === '[') {
      atomStart = out.length;
      const [cls, next] = readClass(src, i, fold);
      out += cls;
      i = next;
      continue;
    }
    if (ch === '(') {
      groupStarts.push(out.length);
      if (src.startsWith('(?i:', i)) {
        foldDepths.push(groupStarts.length);
        out += '(?:';
        i += 4;
      } else if (src.startsWith('(?P<', i)) {
        out += '(?<';
        i += 4;
      } else if (src[i + 1] === '?') {
        const prefix = /^\(\?(?::|=|!|<=|<!|<[A-Za-z_]\w*>)/.exec(src.slice(i, i + 40))?.[0];
        if (prefix === undefined) throw unsupported(src, `the group ${JSON.stringify(src.slice(i, i + 4))}`);
        out += prefix;
        i += prefix.length;
      } else {
        out += '(';
        i++;
      }
      atomStart = -1;
      continue;
    }
    if (ch === ')') {
      const start = groupStarts.pop();
      if (start === undefined) throw unsupported(src, 'an unbalanced ")"');
      if (foldDepths[foldDepths.length - 1] === groupStarts.length + 1) foldDepths.pop();
      out += ')';
      atomStart = start;
      i++;
      continue;
    }
    atomStart = out.length;
    if (ch === '.') out += '[^\\n]';
    else out += fold ? (caseVariants(ch) === ch ? ch : `[${caseVariants(ch)}]`) : ch;
    if (ch === '|' || ch === '^' || ch === '$') atomStart = -1;
    i++;
  }
  if (groupStarts.length > 0) throw unsupported(src, 'an unclosed "("');
  return out;
}

/**
 * tiktoken `pat_str` → JavaScript regex source (flags 'gu'); known patterns map to the
 * constants of patterns.ts. `translateTiktokenPattern("\\p{N}{1,3}+")` → `(?=(?<p0>\p{N}{1,3}))\k<p0>`.
 */
export function translateTiktokenPattern(patStr: string): string {
  return KNOWN.get(patStr) ?? translateGeneric(patStr);
}
