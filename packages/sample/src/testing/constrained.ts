/**
 * Shared by the constrained-decoding tests (not part of the package surface): vocabularies (a BPE
 * trained on generated JSON-ish text, a byte-level one), a fake model's constrained generation
 * loop, and a validator for the JSON-schema subset. Seeded by the kit's `rng`.
 *
 *   const { vocab, eos } = trainedVocab();
 *   const out = generate(regexConstraint('\\d+', vocab, { eosIds: [eos] }), vocab, [eos], 7);
 *   out.text   // e.g. '4081'
 */
import { rng } from '@llm/kit';
import { Tokenizer, trainBpeSync } from '@llm/tokenizer-bpe';
import { vocabFromTokenizer } from '../constrained/vocab.js';
import type { Constraint, TokenVocab } from '../types.js';

const pick = <T>(next: () => number, xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;

const WORDS = [
  'Alice',
  'Bob',
  'Müller',
  'Köln',
  'Jürgen',
  'café',
  'naïve',
  'Grüße',
  '東京',
  'Zoë',
  '😀',
  '🎉',
  'hello',
  'world',
  'data',
];
const KEYS = ['name', 'age', 'email', 'tags', 'active', 'score', 'city', 'id', 'items', 'role', 'address', 'zip'];

/** Deterministic JSON-ish training text (both whitespace styles, non-ASCII words and emoji). */
export function jsonCorpus(seed = 1, objects = 1500): string {
  const next = rng(seed);
  const value = (depth: number): unknown => {
    const r = next();
    if (r < 0.3) return pick(next, WORDS) + (next() < 0.3 ? ` ${pick(next, WORDS)}` : '');
    if (r < 0.5) return Math.floor(next() * 10 ** Math.floor(next() * 5)) * (next() < 0.2 ? -1 : 1);
    if (r < 0.6) return Math.round(next() * 1e4) / 100;
    if (r < 0.7) return next() < 0.5;
    if (r < 0.75) return null;
    if (r < 0.87 && depth < 2) return Array.from({ length: Math.floor(next() * 4) }, () => value(depth + 1));
    if (depth < 2) return object(depth + 1);
    return pick(next, WORDS);
  };
  const object = (depth: number): Record<string, unknown> =>
    Object.fromEntries(Array.from({ length: 1 + Math.floor(next() * 4) }, () => [pick(next, KEYS), value(depth)]));
  const lines: string[] = [];
  for (let i = 0; i < objects; i++) {
    const text = JSON.stringify(object(0));
    lines.push(next() < 0.5 ? text : text.replace(/,"/g, ', "').replace(/":/g, '": '));
  }
  return lines.join('\n');
}

/** A byte-level BPE (2000 tokens + <|endoftext|>) trained on jsonCorpus(), as a TokenVocab. */
export function trainedVocab(vocabSize = 2000): { vocab: TokenVocab; eos: number; tok: Tokenizer } {
  const def = trainBpeSync(jsonCorpus(), { vocabSize, specialTokens: ['<|endoftext|>'] });
  const tok = new Tokenizer(def);
  return { vocab: vocabFromTokenizer(tok), eos: tok.specialTokens.get('<|endoftext|>')!, tok };
}

/** 256 one-byte tokens and EOS = 256: every multi-byte character is split across tokens. */
export function byteVocab(): { vocab: TokenVocab; eos: number } {
  const tokens = Array.from({ length: 256 }, (_, b) => Uint8Array.of(b));
  return { vocab: { size: 257, tokenBytes: (id) => tokens[id] ?? new Uint8Array(0) }, eos: 256 };
}

export interface Generated {
  ids: number[];
  bytes: Uint8Array;
  /** Strict UTF-8 decoding (throws on invalid bytes). */
  text: string;
  /** How it stopped: EOS sampled, constraint finished, or the token cap. */
  stop: 'eos' | 'finished' | 'cap';
  complete: boolean;
}

/**
 * The fake model: every step draws V standard-normal logits (× `scale`), the constraint masks
 * them, a token is sampled from the softmax (greedy when `greedy`), and the state advances —
 * until EOS, a finished constraint, or `maxTokens`.
 */
export function generate<S>(
  c: Constraint<S>,
  vocab: TokenVocab,
  eosIds: readonly number[],
  seed: number,
  opts: { maxTokens?: number; greedy?: boolean; scale?: number; onState?: (s: S) => void } = {},
): Generated {
  const next = rng(seed);
  const { maxTokens = 400, greedy = false, scale = 1 } = opts;
  let state = c.start();
  const ids: number[] = [];
  let stop: Generated['stop'] = 'cap';
  for (let step = 0; step < maxTokens; step++) {
    opts.onState?.(state);
    const logits = normals(vocab.size, next, scale);
    c.mask(logits, state);
    const id = greedy ? argmax(logits) : sample(logits, next);
    if (eosIds.includes(id)) {
      stop = 'eos';
      break;
    }
    state = c.advance(state, id);
    ids.push(id);
    if (c.isFinished(state)) {
      stop = 'finished';
      break;
    }
  }
  const bytes = concat(ids.map((id) => vocab.tokenBytes(id)));
  const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  return { ids, bytes, text, stop, complete: c.isComplete(state) };
}

/** `n` standard-normal draws × `scale` (Box–Muller, both outputs of each pair used). */
function normals(n: number, next: () => number, scale: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = scale * Math.sqrt(-2 * Math.log(1 - next()));
    const t = 2 * Math.PI * next();
    out[i] = r * Math.cos(t);
    if (i + 1 < n) out[i + 1] = r * Math.sin(t);
  }
  return out;
}

function argmax(logits: Float32Array): number {
  let best = -1;
  for (let i = 0; i < logits.length; i++) if (best < 0 || logits[i]! > logits[best]!) best = i;
  if (logits[best] === -Infinity) throw new Error('every token is masked');
  return best;
}

/** A draw from softmax(logits), looking only at the finite (allowed) entries. */
function sample(logits: Float32Array, next: () => number): number {
  const ids: number[] = [];
  for (let i = 0; i < logits.length; i++) if (logits[i] !== -Infinity) ids.push(i);
  if (ids.length === 0) throw new Error('every token is masked');
  const max = ids.reduce((m, i) => Math.max(m, logits[i]!), -Infinity);
  const p = ids.map((i) => Math.exp(logits[i]! - max));
  let r = next() * p.reduce((a, b) => a + b, 0);
  for (let k = 0; k < ids.length; k++) {
    r -= p[k]!;
    if (r <= 0) return ids[k]!;
  }
  return ids[ids.length - 1]!;
}

const concat = (parts: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts));

/**
 * Checks `value` against the JSON-schema subset (written independently of the compiler):
 * returns the first problem, or null.
 *
 *   validate({ a: 1 }, { type: 'object', properties: { a: { type: 'string' } } })   // → '$.a: not a string'
 */
export function validate(value: unknown, schema: Record<string, unknown>, at = '$'): string | null {
  if ('const' in schema) return JSON.stringify(value) === JSON.stringify(schema.const) ? null : `${at}: not the const`;
  if ('enum' in schema) {
    const ok = (schema.enum as unknown[]).some((e) => JSON.stringify(e) === JSON.stringify(value));
    return ok ? null : `${at}: not in enum`;
  }
  if ('anyOf' in schema) {
    const ok = (schema.anyOf as Array<Record<string, unknown>>).some((s) => validate(value, s, at) === null);
    return ok ? null : `${at}: matches no anyOf option`;
  }
  const types = Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string];
  const problems = types.map((t) => validateType(value, t, schema, at));
  return problems.includes(null) ? null : problems[0]!;
}

