/**
 * JSON-schema constraints: a schema (a practical subset) compiles to a regex over JSON text,
 * which then constrains generation like any regex (regex-constraint.ts).
 *
 * Supported: `type` (object, array, string, number, integer, boolean, null, or a list of them),
 * `properties`, `required`, `additionalProperties` (any value is treated as false: only the
 * listed properties appear), `items`, `minItems`, `maxItems`, `minLength`, `maxLength`, `enum`,
 * `const`, `anyOf`, and annotations (title, description, default, examples, $schema, …), to any
 * depth. Any other keyword is a SampleError('CONSTRAINT_INVALID') naming it and where it is.
 *
 * Output shape: properties appear in schema order; required ones always, optional ones may be
 * left out (with the commas right either way). `whitespace: 'none'` (default) gives JSON.stringify's
 * layout `{"a":1,"b":[1,2]}`; 'compact' gives one space after `,` and `:`: `{"a": 1, "b": [1, 2]}`.
 * String lengths count characters, an escape like `\n` or `\u00e9` counting as one. Numbers are
 * JSON numbers (`maxNumberDigits` optionally caps their digits).
 *
 *   schemaToRegex({ type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] })
 *   // → '\\{"ok":(?:true|false)\\}'
 *   const c = jsonSchemaConstraint(schema, vocab, { eosIds: [eos], whitespace: 'compact' });
 */
import { SampleError } from '../errors.js';
import type { Constraint, TokenVocab } from '../types.js';
import {
  type JsonWhitespace,
  escapeRegex,
  jsonInteger,
  jsonLiteral,
  jsonNumber,
  jsonString,
  orderedMembers,
  separatedList,
  separators,
} from './json-regex.js';
import { type RegexConstraintOptions, type RegexState, regexConstraint } from './regex-constraint.js';
import { MAX_REPEAT } from './regex-parser.js';

export interface JsonSchemaOptions {
  /** 'none' (default): `{"a":1}`; 'compact': `{"a": 1, "b": 2}`. */
  whitespace?: JsonWhitespace;
  /**
   * Most digits in each part of a number (integer part, fraction, exponent); default unlimited,
   * as JSON. A cap keeps weak or random models from writing digits forever.
   */
  maxNumberDigits?: number;
}

export interface JsonSchemaConstraintOptions extends RegexConstraintOptions, JsonSchemaOptions {}

/** Longest regex a schema may compile to (leading optional properties grow it quadratically). */
const MAX_REGEX_LENGTH = 4_000_000;

const ANNOTATIONS = new Set([
  'title',
  'description',
  '$schema',
  '$id',
  '$comment',
  'default',
  'examples',
  'deprecated',
  'readOnly',
  'writeOnly',
]);
const TYPE_KEYWORDS: Record<string, readonly string[]> = {
  object: ['properties', 'required', 'additionalProperties'],
  array: ['items', 'minItems', 'maxItems'],
  string: ['minLength', 'maxLength'],
  number: [],
  integer: [],
  boolean: [],
  null: [],
};
const KNOWN = ['type', 'enum', 'const', 'anyOf', ...Object.values(TYPE_KEYWORDS).flat()];

/**
 * A Constraint whose outputs are JSON texts valid under `schema` (see the subset above).
 *
 *   jsonSchemaConstraint({ type: 'array', items: { type: 'integer' }, maxItems: 3 }, vocab, { eosIds: [eos] })
 */
export function jsonSchemaConstraint(
  schema: object,
  vocab: TokenVocab,
  opts: JsonSchemaConstraintOptions,
): Constraint<RegexState> {
  return regexConstraint(schemaToRegex(schema, opts), vocab, opts);
}

/**
 * The regex (regex-parser.ts subset, also valid for JavaScript's RegExp with 'u') of `schema`.
 *
 *   schemaToRegex({ enum: ['a', 1, null] })   // → '(?:"a"|1|null)'
 */
