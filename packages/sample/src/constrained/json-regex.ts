/**
 * Regex building blocks for JSON text: strings, numbers, literals, separators and repetition.
 * Every piece is a regex source string in the subset of regex-parser.ts (and valid for
 * JavaScript's RegExp with the 'u' flag, which the tests use to cross-check).
 *
 *   jsonLiteral({ a: [1, 'x'] }, 'compact')   // → '\\{"a": \\[1, "x"\\]\\}'
 *   quantify(0, 3)                            // → '{0,3}'
 *   separatedList('\\d', ',', 1, Infinity)    // → '\\d(?:,\\d)*'
 */

/** How much whitespace the generated JSON has. */
export type JsonWhitespace = 'none' | 'compact';

/** One character inside a JSON string: anything but `"`, `\` and controls, or an escape. */
export const JSON_STRING_CHAR = '(?:[^"\\\\\\x00-\\x1F]|\\\\(?:["\\\\/bfnrt]|u[0-9a-fA-F]{4}))';
/**
 * A JSON number; `maxDigits` (default unlimited) caps the digits of the integer part, the
 * fraction and the exponent, each. `jsonNumber(3)` matches '-120.5e10', not '1234'.
 */
export function jsonNumber(maxDigits = Infinity): string {
  const digits = `[0-9]${quantify(1, maxDigits)}`;
  return `${jsonInteger(maxDigits)}(?:\\.${digits})?(?:[eE][+-]?${digits})?`;
}

/** A JSON number without fraction or exponent, of at most `maxDigits` digits. `jsonInteger()` matches '-12'. */
export function jsonInteger(maxDigits = Infinity): string {
  return `-?(?:0|[1-9][0-9]${quantify(0, maxDigits - 1)})`;
}

/** The separators after `,` and `:`: none, or one space each (`{"a": 1, "b": 2}`). */
export function separators(ws: JsonWhitespace): { comma: string; colon: string } {
  return ws === 'none' ? { comma: ',', colon: ':' } : { comma: ', ', colon: ': ' };
}

/** `text` with regex metacharacters escaped. `escapeRegex('a.b')` → 'a\\.b'. */
export function escapeRegex(text: string): string {
  return text.replace(/[\\^$.|?*+()[\]{}/]/g, '\\$&');
}

/** A JSON string of `min`…`max` characters (escapes count as one). `jsonString(1, 2)` → '"…{1,2}"'. */
export function jsonString(min = 0, max = Infinity): string {
  return `"${JSON_STRING_CHAR}${quantify(min, max)}"`;
}

/**
 * The regex matching exactly `value` serialized with `ws` separators.
 *
 *   jsonLiteral([1, null], 'none')   // → '\\[1,null\\]'
 */
export function jsonLiteral(value: unknown, ws: JsonWhitespace): string {
  return escapeRegex(serialize(value, separators(ws)));
}

function serialize(value: unknown, sep: { comma: string; colon: string }): string {
  if (Array.isArray(value)) return `[${value.map((v) => serialize(v, sep)).join(sep.comma)}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}${sep.colon}${serialize(v, sep)}`);
    return `{${entries.join(sep.comma)}}`;
  }
  return JSON.stringify(value);
}

/** A quantifier for {min,max}: '' for exactly once, '?', '*', '+', or braces. */
export function quantify(min: number, max: number): string {
  if (min === 1 && max === 1) return '';
  if (min === 0 && max === 1) return '?';
  if (max === Infinity) return min === 0 ? '*' : min === 1 ? '+' : `{${min},}`;
  return min === max ? `{${min}}` : `{${min},${max}}`;
}

/**
 * `item` repeated `min`…`max` times with `sep` between (the inside of a JSON array).
 *
 *   separatedList('a', ',', 0, 2)   // → '(?:a(?:,a)?)?'
 */
export function separatedList(item: string, sep: string, min: number, max: number): string {
  if (max === 0) return '';
  const rest = max === 1 ? '' : `(?:${sep}${item})${quantify(Math.max(min - 1, 0), max - 1)}`;
  return min === 0 ? `(?:${item}${rest})?` : `${item}${rest}`;
}

/**
 * Object members in order: required ones always, optional ones may be left out, with exactly one
 * `comma` between those present. The first present member decides where commas start, so the
 * members up to the first required one appear once per possible first member (quadratic in the
 * number of leading optional members; later ones cost nothing extra).
 *
 *   orderedMembers([{ re: 'A', required: false }, { re: 'B', required: true }], ',')
 *   // → '(?:A,B|B)'          (A is optional, B is required)
 */
export function orderedMembers(members: ReadonlyArray<{ re: string; required: boolean }>, comma: string): string {
  const n = members.length;
  const firstRequired = members.findIndex((m) => m.required);
  const j = firstRequired === -1 ? n : firstRequired;
  const withComma = (m: { re: string; required: boolean }): string =>
    m.required ? `${comma}${m.re}` : `(?:${comma}${m.re})?`;
  const tail = members
    .slice(j + 1)
    .map(withComma)
    .join('');
  const heads: string[] = [];
  for (let k = 0; k <= Math.min(j, n - 1); k++)
    heads.push(
      members[k]!.re +
        members
          .slice(k + 1, j + 1)
          .map(withComma)
          .join(''),
    );
  if (j === n) heads.push(''); // all optional: the object may be empty
  return (heads.length === 1 ? heads[0]! : `(?:${heads.join('|')})`) + tail;
}

/**
 * The length of `orderedMembers(members, comma)`, computed in O(n) without building it (the regex
 * itself is quadratic in the number of leading optional members), so its size can be checked first.
 *
 *   orderedMembersLength([{ re: 'A', required: false }, { re: 'B', required: true }], ',')   // 9 = '(?:A,B|B)'.length
 */
export function orderedMembersLength(members: ReadonlyArray<{ re: string; required: boolean }>, comma: string): number {
  const n = members.length;
  const firstRequired = members.findIndex((m) => m.required);
  const j = firstRequired === -1 ? n : firstRequired;
  const withComma = (m: { re: string; required: boolean }): number => comma.length + m.re.length + (m.required ? 0 : 5); // (?:…)?
  let tail = 0;
  for (let i = j + 1; i < n; i++) tail += withComma(members[i]!);
  const last = Math.min(j, n - 1);
  let heads = 0;
  let after = 0; // Σ withComma(members[k+1 … j]) for the current k, built from the back
  let count = 0;
  for (let k = last; k >= 0; k--) {
    heads += members[k]!.re.length + after;
    after += withComma(members[k]!);
    count++;
  }
  if (j === n) count++; // the empty head
  const alternation = count === 1 ? 0 : 4 + (count - 1); // '(?:' ')' and the '|'s
  return heads + alternation + tail;
}
