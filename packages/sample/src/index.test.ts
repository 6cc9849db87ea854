// The public surface of @llm/sample, and constrained generation end to end with a real model.
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@llm/tensor-gpu';
import { Tokenizer, bytesToBinary, GPT2_PATTERN } from '@llm/tokenizer-bpe';
import * as api from './index.js';
import { testLM } from './testing/lm.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm', log: false });
});

describe('@llm/sample public surface', () => {
  it('exports the documented API', () => {
    const names = Object.keys(api);
    for (const n of ['generate', 'stream', 'beamSearch', 'speculativeGenerate', 'scoreContinuation', 'buildProcessors', 'applyProcessors', 'TopKProcessor', 'TopPProcessor', 'MinPProcessor', 'TypicalPProcessor', 'TemperatureProcessor', 'RepetitionPenaltyProcessor', 'FrequencyPresencePenaltyProcessor', 'NoRepeatNGramProcessor', 'LogitBiasProcessor', 'BadWordsProcessor', 'AllowedTokensProcessor', 'regexConstraint', 'jsonSchemaConstraint', 'vocabFromTokenizer', 'argmax', 'softmax', 'logSoftmax', 'sampleToken', 'SampleError', 'resolveGenerationConfig', 'generationConfigFor', 'modelGenerationDefaults', 'GENERATION_DEFAULTS', 'promptRoom', 'SAMPLE_LIMITS', 'FunctionLM', 'rowRng', 'checkModelLogits']) {
      expect(names, n).toContain(n);
    }
  });
});

describe('constrained generation with a TransformerLM', () => {
  it('100 seeds of JSON-schema-constrained sampling from a random model all parse and satisfy the schema', () => {
    const tok = new Tokenizer({ name: 'byte', pattern: GPT2_PATTERN, ranks: new Map(Array.from({ length: 256 }, (_, b) => [bytesToBinary(Uint8Array.of(b)), b])), specialTokens: new Map([['<|endoftext|>', 256]]) });
    const model = testLM({ family: 'gpt2', vocabSize: 257, nLayer: 1, nHead: 2, nEmbd: 32, blockSize: 256, eosTokenId: 256, initStd: 0.2 });
    const schema = {
      type: 'object',
      properties: {
        name: { type: 'string', maxLength: 6 },
        age: { type: 'integer' },
        ok: { type: 'boolean' },
        tags: { type: 'array', items: { enum: ['a', 'b'] }, maxItems: 3 },
      },
      required: ['name', 'age', 'ok'],
    };
    const constraint = api.jsonSchemaConstraint(schema, api.vocabFromTokenizer(tok), { eosIds: [256], maxNumberDigits: 3 });
    for (let seed = 0; seed < 100; seed++) {
      const r = api.generate(model, [[123]], { constraint, seed, temperature: 1, topK: 50, maxNewTokens: 200, tokenizer: tok });
      expect(['eos', 'constraint'], `seed ${seed}: ${r.texts![0]}`).toContain(r.finishReasons[0]);
      const text = r.texts![0]!.replace('<|endoftext|>', '');
      const v = JSON.parse(text) as Record<string, unknown>;
      expect(typeof v.name === 'string' && [...(v.name as string)].length <= 6, text).toBe(true); // JSON Schema counts code points
      expect(Number.isInteger(v.age), text).toBe(true);
      expect(typeof v.ok, text).toBe('boolean');
      if ('tags' in v) expect((v.tags as unknown[]).every((t) => t === 'a' || t === 'b') && (v.tags as unknown[]).length <= 3, text).toBe(true);
      expect(Object.keys(v).every((k) => ['name', 'age', 'ok', 'tags'].includes(k)), text).toBe(true);
    }
    model.dispose();
  });

  it('a regex constraint (ISO dates) holds for every seed', () => {
    const tok = new Tokenizer({ name: 'byte', pattern: GPT2_PATTERN, ranks: new Map(Array.from({ length: 256 }, (_, b) => [bytesToBinary(Uint8Array.of(b)), b])), specialTokens: new Map() });
    const model = testLM({ family: 'llama', vocabSize: 256, nLayer: 1, nHead: 2, nEmbd: 16, intermediateSize: 32, blockSize: 64 });
    const c = api.regexConstraint('(19|20)\\d\\d-(0[1-9]|1[0-2])-(0[1-9]|[12]\\d|3[01])', api.vocabFromTokenizer(tok), { eosIds: [] });
    for (let seed = 0; seed < 30; seed++) {
      const r = api.generate(model, [[65]], { constraint: c, seed, maxNewTokens: 20, tokenizer: tok });
      expect(r.finishReasons[0]).toBe('constraint');
      expect(r.texts![0]).toMatch(/^(19|20)\d\d-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/);
    }
    model.dispose();
  });
});
