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
import { type ConstraintLimits, constraintLimits } from '../limits.js';
import {
  type JsonWhitespace,
  escapeRegex,
  jsonInteger,
  jsonLiteral,
  jsonNumber,
  jsonString,
  orderedMembers,
  orderedMembersLength,
  separatedList,
  separators,
} from './json-regex.js';
import { type RegexConstraintOptions, type RegexState, regexConstraint } from './regex-constraint.js';

export interface JsonSchemaOptions {
  /** 'none' (default): `{"a":1}`; 'compact': `{"a": 1, "b": 2}`. */
  whitespace?: JsonWhitespace;
  /**
   * Most digits in each part of a number (integer part, fraction, exponent); default unlimited,
   * as JSON. A cap keeps weak or random models from writing digits forever.
   */
  maxNumberDigits?: number;
  /**
   * Bounds (default SAMPLE_LIMITS, limits.ts): `maxSchemaDepth` (nesting; a cyclic schema object is
   * refused), `maxPatternLength` (the compiled regex: checked as it grows, before the quadratic
   * leading-optional-properties form is built), `maxRepeat` (maxLength, maxItems, maxNumberDigits).
   */
  limits?: Partial<ConstraintLimits>;
}

export interface JsonSchemaConstraintOptions extends RegexConstraintOptions, JsonSchemaOptions {}

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
  if (opts === null || typeof opts !== 'object') fail('#', 'options must be an object');
  const limits = constraintLimits(opts.limits, (m) => fail('#', m));
  const ws = opts.whitespace ?? 'none';
  if (ws !== 'none' && ws !== 'compact') fail('#', `whitespace must be 'none' or 'compact', got ${String(ws)}`);
  const digits = opts.maxNumberDigits ?? Infinity;
  if (digits !== Infinity && (!Number.isInteger(digits) || digits < 1 || digits > limits.maxRepeat)) {
    fail('#', `maxNumberDigits must be an integer in [1, ${limits.maxRepeat}], got ${String(digits)}`);
  }
  return new SchemaCompiler(ws, digits, limits).compile(schema, '#');
}

class SchemaCompiler {
  private readonly comma: string;
  private readonly colon: string;
  /** The schema objects being compiled, outermost first: a schema that contains itself is a cycle. */
  private readonly ancestors: object[] = [];

  constructor(private readonly ws: JsonWhitespace, private readonly maxDigits: number, private readonly limits: ConstraintLimits) {
    ({ comma: this.comma, colon: this.colon } = separators(ws));
  }

  /**
   * The regex of `schema` (found at JSON pointer `path`); never a bare top-level alternation.
   * Schemas may be untrusted: nesting, cycles and the size of every piece are checked on the way.
   */
  compile(schema: unknown, path: string): string {
    if (!isObject(schema)) fail(path, 'a schema must be an object (true/false schemas are not supported)');
    if (this.ancestors.includes(schema)) fail(path, 'the schema contains itself (a cycle); recursive schemas cannot be a regex');
    if (this.ancestors.length >= this.limits.maxSchemaDepth) {
      fail(path, `schemas nested deeper than ${this.limits.maxSchemaDepth} levels (limits.maxSchemaDepth)`);
    }
    this.ancestors.push(schema);
    try {
      return this.checked(this.compileNode(schema, path), path);
    } finally {
      this.ancestors.pop();
    }
  }

  private compileNode(s: Record<string, unknown>, path: string): string {
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
    return this.alternation(types.map((t) => this.ofType(t, s, path)), path);
  }

  /** `re` when it is within limits.maxPatternLength, else CONSTRAINT_INVALID at `path`. */
  private checked(re: string, path: string): string {
    this.length(re.length, path);
    return re;
  }

  /** Throws when a regex of `n` characters would pass limits.maxPatternLength. */
  private length(n: number, path: string): void {
    if (n > this.limits.maxPatternLength) {
      fail(
        path,
        `the schema compiles to a regex of ${n} characters or more (limit ${this.limits.maxPatternLength}, limits.maxPatternLength); ` +
          'mark leading optional properties required, or lower maxItems/maxLength, enum sizes or the nesting',
      );
    }
  }

  /** `(?:a|b)` for several options, the option itself for one; its size checked before it is built. */
  private alternation(options: string[], path: string): string {
    const unique = [...new Set(options)];
    this.length(unique.reduce((n, o) => n + o.length + 1, 4), path);
    return unique.length === 1 ? unique[0]! : `(?:${unique.join('|')})`;
  }

