// Hostile inputs (issue 12): generation options, regexes and JSON schemas from untrusted clients, and
// broken models. Every case ends in a typed SampleError with a clear message or a correct result,
// within a time and memory budget. Cases that would hang or exhaust memory if a guard were missing
// run in their own process (runIsolated: ≤ 15 s, ≤ 1024 MB) against the built package (dist/).
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectError, rng, runIsolated } from '@llm/kit';
import { initBackend } from '@llm/tensor-gpu';
import { SampleError } from './errors.js';
import { SAMPLE_LIMITS } from './limits.js';
import { generationConfigFor, resolveGenerationConfig, type GenerationOptions } from './config.js';
import { generate, stream } from './generate.js';
import { beamSearch } from './beam.js';
import { speculativeGenerate } from './speculative.js';
import { scoreContinuation } from './score.js';
import { regexConstraint } from './constrained/regex-constraint.js';
import { jsonSchemaConstraint, schemaToRegex } from './constrained/json-schema.js';
import { orderedMembers, orderedMembersLength } from './constrained/json-regex.js';
import { parseRegex } from './constrained/regex-parser.js';
import { FunctionLM } from './function-lm.js';
import type { TokenVocab } from './types.js';
import { testLM } from './testing/lm.js';

const PKG = fileURLToPath(new URL('..', import.meta.url));
const sampleError = (fn: () => unknown, code: string, fragment: RegExp | string) => expectError(fn, code, fragment, SampleError);

/** Byte vocabulary + one special (id 256, no bytes): what constraints see for a byte-level tokenizer. */
const BYTES: TokenVocab = { size: 257, tokenBytes: (id) => (id < 256 ? Uint8Array.of(id) : new Uint8Array(0)) };
const EOS = 256;

/** A model that prefers token (position mod V): deterministic, cheap. */
const plain = (V = 16, blockSize = 32) => new FunctionLM(V, blockSize, (ctx) => Float32Array.from({ length: V }, (_, i) => (i === ctx.length % V ? 2 : 0)));

/** A model whose logits turn to `bad` (NaN, Infinity) once the context is `after` tokens long. */
const broken = (bad: number, after: number, V = 8) =>
  new FunctionLM(V, 64, (ctx) => Float32Array.from({ length: V }, (_, i) => (ctx.length >= after && i === 3 ? bad : i === 1 ? 1 : 0)));

beforeAll(async () => {
  await initBackend({ backend: 'wasm', log: false });
});

