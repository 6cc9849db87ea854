// End to end with a fake model (seeded random-normal logits) and a real BPE vocabulary trained on
// JSON-ish text (tokens like `{"`, `":`, `"},{"` and pieces of UTF-8 characters): every run of the
// mask → sample → advance loop yields text that JSON.parse accepts and the schema validates, or
// that JavaScript's RegExp fully matches.
import { describe, expect, it } from 'vitest';
import { jsonSchemaConstraint } from './json-schema.js';
import { regexConstraint } from './regex-constraint.js';
import { byteVocab, generate, trainedVocab, validate } from '../testing/constrained.js';
import { indexVocab } from './vocab-index.js';

const SCHEMA = {
  type: 'object',
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 12 },
    age: { type: 'integer' },
    email: { type: 'string', maxLength: 16 },
    score: { type: 'number' },
    active: { type: 'boolean' },
    role: { enum: ['admin', 'user', 'guest'] },
    tags: { type: 'array', items: { type: 'string', maxLength: 6 }, maxItems: 3 },
    address: {
      type: 'object',
      properties: { city: { type: 'string', maxLength: 10 }, zip: { type: ['string', 'null'], maxLength: 5 } },
      required: ['city'],
    },
    points: {
      type: 'array',
      items: { type: 'object', properties: { x: { type: 'number' }, ok: { const: true } }, required: ['x'] },
      minItems: 1,
      maxItems: 2,
    },
  },
  required: ['name', 'age', 'active', 'role', 'tags', 'address'],
};

describe('constrained generation with a fake model', () => {
  const trained = trainedVocab();
  const vocab = indexVocab(trained.vocab);
  const eos = [trained.eos];

  it.each(['none', 'compact'] as const)(
    'JSON schema, 100 seeds (whitespace %s): parses and validates',
    (whitespace) => {
      // Uniform random scores never prefer ending a number, so cap digits (real models stop on their own).
      const c = jsonSchemaConstraint(SCHEMA, vocab, { eosIds: eos, whitespace, maxNumberDigits: 6 });
      let multiChar = 0;
      const seen = new Set<string>();
      for (let seed = 0; seed < 100; seed++) {
        const out = generate(c, vocab, eos, seed, { maxTokens: 600 });
        expect(out.complete, out.text).toBe(true);
        const value = JSON.parse(out.text) as unknown;
        expect(validate(value, SCHEMA), out.text).toBeNull();
        multiChar += out.ids.filter((id) => vocab.tokenBytes(id).length > 1).length;
        seen.add(Object.keys(value as object).join(','));
      }
      expect(multiChar).toBeGreaterThan(200); // tokens really span several characters
      expect(seen.size).toBeGreaterThan(1); // optional properties are sometimes there, sometimes not
    },
  );

  it.each([
    ['date', '\\d{4}-\\d{2}-\\d{2}'],
    ['email-like', '[a-z0-9._]{1,12}@[a-z0-9]{1,10}\\.(?:com|org|de)'],
    ['words with umlauts', '(?:[A-ZÄÖÜ][a-zäöüß]{0,8} ){1,3}(?:Köln|Grüße|東京|😀)'],
  ])('regex (%s), 100 seeds: RegExp agrees', (_, pattern) => {
    const c = regexConstraint(pattern, vocab, { eosIds: eos });
    const js = new RegExp(`^(?:${pattern})$`, 'u');
    for (let seed = 0; seed < 100; seed++) {
      const out = generate(c, vocab, eos, seed, { maxTokens: 200 });
      expect(out.complete, out.text).toBe(true);
      expect(js.test(out.text), out.text).toBe(true);
    }
  });

  it('greedy decoding of the same schema on a byte-level vocabulary', () => {
    const bytes = byteVocab();
    const c = jsonSchemaConstraint(SCHEMA, bytes.vocab, { eosIds: [bytes.eos], maxNumberDigits: 6 });
    for (let seed = 0; seed < 20; seed++) {
      const out = generate(c, bytes.vocab, [bytes.eos], seed, { maxTokens: 2000, greedy: true });
      expect(out.complete, out.text).toBe(true);
      expect(validate(JSON.parse(out.text), SCHEMA), out.text).toBeNull();
    }
  });
});
