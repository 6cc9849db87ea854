// schemaToRegex output checked with JavaScript's RegExp (and our DFA) on hand-made JSON texts.
import { describe, expect, it } from 'vitest';
import { SampleError } from '../errors.js';
import { LazyDfa } from './dfa.js';
import { schemaToRegex } from './json-schema.js';
import type { JsonWhitespace } from './json-regex.js';

function matcher(schema: object, whitespace: JsonWhitespace = 'none'): (text: string) => boolean {
  const re = schemaToRegex(schema, { whitespace });
  const js = new RegExp(`^(?:${re})$`, 'u');
  const dfa = LazyDfa.fromPattern(re);
  return (text) => {
    const want = js.test(text);
    expect([text, dfa.matches(text)]).toEqual([text, want]);
    return want;
  };
}

/** `value` as JSON with the given separators. */
function dump(value: unknown, ws: JsonWhitespace): string {
  const text = JSON.stringify(value);
  return ws === 'none'
    ? text
    : JSON.stringify(value, null, 1)
        .replace(/\n */g, ' ')
        .replace(/([[{]) /g, '$1')
        .replace(/ ([\]}])/g, '$1');
}

describe('schemaToRegex', () => {
  it('documents its examples', () => {
    expect(schemaToRegex({ type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] })).toBe(
      '\\{"ok":(?:true|false)\\}',
    );
    expect(schemaToRegex({ enum: ['a', 1, null] })).toBe('(?:"a"|1|null)');
  });

  it('strings: JSON escapes, no raw controls or lone quotes/backslashes, length in characters', () => {
    const m = matcher({ type: 'string' });
    for (const ok of ['""', '"abc"', '"a\\"b"', '"\\\\"', '"\\n\\t\\/"', '"\\u00e9"', '"äö😀"', '"\u2028"'])
      expect(m(ok)).toBe(true);
    for (const bad of ['"', '"a', 'abc', '"a"b"', '"\\"', '"\\x41"', '"\\u12"', '"\n"', '"\t"', '"\u0000"'])
      expect(m(bad)).toBe(false);
    const n = matcher({ type: 'string', minLength: 2, maxLength: 3 });
    expect(['"a"', '"ab"', '"a😀\\n"', '"abcd"', '"\\u0041b"'].map(n)).toEqual([false, true, true, false, true]);
  });

  it('numbers and integers follow JSON number syntax', () => {
    const num = matcher({ type: 'number' });
    const int = matcher({ type: 'integer' });
    for (const ok of ['0', '-0', '12', '-3.25', '1e5', '1E+5', '2.5e-3', '0.0']) expect(num(ok)).toBe(true);
    for (const bad of ['01', '1.', '.5', '+1', '-', '1e', 'NaN', '1_0', '0x1']) expect(num(bad)).toBe(false);
    expect(['0', '-12', '1.0', '1e3', '007'].map(int)).toEqual([true, true, false, false, false]);
  });

  it.each(['none', 'compact'] as const)('optional properties: in order, any subset, commas right (%s)', (ws) => {
    const schema = {
      type: 'object',
      properties: { a: { type: 'integer' }, b: { type: 'boolean' }, c: { const: 'x' }, d: { type: 'null' } },
      required: ['c'],
    };
    const m = matcher(schema, ws);
    const full: Record<string, unknown> = { a: 1, b: true, c: 'x', d: null };
    for (let bits = 0; bits < 16; bits++) {
      const obj = Object.fromEntries(Object.entries(full).filter((_, i) => (bits >> i) & 1));
      expect(m(dump(obj, ws))).toBe('c' in obj);
    }
    expect(m(dump({ c: 'x', a: 1 }, ws))).toBe(false); // schema order only
    expect(m(dump({ c: 'x', e: 1 }, ws))).toBe(false); // no additional properties
    expect(m(ws === 'none' ? '{,"c":"x"}' : '{, "c": "x"}')).toBe(false);
    expect(m(ws === 'none' ? '{"c":"x",}' : '{"c": "x", }')).toBe(false);
    expect(m(dump(full, ws === 'none' ? 'compact' : 'none'))).toBe(false); // the other layout
  });

  it('all-optional objects may be empty; required-only objects are fixed', () => {
    const opt = matcher({ type: 'object', properties: { a: { type: 'integer' }, b: { type: 'integer' } } });
    expect(['{}', '{"a":1}', '{"b":2}', '{"a":1,"b":2}', '{"b":2,"a":1}', '{"a":1,}'].map(opt)).toEqual([
      true,
      true,
      true,
      true,
      false,
      false,
    ]);
    expect(matcher({ type: 'object' })('{}')).toBe(true);
  });

  it('arrays with minItems/maxItems, nested to any depth', () => {
    const m = matcher(
      { type: 'array', items: { type: 'array', items: { type: 'integer' }, maxItems: 2 }, minItems: 1, maxItems: 2 },
      'compact',
    );
    expect(['[]', '[[]]', '[[1, 2]]', '[[1], [2, 3]]', '[[1,2]]', '[[1], [2], [3]]', '[[1, 2, 3]]'].map(m)).toEqual([
      false,
      true,
      true,
      true,
      false,
      false,
      false,
    ]);
    const deep = {
      type: 'object',
      properties: {
        x: {
          type: 'object',
          properties: {
            y: { type: 'array', items: { type: 'object', properties: { z: { type: 'string' } }, required: ['z'] } },
          },
          required: ['y'],
        },
      },
      required: ['x'],
    };
    expect(matcher(deep)('{"x":{"y":[{"z":"1"},{"z":""}]}}')).toBe(true);
    expect(matcher(deep)('{"x":{"y":[{"z":1}]}}')).toBe(false);
  });

  it('enum, const, type lists and anyOf', () => {
    expect(['"a"', '1', 'null', '{"k":[1,2]}', '"b"'].map(matcher({ enum: ['a', 1, null, { k: [1, 2] }] }))).toEqual([
      true,
      true,
      true,
      true,
      false,
    ]);
    expect(['"x"', '"y"', '1'].map(matcher({ type: 'string', enum: ['x', 1, 'y'] }))).toEqual([true, true, false]);
    expect(['{"k": [1, 2]}', '{"k":[1,2]}'].map(matcher({ const: { k: [1, 2] } }, 'compact'))).toEqual([true, false]);
    expect(['"s"', 'null', '1'].map(matcher({ type: ['string', 'null'] }))).toEqual([true, true, false]);
    expect(
      ['true', '[1]', '"x"'].map(
        matcher({ anyOf: [{ type: 'boolean' }, { type: 'array', items: { type: 'number' } }] }),
      ),
    ).toEqual([true, true, false]);
  });

  it('keys with regex metacharacters and non-ASCII are literal', () => {
    const m = matcher({
      type: 'object',
      properties: { 'a.b*(c)': { type: 'null' }, 'ü😀"': { type: 'null' } },
      required: ['a.b*(c)', 'ü😀"'],
    });
    expect(m('{"a.b*(c)":null,"ü😀\\"":null}')).toBe(true);
    expect(m('{"aXbb(c)":null,"ü😀\\"":null}')).toBe(false);
  });

  it.each([
    [{ oneOf: [{ type: 'string' }] }, '"oneOf"', '#'],
    [{ allOf: [{ type: 'string' }] }, '"allOf"', '#'],
    [{ $ref: '#/defs/x' }, '"$ref"', '#'],
    [{ type: 'string', pattern: 'a+' }, '"pattern"', '#'],
    [{ type: 'object', patternProperties: {} }, '"patternProperties"', '#'],
    [{ type: 'string', format: 'email' }, '"format"', '#'],
    [{ type: 'object', properties: { n: { type: 'number', minimum: 0 } } }, '"minimum"', '#/properties/n'],
    [{ type: 'array', items: { type: 'integer', not: {} } }, '"not"', '#/items'],
    [{ type: 'integer', maxLength: 3 }, '"maxLength"', '#'],
    [{ description: 'anything' }, 'needs "type"', '#'],
    [{ type: 'array' }, 'needs "items"', '#'],
    [{ type: 'array', items: [{ type: 'string' }] }, 'needs "items"', '#'],
    [{ type: 'object', properties: {}, required: ['x'] }, 'required "x"', '#'],
    [{ type: 'date' }, 'unknown type', '#'],
    [{ type: 'string', maxLength: 1.5 }, '"maxLength" must be', '#'],
    [{ anyOf: [{ type: 'string' }], type: 'string' }, '"anyOf" beside', '#'],
    [{ type: 'object', properties: { 'a/b': { type: 'string', enum: [1] } } }, 'no "enum" value', '#/properties/a~1b'],
  ])('rejects %j naming %s at %s', (schema, what, path) => {
    let err: unknown;
    try {
      schemaToRegex(schema);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SampleError);
    expect((err as SampleError).code).toBe('CONSTRAINT_INVALID');
    expect((err as SampleError).message).toContain(what);
    expect((err as SampleError).message).toContain(`JSON schema at ${path}:`);
  });
});