export function schemaToRegex(schema: object, opts: JsonSchemaOptions = {}): string {
  const ws = opts.whitespace ?? 'none';
  if (ws !== 'none' && ws !== 'compact') fail('#', `whitespace must be 'none' or 'compact', got ${String(ws)}`);
  const digits = opts.maxNumberDigits ?? Infinity;
  if (digits !== Infinity && (!Number.isInteger(digits) || digits < 1 || digits > MAX_REPEAT)) {
    fail('#', `maxNumberDigits must be an integer in [1, ${MAX_REPEAT}], got ${String(digits)}`);
  }
  const re = new SchemaCompiler(ws, digits).compile(schema, '#');
  if (re.length > MAX_REGEX_LENGTH) {
    fail(
      '#',
      `the schema compiles to a ${re.length}-character regex (limit ${MAX_REGEX_LENGTH}); ` +
        'mark leading optional properties required or lower maxItems/maxLength',
    );
  }
  return re;
}

class SchemaCompiler {
  private readonly comma: string;
  private readonly colon: string;

  constructor(private readonly ws: JsonWhitespace, private readonly maxDigits: number) {
    ({ comma: this.comma, colon: this.colon } = separators(ws));
  }

  /** The regex of `schema` (found at JSON pointer `path`); never a bare top-level alternation. */
  compile(schema: unknown, path: string): string {
    if (!isObject(schema)) fail(path, 'a schema must be an object (true/false schemas are not supported)');
    const s = schema as Record<string, unknown>;
    const keys = Object.keys(s).filter((k) => !ANNOTATIONS.has(k));
    checkKeywords(keys, KNOWN, path);
    if ('anyOf' in s) return this.anyOf(s, keys, path);
    if ('const' in s) return this.literals([s.const], s, keys, 'const', path);
    if ('enum' in s) {
      if (!Array.isArray(s.enum) || s.enum.length === 0) fail(path, '"enum" must be a non-empty array');
      return this.literals(s.enum, s, keys, 'enum', path);
    }
    const types = typeList(s.type, path);
    checkKeywords(keys, ['type', ...types.flatMap((t) => TYPE_KEYWORDS[t]!)], path);
    return alternation(types.map((t) => this.ofType(t, s, path)));
  }

  private anyOf(s: Record<string, unknown>, keys: string[], path: string): string {
    const extra = keys.filter((k) => k !== 'anyOf');
    if (extra.length > 0)
      fail(path, `"anyOf" beside other keywords (${extra.join(', ')}) is not supported; move them into each option`);
    if (!Array.isArray(s.anyOf) || s.anyOf.length === 0) fail(path, '"anyOf" must be a non-empty array of schemas');
    return alternation(s.anyOf.map((sub, i) => this.compile(sub, `${path}/anyOf/${i}`)));
  }

  /** `enum` / `const`: the values (those of `type`, when given) serialized exactly. */
  private literals(
    values: unknown[],
    s: Record<string, unknown>,
    keys: string[],
    keyword: string,
    path: string,
  ): string {
    checkKeywords(keys, [keyword, 'type'], path);
    const types = s.type === undefined ? null : typeList(s.type, path);
    const kept = types === null ? values : values.filter((v) => types.some((t) => hasType(v, t)));
    if (kept.length === 0) fail(path, `no "${keyword}" value has the schema's type ${JSON.stringify(s.type)}`);
    return alternation(kept.map((v) => jsonLiteral(v, this.ws)));
  }

  private ofType(type: string, s: Record<string, unknown>, path: string): string {
    switch (type) {
      case 'string':
        return this.string(s, path);
      case 'number':
        return jsonNumber(this.maxDigits);
      case 'integer':
        return jsonInteger(this.maxDigits);
      case 'boolean':
        return '(?:true|false)';
      case 'null':
        return 'null';
      case 'array':
        return this.array(s, path);
      default:
        return this.object(s, path);
    }
  }

  private string(s: Record<string, unknown>, path: string): string {
    const min = count(s.minLength, 'minLength', 0, path);
    const max = count(s.maxLength, 'maxLength', Infinity, path);
    if (max < min) fail(path, `maxLength ${max} < minLength ${min}`);
    return jsonString(min, max);
  }

