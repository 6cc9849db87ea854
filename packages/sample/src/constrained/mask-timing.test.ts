// Measures mask() on a large vocabulary: cl100k_base (100k tokens) when the optional `tiktoken`
// peer is installed, else a BPE trained here. Each state along a real tokenized output is masked
// twice: the first call walks the vocabulary trie (uncached), the second reuses the cached mask.
import { getEncoding, Tokenizer, TokenizerError, trainBpeSync } from '@llm/tokenizer-bpe';
import { describe, expect, it } from 'vitest';
import type { Constraint } from '../types.js';
import { jsonSchemaConstraint } from './json-schema.js';
import { regexConstraint } from './regex-constraint.js';
import { jsonCorpus } from '../testing/constrained.js';
import { indexVocab } from './vocab-index.js';
import { vocabFromTokenizer } from './vocab.js';

function loadTokenizer(): { tok: Tokenizer; name: string } {
  try {
    return { tok: getEncoding('cl100k_base'), name: 'cl100k_base' };
  } catch (e) {
    if (!(e instanceof TokenizerError)) throw e;
    const def = trainBpeSync(jsonCorpus(2, 4000), { vocabSize: 4000, specialTokens: ['<|endoftext|>'] });
    return { tok: new Tokenizer(def), name: `trained BPE (tiktoken not installed)` };
  }
}

/** Mean ms of the first (uncached) and second (cached) mask() on each state along `ids`. */
function timeMasks<S>(
  c: Constraint<S>,
  ids: number[],
  size: number,
): { uncached: number; cached: number; states: number } {
  const logits = new Float32Array(size);
  let uncached = 0;
  let cached = 0;
  let s = c.start();
  for (const id of ids) {
    logits.fill(0);
    let t = performance.now();
    c.mask(logits, s);
    uncached += performance.now() - t;
    logits.fill(0);
    t = performance.now();
    c.mask(logits, s);
    cached += performance.now() - t;
    expect(logits[id]).not.toBe(-Infinity); // the reference token is allowed
    s = c.advance(s, id);
  }
  expect(c.isComplete(s)).toBe(true);
  return { uncached: uncached / ids.length, cached: cached / ids.length, states: ids.length };
}

describe('mask timing on a large vocabulary', () => {
  it('reports ms per uncached and cached mask()', () => {
    let t = performance.now();
    const { tok, name } = loadTokenizer();
    const eos = [...tok.specialTokens.values()].slice(0, 1);
    const loadMs = performance.now() - t;
    t = performance.now();
    const vocab = indexVocab(vocabFromTokenizer(tok));
    const indexMs = performance.now() - t;
    const schema = {
      type: 'object',
      properties: {
        name: { type: 'string' },
        age: { type: 'integer' },
        tags: { type: 'array', items: { type: 'string' } },
        city: { enum: ['Köln', 'Berlin', '東京'] },
      },
      required: ['name', 'age', 'tags', 'city'],
    };
    const json = '{"name":"Grüße aus Köln, dear friend","age":42,"tags":["a","bc","naïve 😀"],"city":"東京"}';
    const rows = [
      ['JSON schema', jsonSchemaConstraint(schema, vocab, { eosIds: eos }), json],
      ['regex .*', regexConstraint('.*', vocab, { eosIds: eos }), 'Any text at all, with ümlauts ✓'],
      ['regex date', regexConstraint('\\d{4}-\\d{2}-\\d{2}', vocab, { eosIds: eos }), '2024-05-17'],
    ] as const;
    const lines = [
      `${name}: V = ${vocab.size}, ${vocab.nodeCount} trie nodes; load ${loadMs.toFixed(0)} ms, index ${indexMs.toFixed(
        0,
      )} ms`,
    ];
    for (const [label, c, text] of rows) {
      const r = timeMasks(c as Constraint<unknown>, tok.encode(text), vocab.size);
      lines.push(
        `${label}: ${r.states} states, uncached ${r.uncached.toFixed(2)} ms, cached ${r.cached.toFixed(3)} ms per mask`,
      );
      expect(r.cached).toBeLessThan(r.uncached);
    }
    console.log(lines.join('\n'));
  });
});