function validateType(value: unknown, type: string, schema: Record<string, unknown>, at: string): string | null {
  const len = (n: unknown, lo: unknown, hi: unknown): boolean =>
    (typeof lo !== 'number' || (n as number) >= lo) && (typeof hi !== 'number' || (n as number) <= hi);
  switch (type) {
    case 'string':
      if (typeof value !== 'string') return `${at}: not a string`;
      return len([...value].length, schema.minLength, schema.maxLength) ? null : `${at}: string length`;
    case 'number':
      return typeof value === 'number' ? null : `${at}: not a number`;
    case 'integer':
      return Number.isInteger(value) ? null : `${at}: not an integer`;
    case 'boolean':
      return typeof value === 'boolean' ? null : `${at}: not a boolean`;
    case 'null':
      return value === null ? null : `${at}: not null`;
    case 'array': {
      if (!Array.isArray(value)) return `${at}: not an array`;
      if (!len(value.length, schema.minItems, schema.maxItems)) return `${at}: item count`;
      for (let i = 0; i < value.length; i++) {
        const p = validate(value[i], schema.items as Record<string, unknown>, `${at}[${i}]`);
        if (p !== null) return p;
      }
      return null;
    }
    case 'object': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return `${at}: not an object`;
      const props = (schema.properties ?? {}) as Record<string, Record<string, unknown>>;
      for (const r of (schema.required ?? []) as string[]) if (!(r in value)) return `${at}: missing ${r}`;
      for (const [k, v] of Object.entries(value)) {
        if (!(k in props)) return `${at}: unexpected ${k}`;
        const p = validate(v, props[k]!, `${at}.${k}`);
        if (p !== null) return p;
      }
      return null;
    }
    default:
      return `${at}: unknown type ${type}`;
  }
}