describe('generation options from an untrusted client', () => {
  it('bad seeds, ids outside the vocabulary, empty or too many stop strings: typed errors naming the option', () => {
    const m = plain(16);
    const bad: Array<[GenerationOptions, RegExp]> = [
      [{ seed: NaN }, /seed must be an integer in \[0, 2\^53 − 1\], got NaN/],
      [{ seed: -5 }, /seed must be an integer in \[0, 2\^53 − 1\], got -5/],
      [{ seed: 1.5 }, /seed must be an integer/],
      [{ seed: 2 ** 60 }, /seed must be an integer/],
      [{ eosTokenId: 1e9 }, /eosTokenId: token id 1000000000 is outside the model's vocabulary \[0, 16\)/],
      [{ eosTokenId: [3, 16] }, /eosTokenId: token id 16 is outside/],
      [{ stopTokenIds: [1e9] }, /stopTokenIds: token id 1000000000 is outside/],
      [{ logitBias: { 1000000000: 1 } }, /logitBias: token id 1000000000 is outside/],
      [{ logitBias: new Map([[-1, 1]]) }, /logitBias: token id -1 is outside/],
      [{ logitBias: 5 as never }, /logitBias must be a Map or an object/],
      [{ badWords: [[1, 1e9]] }, /badWords: token id 1000000000 is outside/],
      [{ badWords: [5] as never }, /badWords must be a list of token-id lists/],
      [{ allowedTokens: [1e9] }, /allowedTokens: token id 1000000000 is outside/],
      [{ allowedTokens: 5 as never }, /allowedTokens must be a list of token ids or null/],
      [{ stopStrings: [''] }, /stopStrings\[0\] is empty/],
      [{ stopStrings: ['ok', ''] }, /stopStrings\[1\] is empty/],
      [{ stopStrings: Array.from({ length: 65 }, (_, i) => `s${i}`) }, /at most 64 stop strings, got 65/],
      [{ stopStrings: ['x'.repeat(1025)] }, /stopStrings\[0\] has 1025 characters; at most 1024/],
      [{ numBeams: 1e6 }, /numBeams must be at most 256 .*got 1000000/],
      [{ numDraftTokens: 1e9 }, /numDraftTokens must be at most 64, got 1000000000/],
      [{ penaltyLastN: -3 }, /penaltyLastN must be an integer ≥ 0/],
      [{ maxNewTokens: 0 }, /maxNewTokens must be a positive integer/],
      [{ maxNewTokens: '5' as never }, /maxNewTokens must be a positive integer/],
      [{ topK: 2.5 }, /topK must be an integer/],
    ];
    for (const [opts, msg] of bad) sampleError(() => generationConfigFor(m, opts), 'INVALID_ARGUMENT', msg);
    sampleError(() => resolveGenerationConfig(null as never), 'INVALID_ARGUMENT', /generation options must be an object/);
    // every entry point resolves the same way: nothing is allocated before the check
    sampleError(() => generate(m, [1], { eosTokenId: 1e9 }), 'INVALID_ARGUMENT', /eosTokenId: token id 1000000000/);
    sampleError(() => beamSearch(m, [1], { numBeams: 1e6 }), 'INVALID_ARGUMENT', /numBeams must be at most 256/);
    sampleError(() => speculativeGenerate(m, m, [1], { numDraftTokens: 1e9 }), 'INVALID_ARGUMENT', /numDraftTokens must be at most 64/);
    // a bad value the caller did not write says where it came from
    const fromCkpt = Object.assign(plain(16), { generationConfig: { eosTokenId: 99 } });
    sampleError(() => generate(fromCkpt, [1]), 'INVALID_ARGUMENT', /eosTokenId: token id 99 is outside the model's vocabulary \[0, 16\) \(from the model's generation config\)/);
  });

  it('maxNewTokens 1e12 is capped by the context: nothing is sized by it', () => {
    const m = plain(16, 12);
    const sizes: number[] = [];
    const create = m.createCache.bind(m);
    m.createCache = (b: number, maxLen?: number) => (sizes.push(maxLen ?? 0), create(b));
    const r = generate(m, [1, 2], { maxNewTokens: 1e12, temperature: 0 });
    expect(r.sequences[0]).toHaveLength(10);
    expect(r.finishReasons).toEqual(['length']);
    expect(beamSearch(m, [1, 2], { maxNewTokens: 1e12, numBeams: 2 }).sequences[0]).toHaveLength(10);
    expect(speculativeGenerate(m, m, [1, 2], { maxNewTokens: 1e12, temperature: 0 }).sequence).toHaveLength(10);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(12 + SAMPLE_LIMITS.maxDraftTokens + 1);
  });

  it('beam search at the beam limit keeps only 2·numBeams candidates per beam', () => {
    const m = plain(64, 16);
    const r = beamSearch(m, [1], { numBeams: SAMPLE_LIMITS.maxBeams, maxNewTokens: 3, numReturnSequences: 3, eosTokenId: null });
    expect(r.sequences).toHaveLength(3);
    expect(r.scores[0]).toBeGreaterThanOrEqual(r.scores[1]!);
  });

  it('seeded fuzz: 400 mutated option sets end in a result or a SampleError', () => {
    const r = rng(12);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
    const keys = ['maxNewTokens', 'maxLength', 'eosTokenId', 'stopTokenIds', 'stopStrings', 'doSample', 'seed', 'temperature', 'topK', 'topP', 'minP', 'typicalP', 'repetitionPenalty', 'frequencyPenalty', 'presencePenalty', 'penaltyLastN', 'noRepeatNgramSize', 'logitBias', 'badWords', 'allowedTokens', 'numBeams', 'lengthPenalty', 'earlyStopping', 'numReturnSequences', 'numDraftTokens'] as const;
    const values: unknown[] = [NaN, Infinity, -Infinity, -1, 0, 0.5, 1, 2, 3, 15, 16, 1e9, 1e12, 2 ** 53, -0, '', 'x', '5', true, false, null, undefined, [], [''], ['a'], [1e9], [[1e9]], [[]], [-1], {}, { 1: 2 }, { a: 1 }, { 1: NaN }, { 1: Infinity }, new Map([[1, -Infinity]]), [[1, 2]], 'never', { length: 3 }];
    const m = plain(16, 16);
    let results = 0;
    for (let i = 0; i < 400; i++) {
      const opts: Record<string, unknown> = { maxNewTokens: 4 };
      const n = 1 + Math.floor(r() * 3);
      for (let k = 0; k < n; k++) opts[pick(keys)] = pick(values);
      const entry = pick(['generate', 'beam', 'speculative'] as const);
      const t0 = performance.now();
      try {
        if (entry === 'generate') generate(m, [1, 2], opts as GenerationOptions);
        else if (entry === 'beam') beamSearch(m, [1, 2], opts as GenerationOptions);
        else speculativeGenerate(m, m, [1, 2], opts as GenerationOptions);
        results++;
      } catch (e) {
        expect(e, `${entry} ${JSON.stringify(opts)}: ${String(e)}`).toBeInstanceOf(SampleError);
        expect((e as SampleError).message.length, JSON.stringify(opts)).toBeLessThan(600);
      }
      expect(performance.now() - t0, JSON.stringify(opts)).toBeLessThan(2000);
    }
    expect(results).toBeGreaterThan(20); // the fuzz reaches generation, not only the checks
  });
});