  private array(s: Record<string, unknown>, path: string): string {
    if (!isObject(s.items)) {
      fail(path, 'an array needs "items": one schema for every element (tuple forms are not supported)');
    }
    const item = this.compile(s.items, `${path}/items`);
    const min = count(s.minItems, 'minItems', 0, path);
    const max = count(s.maxItems, 'maxItems', Infinity, path);
    if (max < min) fail(path, `maxItems ${max} < minItems ${min}`);
    return `\\[${separatedList(item, this.comma, min, max)}\\]`;
  }

  private object(s: Record<string, unknown>, path: string): string {
    const props = s.properties ?? {};
    if (!isObject(props)) fail(path, '"properties" must be an object of schemas');
    const required = s.required ?? [];
    if (!Array.isArray(required) || !required.every((r) => typeof r === 'string')) {
      fail(path, '"required" must be an array of property names');
    }
    const missing = required.filter((r) => !Object.hasOwn(props, r));
    if (missing.length > 0) {
      fail(
        path,
        `required ${missing
          .map((m) => JSON.stringify(m))
          .join(', ')} not in "properties" (additional properties are not allowed)`,
      );
    }
    const members = Object.entries(props).map(([key, sub]) => ({
      re: `${escapeRegex(JSON.stringify(key))}${this.colon}${this.compile(
        sub,
        `${path}/properties/${pointerEscape(key)}`,
      )}`,
      required: required.includes(key),
    }));
    return `\\{${orderedMembers(members, this.comma)}\\}`;
  }
}

/** `(?:a|b)` for several options, the option itself for one. */
function alternation(options: string[]): string {
  const unique = [...new Set(options)];
  return unique.length === 1 ? unique[0]! : `(?:${unique.join('|')})`;
}

function typeList(type: unknown, path: string): string[] {
  if (type === undefined) {
    fail(path, 'a schema needs "type", "enum", "const" or "anyOf" (any-JSON-value schemas cannot be a regex)');
  }
  const list = Array.isArray(type) ? type : [type];
  for (const t of list) {
    if (typeof t !== 'string' || !(t in TYPE_KEYWORDS)) {
      fail(path, `unknown type ${JSON.stringify(t)}; supported: ${Object.keys(TYPE_KEYWORDS).join(', ')}`);
    }
  }
  if (list.length === 0) fail(path, '"type" is an empty list');
  return list as string[];
}

function checkKeywords(keys: string[], allowed: readonly string[], path: string): void {
  const bad = keys.find((k) => !allowed.includes(k));
  if (bad !== undefined) {
    fail(
      path,
      `keyword "${bad}" is not supported here (supported: type, properties, required, additionalProperties, items, ` +
        'minItems, maxItems, minLength, maxLength, enum, const, anyOf; each only with its type)',
    );
  }
}

/** A non-negative integer option (≤ MAX_REPEAT) or `fallback` when absent. */
function count(value: unknown, name: string, fallback: number, path: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_REPEAT) {
    fail(path, `"${name}" must be an integer in [0, ${MAX_REPEAT}], got ${JSON.stringify(value)}`);
  }
  return value;
}

function hasType(v: unknown, type: string): boolean {
  switch (type) {
    case 'string':
      return typeof v === 'string';
    case 'number':
      return typeof v === 'number' && Number.isFinite(v);
    case 'integer':
      return Number.isInteger(v);
    case 'boolean':
      return typeof v === 'boolean';
    case 'null':
      return v === null;
    case 'array':
      return Array.isArray(v);
    default:
      return isObject(v);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A JSON-pointer segment: `~` → `~0`, `/` → `~1`. */
const pointerEscape = (key: string): string => key.replace(/~/g, '~0').replace(/\//g, '~1');

function fail(path: string, what: string): never {
  throw new SampleError('CONSTRAINT_INVALID', `JSON schema at ${path}: ${what}`);
}