  private anyOf(s: Record<string, unknown>, keys: string[], path: string): string {
    const extra = keys.filter((k) => k !== 'anyOf');
    if (extra.length > 0)
      fail(path, `"anyOf" beside other keywords (${extra.join(', ')}) is not supported; move them into each option`);
    if (!Array.isArray(s.anyOf) || s.anyOf.length === 0) fail(path, '"anyOf" must be a non-empty array of schemas');
    let total = 0;
    const options = s.anyOf.map((sub, i) => {
      const re = this.compile(sub, `${path}/anyOf/${i}`);
      this.length((total += re.length + 1), path);
      return re;
    });
    return this.alternation(options, path);
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
    // values are data of any shape: their depth (and cycles) and size are checked before serializing
    let total = 0;
    const depth = this.limits.maxSchemaDepth - this.ancestors.length;
    for (const v of kept) this.length((total += literalSize(v, depth, this.limits.maxPatternLength, path, keyword) + 1), path);
    return this.alternation(kept.map((v) => jsonLiteral(v, this.ws)), path);
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
    const min = count(s.minLength, 'minLength', 0, path, this.limits.maxRepeat);
    const max = count(s.maxLength, 'maxLength', Infinity, path, this.limits.maxRepeat);
    if (max < min) fail(path, `maxLength ${max} < minLength ${min}`);
    return jsonString(min, max);
  }

  private array(s: Record<string, unknown>, path: string): string {
    if (!isObject(s.items)) {
      fail(path, 'an array needs "items": one schema for every element (tuple forms are not supported)');
    }
    const item = this.compile(s.items, `${path}/items`);
    const min = count(s.minItems, 'minItems', 0, path, this.limits.maxRepeat);
    const max = count(s.maxItems, 'maxItems', Infinity, path, this.limits.maxRepeat);
    if (max < min) fail(path, `maxItems ${max} < minItems ${min}`);
    this.length(2 * (item.length + this.comma.length) + 40, path); // separatedList writes the item twice
    return `\\[${separatedList(item, this.comma, min, max)}\\]`;
  }

  private object(s: Record<string, unknown>, path: string): string {
    const props = s.properties ?? {};
    if (!isObject(props)) fail(path, '"properties" must be an object of schemas');
    const required = s.required ?? [];
    if (!Array.isArray(required) || !required.every((r) => typeof r === 'string')) {
      fail(path, '"required" must be an array of property names');
    }
    const isRequired = new Set(required as string[]);
    const missing = required.filter((r) => !Object.hasOwn(props, r));
    if (missing.length > 0) {
      fail(
        path,
        `required ${missing
          .map((m) => JSON.stringify(m))
          .join(', ')} not in "properties" (additional properties are not allowed)`,
      );
    }
    let total = 0;
    const members = Object.entries(props).map(([key, sub]) => {
      const re = `${escapeRegex(JSON.stringify(key))}${this.colon}${this.compile(sub, `${path}/properties/${pointerEscape(key)}`)}`;
      this.length((total += re.length), path);
      return { re, required: isRequired.has(key) };
    });
    // leading optional members make the regex quadratic in their number: measured before it is built
    this.length(orderedMembersLength(members, this.comma), path);
    return `\\{${orderedMembers(members, this.comma)}\\}`;
  }
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

/** A non-negative integer option (≤ `max`, limits.maxRepeat) or `fallback` when absent. */
function count(value: unknown, name: string, fallback: number, path: string, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
    fail(path, `"${name}" must be an integer in [0, ${max}] (limits.maxRepeat), got ${JSON.stringify(value)}`);
  }
  return value;
}

/**
 * An upper bound on the characters of `value` serialized as a regex literal (every character may
 * be escaped: ×2), walking it without recursion. A value nested deeper than `maxDepth` or that
 * contains itself is CONSTRAINT_INVALID (serializing it would overflow the stack or never end).
 */
function literalSize(value: unknown, maxDepth: number, cap: number, path: string, keyword: string): number {
  let size = 0;
  const stack: Array<{ v: unknown; depth: number; parents: readonly object[] }> = [{ v: value, depth: 0, parents: [] }];
  while (stack.length > 0 && size <= cap) {
    const { v, depth, parents } = stack.pop()!;
    if (depth > maxDepth) fail(path, `a "${keyword}" value nested deeper than the schema depth limit (limits.maxSchemaDepth)`);
    if (v !== null && typeof v === 'object') {
      if (parents.includes(v)) fail(path, `a "${keyword}" value contains itself (a cycle)`);
      const inner = [...parents, v];
      const entries = Array.isArray(v) ? v.map((x) => ['', x] as const) : Object.entries(v);
      size += 2 + entries.length;
      for (const [k, x] of entries) {
        size += 2 * (k.length + 3);
        stack.push({ v: x, depth: depth + 1, parents: inner });
      }
    } else if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || v === null) {
      size += 2 * (typeof v === 'string' ? v.length + 2 : String(v).length);
    } else {
      fail(path, `a "${keyword}" value holds a ${typeof v}, which is not JSON`);
    }
  }
  return size;
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
