/**
 * Blanks out what is not code in a JS/TS source: comments, the text of template literals and of
 * regex literals become spaces, the text of quoted strings becomes `x`s between its quotes
 * (newlines kept, so offsets and line numbers stay: the original text at a masked string's place
 * is its value). A small lexer, not a parser: enough to tell a real `import` from one in a
 * comment, a docstring example or a test's string.
 *
 *   maskCode("// import 'a'\nimport 'bc'")   // → "             \nimport 'xx'"
 */

const REGEX_AFTER_WORD = new Set([
  'return', 'typeof', 'case', 'do', 'else', 'in', 'of', 'new', 'delete', 'void', 'throw', 'instanceof', 'yield', 'await',
]);
const WORD = /[A-Za-z0-9_$]/;

export function maskCode(src: string): string {
  const out = src.split('');
  const blank = (from: number, to: number): void => {
    for (let k = from; k < to; k++) if (out[k] !== '\n') out[k] = ' ';
  };
  const templateEnds: number[] = []; // brace depth at which each open `${` closes
  let depth = 0;
  let prev = ''; // the last significant token: a word, or one punctuation character
  let i = 0;

  /** Scans template text from `j` (after a backtick or a `}`), blanking it; returns where code resumes. */
  const template = (j: number): number => {
    let k = j;
    while (k < src.length) {
      if (src[k] === '\\') k += 2;
      else if (src[k] === '`') {
        blank(j, k);
        prev = 'x';
        return k + 1;
      } else if (src[k] === '$' && src[k + 1] === '{') {
        blank(j, k);
        templateEnds.push(depth);
        prev = '(';
        return k + 2;
      } else k++;
    }
    blank(j, src.length);
    return src.length;
  };

  while (i < src.length) {
    const c = src[i]!;
    const n = src[i + 1];
    if (c === '/' && n === '/') {
      const end = src.indexOf('\n', i);
      const stop = end < 0 ? src.length : end;
      blank(i, stop);
      i = stop;
    } else if (c === '/' && n === '*') {
      const end = src.indexOf('*/', i + 2);
      const stop = end < 0 ? src.length : end + 2;
      blank(i, stop);
      i = stop;
    } else if (c === '"' || c === "'") {
      const end = skipString(src, i, c);
      for (let k = i + 1; k < end - 1; k++) if (out[k] !== '\n') out[k] = 'x';
      i = end;
      prev = 'x';
    } else if (c === '`') {
      i = template(i + 1);
    } else if (c === '/' && regexMayStart(prev)) {
      const end = skipRegex(src, i);
      if (end > i + 1) {
        blank(i + 1, end);
        prev = 'x';
        i = end;
      } else {
        prev = '/';
        i++;
      }
    } else if (c === '}' && templateEnds.length > 0 && templateEnds[templateEnds.length - 1] === depth) {
      templateEnds.pop();
      i = template(i + 1);
    } else if (WORD.test(c)) {
      let end = i + 1;
      while (end < src.length && WORD.test(src[end]!)) end++;
      prev = src.slice(i, end);
      i = end;
    } else {
      if (c === '{') depth++;
      else if (c === '}') depth--;
      if (!/\s/.test(c)) prev = c;
      i++;
    }
  }
  return out.join('');
}

function regexMayStart(prev: string): boolean {
  if (prev === '') return true;
  if (WORD.test(prev[0]!)) return REGEX_AFTER_WORD.has(prev);
  return !(prev === ')' || prev === ']' || prev === '}');
}

/** Index after the closing quote (or at the line end of an unterminated string). */
function skipString(src: string, i: number, quote: string): number {
  let k = i + 1;
  while (k < src.length && src[k] !== quote && src[k] !== '\n') k += src[k] === '\\' ? 2 : 1;
  return Math.min(k + 1, src.length);
}

/** Index after a regex literal's flags; i + 1 when `/` at i does not start one on this line. */
function skipRegex(src: string, i: number): number {
  let inClass = false;
  for (let k = i + 1; k < src.length; k++) {
    const ch = src[k];
    if (ch === '\n') return i + 1;
    if (ch === '\\') k++;
    else if (ch === '[') inClass = true;
    else if (ch === ']') inClass = false;
    else if (ch === '/' && !inClass) {
      let end = k + 1;
      while (end < src.length && /[a-z]/.test(src[end]!)) end++;
      return end;
    }
  }
  return i + 1;
}