describe('non-finite logits from a broken model', () => {
  it('NaN / +Inf / all −Inf are NON_FINITE_LOGITS naming the row and step, not "every token is banned"', async () => {
    sampleError(() => generate(broken(NaN, 4), [1, 1], { temperature: 0, maxNewTokens: 8 }), 'NON_FINITE_LOGITS', /generate: row 0, step 2: the model's logits\[3\] is NaN/);
    sampleError(() => generate(broken(Infinity, 2), [[1, 1], [1]], { maxNewTokens: 8 }), 'NON_FINITE_LOGITS', /row 0, step 0: the model's logits\[3\] is Infinity/);
    const allBanned = new FunctionLM(4, 16, () => new Float32Array(4).fill(-Infinity));
    sampleError(() => generate(allBanned, [1], { maxNewTokens: 2 }), 'NON_FINITE_LOGITS', /every logit the model produced is −Infinity/);
    sampleError(() => beamSearch(broken(NaN, 3), [1, 1], { numBeams: 2, maxNewTokens: 4 }), 'NON_FINITE_LOGITS', /beam search: beam 0, step 1/);
    sampleError(() => speculativeGenerate(broken(NaN, 2), plain(8), [1], { maxNewTokens: 4 }), 'NON_FINITE_LOGITS', /the target model/);
    sampleError(() => speculativeGenerate(plain(8), broken(NaN, 2), [1], { maxNewTokens: 4 }), 'NON_FINITE_LOGITS', /the draft model/);
    sampleError(() => scoreContinuation(broken(NaN, 2), [1], [2, 3]), 'NON_FINITE_LOGITS', /continuation token 1/);
    await expect(async () => {
      for await (const _ of stream(broken(NaN, 3), [1], { maxNewTokens: 5 })) void _;
    }).rejects.toMatchObject({ code: 'NON_FINITE_LOGITS' });
    // processors that ban everything are still reported as such
    sampleError(() => generate(plain(8), [1], { allowedTokens: [2], badWords: [[2]] }), 'CONSTRAINT_INVALID', /every token is banned/);
  });

  it('a model that returns the wrong number of logits is SHAPE_MISMATCH', () => {
    const inner = new FunctionLM(8, 16, () => new Float32Array(8));
    const lying = { config: { vocabSize: 9, blockSize: 16 }, createCache: (b: number) => inner.createCache(b), forward: inner.forward.bind(inner) };
    sampleError(() => generate(lying, [1], { maxNewTokens: 2 }), 'SHAPE_MISMATCH', /returned 8 logits for 1 row/);
  });
});

describe('scoreContinuation with ids outside the vocabulary', () => {
  it('is a typed error for every kind of bad id, never tfjs\' own gather error', () => {
    const m = testLM({ family: 'gpt2', vocabSize: 20, nLayer: 1, nHead: 2, nEmbd: 8, blockSize: 16 });
    for (const bad of [1e9, -1, 20, NaN, 2.5, Infinity, '3' as never, null as never]) {
      sampleError(() => scoreContinuation(m, [1, 2], [3, bad]), 'INVALID_ARGUMENT', /prompt \+ continuation has token id .*outside the vocabulary \[0, 20\)/);
      sampleError(() => scoreContinuation(m, [bad, 2], [3]), 'INVALID_ARGUMENT', /outside the vocabulary/);
    }
    sampleError(() => scoreContinuation(m, 'ab' as never, [1]), 'INVALID_ARGUMENT', /arrays of token ids/);
    sampleError(() => scoreContinuation(m, [1], 7 as never), 'INVALID_ARGUMENT', /arrays of token ids/);
    expect(scoreContinuation(m, [1, 2], [3, 19]).logProbs).toHaveLength(2);
    m.dispose();
  });
});

describe('hostile regexes', () => {
  const constraintError = (pattern: string, fragment: RegExp, limits?: object) =>
    sampleError(() => regexConstraint(pattern, BYTES, { eosIds: [EOS], ...(limits ? { limits } : {}) }), 'CONSTRAINT_INVALID', fragment);

  it('deep nesting, huge counts, long patterns: CONSTRAINT_INVALID quickly, never a stack overflow', () => {
    const t0 = performance.now();
    constraintError('('.repeat(20_000) + 'a' + ')'.repeat(20_000), /groups nested deeper than 500 levels \(limits\.maxRegexDepth\)/);
    constraintError('(?:'.repeat(600) + 'a' + ')'.repeat(600), /nested deeper than 500/);
    constraintError('a{99999999999999999999}', /quantifier count above 10000/);
    constraintError('a{0,10001}', /quantifier count above 10000/);
    constraintError('a'.repeat(1_000_001), /longer than the limit of 1000000/);
    constraintError('((a{100}){100}){200}', /over 1000000 automaton states \(limits\.maxNfaStates\)/);
    constraintError('((a))', /nested deeper than 1 levels/, { maxRegexDepth: 1 });
    sampleError(() => regexConstraint('a', BYTES, { eosIds: [EOS], limits: { maxNfaStates: -1 } }), 'INVALID_ARGUMENT', /limits\.maxNfaStates must be a positive integer/);
    sampleError(() => regexConstraint(5 as never, BYTES, { eosIds: [EOS] }), 'CONSTRAINT_INVALID', /needs a string pattern/);
    const e = expectError(() => parseRegex('('.repeat(5000)), 'CONSTRAINT_INVALID', /nested deeper/, SampleError);
    expect(e.message.length).toBeLessThan(400); // the pattern is not echoed whole
    expect(performance.now() - t0).toBeLessThan(10_000);
  });

  it('giant character classes work (no argument spreading)', () => {
    const cls = '[' + Array.from({ length: 150_000 }, (_, i) => String.fromCodePoint(0x4e00 + 2 * (i % 20_000))).join('') + 'a]';
    const c = regexConstraint(`${cls}+`, BYTES, { eosIds: [EOS] });
    const logits = new Float32Array(257);
    c.mask(logits, c.start());
    expect(logits[0x61]).toBe(0);
    expect(logits[0x62]).toBe(-Infinity);
  });

  it('the lazy DFA has a state budget: an exponential pattern ends in CONSTRAINT_INVALID as it is walked', () => {
    const c = regexConstraint('(a|b)*a(a|b){16}', BYTES, { eosIds: [EOS], limits: { maxDfaStates: 2000 } });
    const r = rng(3);
    let s = c.start();
    const logits = new Float32Array(257);
    const walk = () => {
      for (let i = 0; i < 5000; i++) {
        logits.fill(0);
        c.mask(logits, s);
        s = c.advance(s, r() < 0.5 ? 0x61 : 0x62);
      }
    };
    expectError(walk, 'CONSTRAINT_INVALID', /over 2000 DFA states .*limits\.maxDfaStates/, SampleError);
  });

  it('seeded fuzz: 400 random and mutated patterns compile or fail with CONSTRAINT_INVALID, each fast', () => {
    const r = rng(7);
    const atoms = ['a', 'b', '.', '\\d', '\\w', '[a-c]', '[^x]', '(', ')', '(?:', '|', '*', '+', '?', '{2}', '{1,3}', '{0,}', '{', '}', '\\', '^', '$', '[', ']', '-', '(?=', '\\1', '\\u{1F600}', '😀', '{9999}', '{10001}', '[z-a]', '\\x4'];
    const seeds = ['\\d{4}-\\d{2}', '(ab|cd)*e', '[a-z]+@[a-z]+\\.com', '"(?:[^"\\\\]|\\\\.)*"'];
    for (let i = 0; i < 400; i++) {
      let p: string;
      if (i % 2 === 0) {
        p = Array.from({ length: 1 + Math.floor(r() * 24) }, () => atoms[Math.floor(r() * atoms.length)]).join('');
      } else {
        const chars = [...seeds[i % seeds.length]!];
        for (let k = 0; k < 3; k++) chars.splice(Math.floor(r() * chars.length), Math.floor(r() * 2), atoms[Math.floor(r() * atoms.length)]!);
        p = chars.join('');
      }
      const t0 = performance.now();
      try {
        const c = regexConstraint(p, BYTES, { eosIds: [EOS] });
        const logits = new Float32Array(257);
        c.mask(logits, c.start());
      } catch (e) {
        expect(e, `/${p}/: ${String(e)}`).toBeInstanceOf(SampleError);
        expect(['CONSTRAINT_INVALID'], `/${p}/`).toContain((e as SampleError).code);
      }
      expect(performance.now() - t0, `/${p}/`).toBeLessThan(2000);
    }
  });
});

describe('hostile JSON schemas', () => {
  const schemaError = (schema: unknown, fragment: RegExp, opts: object = {}) => sampleError(() => schemaToRegex(schema as object, opts), 'CONSTRAINT_INVALID', fragment);
  const nested = (n: number, wrap: (s: object) => object, leaf: object = { type: 'integer' }) => {
    let s = leaf;
    for (let i = 0; i < n; i++) s = wrap(s);
    return s;
  };

  it('thousands of levels and cycles: CONSTRAINT_INVALID naming where, never a stack overflow', () => {
    schemaError(nested(5000, (s) => ({ type: 'array', items: s })), /nested deeper than 100 levels \(limits\.maxSchemaDepth\)/);
    schemaError(nested(5000, (s) => ({ anyOf: [s] })), /nested deeper than 100 levels/);
    schemaError(nested(5000, (s) => ({ type: 'object', properties: { a: s } })), /JSON schema at #\/properties\/a\/properties\/a.*nested deeper/);
    const self: Record<string, unknown> = { type: 'object', properties: {} };
    (self.properties as Record<string, unknown>).self = self;
    schemaError(self, /JSON schema at #\/properties\/self: the schema contains itself \(a cycle\)/);
    const viaItems: Record<string, unknown> = { type: 'array' };
    viaItems.items = { anyOf: [{ type: 'null' }, viaItems] };
    schemaError(viaItems, /#\/items\/anyOf\/1: the schema contains itself/);
    schemaError({ type: 'object', properties: { a: { type: 'integer' } } }, /nested deeper than 1 levels/, { limits: { maxSchemaDepth: 1 } });
  });

  it('exponential and quadratic growth is measured before it is built', () => {
    const t0 = performance.now();
    schemaError(nested(40, (s) => ({ type: 'array', items: s })), /compiles to a regex of \d+ characters or more \(limit 1000000, limits\.maxPatternLength\)/);
    schemaError(nested(30, (s) => ({ anyOf: [s, { type: 'array', items: s, maxItems: 3 }] }), { type: 'null' }), /limits\.maxPatternLength/);
    const optional = (n: number) => ({ type: 'object', properties: Object.fromEntries(Array.from({ length: n }, (_, i) => [`p${i}`, { type: 'integer' }])) });
    schemaError(optional(3000), /JSON schema at #: the schema compiles to a regex of 1480\d{5} characters or more/);
    expect(schemaToRegex(optional(100)).length).toBeLessThan(1_000_000);
    schemaError({ enum: Array.from({ length: 200_000 }, (_, i) => `value number ${i}`) }, /limits\.maxPatternLength/);
    schemaError({ type: 'array', items: { type: 'string' }, maxItems: 1e9 }, /"maxItems" must be an integer in \[0, 10000\]/);
    expect(performance.now() - t0).toBeLessThan(5000);
  });

  it('enum / const values: deep, cyclic or not JSON', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    schemaError({ const: deep }, /a "const" value nested deeper than the schema depth limit/);
    const cyclic: Record<string, unknown> = {};
    cyclic.me = cyclic;
    schemaError({ enum: [1, cyclic] }, /a "enum" value contains itself \(a cycle\)/);
    schemaError({ const: 10n }, /holds a bigint, which is not JSON/);
    expect(schemaToRegex({ const: { a: [1, 'x'] } })).toBe('\\{"a":\\[1,"x"\\]\\}');
  });

  it('orderedMembersLength is exactly the length of orderedMembers (so the size check is exact)', () => {
    const r = rng(5);
    for (let i = 0; i < 200; i++) {
      const members = Array.from({ length: Math.floor(r() * 9) }, (_, k) => ({ re: 'x'.repeat(1 + Math.floor(r() * 5)) + k, required: r() < 0.3 }));
      for (const comma of [',', ', ']) expect(orderedMembersLength(members, comma)).toBe(orderedMembers(members, comma).length);
    }
  });

  it('seeded fuzz: 300 random schemas compile to a regex or fail with CONSTRAINT_INVALID', () => {
    const r = rng(11);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
    const odd: unknown[] = [null, 5, 'x', [], {}, true, -1, 1.5, 1e9, NaN, [1, 'a'], { type: 'string' }];
    const gen = (depth: number): unknown => {
      if (r() < 0.1) return pick(odd);
      const type = pick(['object', 'array', 'string', 'number', 'integer', 'boolean', 'null', 'enum', 'const', 'anyOf', 'bogus', ['string', 'null']]);
      if (type === 'enum') return { enum: r() < 0.9 ? [1, 'a', null, { k: [true] }].slice(0, 1 + Math.floor(r() * 4)) : pick(odd) };
      if (type === 'const') return { const: pick([1, 'q', null, [1, [2]], { a: 1 }]) };
      if (type === 'anyOf') return { anyOf: depth > 3 ? [] : Array.from({ length: 1 + Math.floor(r() * 3) }, () => gen(depth + 1)) };
      const s: Record<string, unknown> = { type };
      if (type === 'object' && depth < 4) {
        const names = Array.from({ length: Math.floor(r() * 5) }, (_, i) => `k${i}`);
        s.properties = Object.fromEntries(names.map((n) => [n, gen(depth + 1)]));
        if (r() < 0.5) s.required = names.filter(() => r() < 0.5).concat(r() < 0.1 ? ['missing'] : []);
      }
      if (type === 'array') {
        s.items = depth < 4 ? gen(depth + 1) : { type: 'null' };
        if (r() < 0.4) s.maxItems = pick([0, 1, 3, 10_000, 10_001, -1, 2.5]);
        if (r() < 0.3) s.minItems = pick([0, 2, 5]);
      }
      if (type === 'string' && r() < 0.5) s.maxLength = pick([0, 4, 10_000, 1e9, 'x']);
      if (r() < 0.05) s[pick(['pattern', '$ref', 'oneOf', 'minimum'])] = 1;
      return s;
    };
    for (let i = 0; i < 300; i++) {
      const schema = gen(0);
      const t0 = performance.now();
      try {
        const c = jsonSchemaConstraint(schema as object, BYTES, { eosIds: [EOS] });
        const logits = new Float32Array(257);
        c.mask(logits, c.start());
      } catch (e) {
        expect(e, `${JSON.stringify(schema)}: ${String(e)}`).toBeInstanceOf(SampleError);
        expect((e as SampleError).code, JSON.stringify(schema)).toBe('CONSTRAINT_INVALID');
      }
      expect(performance.now() - t0, JSON.stringify(schema)).toBeLessThan(3000);
    }
  });
});

describe('in their own process, under 15 s and 1024 MB (a missing guard would hang or exhaust memory)', () => {
  const prelude = `import * as S from '@llm/sample'; const vocab = { size: 257, tokenBytes: (id) => (id < 256 ? Uint8Array.of(id) : new Uint8Array(0)) };`;
  const model = `import { initBackend } from '@llm/tensor-gpu'; import { TransformerLM } from '@llm/transformer'; await initBackend({ backend: 'wasm', log: false }); const m = new TransformerLM({ family: 'gpt2', vocabSize: 64, nLayer: 1, nHead: 2, nEmbd: 16, blockSize: 32 });`;
  const cases: Array<[string, string, string, RegExp]> = [
    ['beamSearch numBeams 1e6', model, 'S.beamSearch(m, [1, 2], { numBeams: 1e6, maxNewTokens: 2 });', /numBeams must be at most 256/],
    ['speculative numDraftTokens 1e9', model, 'S.speculativeGenerate(m, m, [1, 2], { numDraftTokens: 1e9 });', /numDraftTokens must be at most 64/],
    ['generate maxNewTokens 1e12', model, "const r = S.generate(m, [[1, 2]], { maxNewTokens: 1e12 }); throw Object.assign(new Error('generated ' + r.sequences[0].length), { code: 'DONE' });", /generated 30/],
    ['a schema with 3000 optional properties', '', "S.jsonSchemaConstraint({ type: 'object', properties: Object.fromEntries(Array.from({ length: 3000 }, (_, i) => ['p' + i, { type: 'integer' }])) }, vocab, { eosIds: [256] });", /limits\.maxPatternLength/],
    ['nested arrays 60 deep', '', "let s = { type: 'integer' }; for (let i = 0; i < 60; i++) s = { type: 'array', items: s }; S.schemaToRegex(s);", /limits\.maxPatternLength/],
    ['maxItems × maxItems × maxLength', '', "S.jsonSchemaConstraint({ type: 'array', maxItems: 10000, items: { type: 'array', maxItems: 10000, items: { type: 'string', maxLength: 10000 } } }, vocab, { eosIds: [256] });", /limits\.maxNfaStates/],
    ['an exponential DFA walked by masks', '', "const c = S.regexConstraint('(a|b)*a(a|b){40}', vocab, { eosIds: [256] }); let s = c.start(); const l = new Float32Array(257); let x = 1; for (let i = 0; i < 3e5; i++) { l.fill(0); c.mask(l, s); x ^= x << 13; x ^= x >>> 17; x ^= x << 5; s = c.advance(s, x & 1 ? 97 : 98); }", /over 100000 DFA states/],
    ['a million-character literal', '', "S.regexConstraint('a'.repeat(999999), vocab, { eosIds: [256] }); throw Object.assign(new Error('compiled'), { code: 'DONE' });", /compiled/],
  ];
  it.each(cases)('%s', async (_name, setup, code, message) => {
    const r = await runIsolated(`${prelude}${setup}${code}`, { cwd: PKG, timeoutMs: 15_000, memoryMb: 1024 });
    expect(r.outcome, r.stderr.slice(-500)).toBe('exit');
    expect(r.error?.message, r.stderr.slice(-500)).toMatch(message);
    expect(['INVALID_ARGUMENT', 'CONSTRAINT_INVALID', 'DONE']).toContain(r.error?.code);
  });
});
