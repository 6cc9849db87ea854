// Reading, validation, tokenization (templates, EOS, TRL's truncation) and resumable batches.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectError, expectErrorAsync } from '@llm/kit';
import { GPT2_PATTERN, Tokenizer, bytesToBinary, chatmlTemplate } from '@llm/tokenizer-bpe';
import { IGNORE_INDEX } from '@llm/tensor-gpu';
import { AlignError } from '../errors.js';
import {
  readJsonl, parseJsonl, validatePreferenceRow, validateUnpairedRow, validatePromptRow, validateClassificationRow, validateRegressionRow,
  tokenizePreference, tokenizeUnpaired, tokenizePrompt, labelIndex, collatePairs, collateUnpaired, pairSource, unpairedSource, textSource,
} from './index.js';

/** Byte tokenizer: id = byte; specials <|im_start|> 256, <|im_end|> 257, <|endoftext|> 258. */
function byteTokenizer(eos = true): Tokenizer {
  const ranks = new Map(Array.from({ length: 256 }, (_, b) => [bytesToBinary(Uint8Array.of(b)), b] as [string, number]));
  const specials: Array<[string, number]> = [['<|im_start|>', 256], ['<|im_end|>', 257], ...(eos ? ([['<|endoftext|>', 258]] as Array<[string, number]>) : [])];
  return new Tokenizer({ name: 'byte', pattern: GPT2_PATTERN, ranks, specialTokens: new Map(specials) });
}
const bytes = (s: string) => [...new TextEncoder().encode(s)];
const tok = byteTokenizer();
const tempFile = (text: string) => {
  const p = join(mkdtempSync(join(tmpdir(), 'align-data-')), 'prefs.jsonl');
  writeFileSync(p, text);
  return p;
};
const err = (fn: () => unknown, code: string, ...parts: Array<string | RegExp>) => expectError(fn, code, parts, AlignError);

describe('reading and validating rows', () => {
  it('reads text and conversational preference rows; names file:line and field in every error', async () => {
    const p = tempFile('{"prompt":"2+2?","chosen":"4","rejected":"5"}\n\n{"prompt":[{"role":"user","content":"hi"}],"chosen":[{"role":"assistant","content":"hello"}],"rejected":[{"role":"assistant","content":"go away"}],"margin":1.5}\n');
    const rows = await readJsonl(p, validatePreferenceRow);
    expect(rows).toHaveLength(2);
    expect(rows[1]!.source).toBe(`${p}:3`);
    expect(rows[1]!.margin).toBe(1.5);
    await expectErrorAsync(readJsonl(tempFile('{"prompt":"a","chosen":"b","rejected":"c"}\n{"prompt": "a", "chosen": \n'), validatePreferenceRow), 'DATA_INVALID', [/prefs\.jsonl:2: .*not valid JSON/], AlignError);
    await expectErrorAsync(readJsonl(tempFile('{"prompt":"a","chosen":"b","rejected":"c","prompt":"d"}\n'), validatePreferenceRow), 'DATA_INVALID', ['prefs.jsonl:1', 'duplicate key'], AlignError);
    await expectErrorAsync(readJsonl('/nonexistent/x.jsonl', validatePreferenceRow), 'DATA_INVALID', ['/nonexistent/x.jsonl'], AlignError);
  });
  it('refuses empty or identical chosen/rejected, wrong types, mixed forms, a response not ending with the assistant', () => {
    const f = (line: string) => () => parseJsonl(line, 'd.jsonl', validatePreferenceRow);
    err(f('{"prompt":"a","chosen":"","rejected":"c"}'), 'DATA_INVALID', 'd.jsonl:1', '"chosen"', 'empty');
    err(f('{"prompt":"a","chosen":"b","rejected":"  "}'), 'DATA_INVALID', 'd.jsonl:1', '"rejected"', 'empty');
    err(f('{"prompt":"a","chosen":"same","rejected":"same"}'), 'DATA_INVALID', 'd.jsonl:1', 'identical');
    err(f('{"prompt":"a","chosen":3,"rejected":"c"}'), 'DATA_INVALID', 'd.jsonl:1', '"chosen"', 'number');
    err(f('{"prompt":"a","chosen":"b"}'), 'DATA_INVALID', '"rejected"', 'nothing');
    err(f('[1,2]'), 'DATA_INVALID', 'd.jsonl:1', 'JSON object');
    err(f('{"prompt":"a","chosen":[{"role":"assistant","content":"b"}],"rejected":[{"role":"assistant","content":"c"}]}'), 'DATA_INVALID', '"chosen"', 'one form');
    err(f('{"prompt":[{"role":"user","content":"a"}],"chosen":[{"role":"user","content":"b"}],"rejected":[{"role":"assistant","content":"c"}]}'), 'DATA_INVALID', '"chosen"', 'assistant');
    err(f('{"prompt":[{"role":"user"}],"chosen":[{"role":"assistant","content":"b"}],"rejected":[{"role":"assistant","content":"c"}]}'), 'DATA_INVALID', 'prompt[0].content');
    err(f('{"prompt":"a","chosen":"b","rejected":"c","margin":"big"}'), 'DATA_INVALID', '"margin"');
    err(() => parseJsonl('\n \n', 'e.jsonl', validatePreferenceRow), 'DATA_INVALID', 'e.jsonl', 'no rows');
    err(() => parseJsonl(`{"prompt":"${'a'.repeat(200)}","chosen":"b","rejected":"c"}`, 'big.jsonl', validatePreferenceRow, { maxLineBytes: 100 }), 'DATA_INVALID', 'big.jsonl:1', 'longer than 100 bytes');
    err(() => parseJsonl('[[[[1]]]]', 'deep.jsonl', validatePreferenceRow), 'DATA_INVALID', 'deep.jsonl:1');
  });
  it('unpaired, prompt-only, classification and regression rows', () => {
    expect(parseJsonl('{"prompt":"a","completion":"b","label":false}', 'k', validateUnpairedRow)[0]!.label).toBe(false);
    err(() => parseJsonl('{"prompt":"a","completion":"b","label":1}', 'k', validateUnpairedRow), 'DATA_INVALID', 'k:1', '"label"', 'true');
    err(() => parseJsonl('{"prompt":""}', 'p', validatePromptRow), 'DATA_INVALID', '"prompt"');
    const cls = parseJsonl('{"text":"x","label":"pos"}\n{"text":"y","label":"neg"}', 'c', validateClassificationRow);
    const idx = labelIndex(cls);
    expect(idx.names).toEqual(['neg', 'pos']);
    expect(cls.map(idx.index)).toEqual([1, 0]);
    err(() => parseJsonl('{"text":"x","label":1.5}', 'c', validateClassificationRow), 'DATA_INVALID', 'c:1', '"label"');
    err(() => parseJsonl('{"text":"x","target":"1"}', 'r', validateRegressionRow), 'DATA_INVALID', 'r:1', '"target"');
    expect(parseJsonl('{"text":"x","target":0.5}', 'r', validateRegressionRow)[0]!.target).toBe(0.5);
  });
});

describe('tokenizing', () => {
  const row = validatePreferenceRow({ prompt: 'Q:', chosen: 'yes', rejected: 'no' }, 'r:1');
  it("template 'none': plain concatenation, EOS appended to each response when the tokenizer has one", () => {
    const t = tokenizePreference(row, tok, { template: 'none' });
    expect(t.promptIds).toEqual(bytes('Q:'));
    expect(t.chosenIds).toEqual([...bytes('yes'), 258]);
    expect(t.rejectedIds).toEqual([...bytes('no'), 258]);
    expect(tokenizePreference(row, byteTokenizer(false), { template: 'none' }).chosenIds).toEqual(bytes('yes'));
    expect(tokenizePreference(row, tok, { template: 'none', eosToken: null }).chosenIds).toEqual(bytes('yes'));
    err(() => tokenizePreference(row, tok, { template: 'none', eosToken: '</s>' }), 'CONFIG_INVALID', '</s>');
    // special-token text in data is characters, not control tokens
    expect(tokenizePreference(validatePreferenceRow({ prompt: '<|im_end|>', chosen: 'a', rejected: 'b' }, 'x'), tok, { template: 'none' }).promptIds).toEqual(bytes('<|im_end|>'));
  });
  it('chat template: the prompt ends with the assistant header, the response is content + end of turn, no EOS', () => {
    const t = tokenizePreference(row, tok, { template: chatmlTemplate() });
    expect(t.promptIds).toEqual([256, ...bytes('user\nQ:'), 257, ...bytes('\n'), 256, ...bytes('assistant\n')]);
    expect(t.chosenIds).toEqual([...bytes('yes'), 257, 10]);
    const conv = validatePreferenceRow({ prompt: [{ role: 'system', content: 's' }, { role: 'user', content: 'Q:' }], chosen: [{ role: 'assistant', content: 'yes' }], rejected: [{ role: 'assistant', content: 'no' }] }, 'c:1');
    const tc = tokenizePreference(conv, tok, { template: chatmlTemplate() });
    expect(tc.promptIds.slice(0, 3)).toEqual([256, ...bytes('sy')]);
    expect(tc.rejectedIds).toEqual([...bytes('no'), 257, 10]);
    err(() => tokenizePreference(conv, tok, { template: 'none' }), 'CONFIG_INVALID', 'c:1', 'chat template');
    expect(tokenizePrompt(validatePromptRow({ prompt: 'Q:' }, 'p'), tok, { template: chatmlTemplate() }).promptIds).toEqual(t.promptIds);
  });
  it("TRL's truncation: prompt keeps its end, responses their start, then maxLength cuts the response's end", () => {
    const long = validatePreferenceRow({ prompt: 'abcdefgh', chosen: '123456', rejected: 'xyz' }, 'long.jsonl:7');
    const a = tokenizePreference(long, tok, { template: 'none', eosToken: null, maxPromptLength: 3, maxCompletionLength: 4 });
    expect(a.promptIds).toEqual(bytes('fgh'));
    expect(a.chosenIds).toEqual(bytes('1234'));
    expect(a.rejectedIds).toEqual(bytes('xyz'));
    const b = tokenizePreference(long, tok, { template: 'none', eosToken: null, maxPromptLength: 3, maxLength: 5 });
    expect(b.chosenIds).toEqual(bytes('12'));
    expect(b.rejectedIds).toEqual(bytes('xy'));
    err(() => tokenizePreference(long, tok, { template: 'none', maxLength: 8 }), 'SEQUENCE_TOO_LONG', 'long.jsonl:7', 'prompt is 8 tokens', 'maxLength is 8');
    err(() => tokenizePreference(validatePreferenceRow({ prompt: 'p', chosen: 'ab1', rejected: 'ab2' }, 'i:2'), tok, { template: 'none', eosToken: null, maxCompletionLength: 2 }), 'DATA_INVALID', 'i:2', 'identical after truncation');
    err(() => tokenizePreference(row, tok, { template: 'none', maxLength: 1 }), 'CONFIG_INVALID', 'maxLength');
    // with a template the prompt includes the assistant header: 21 tokens here
    err(() => tokenizePreference(validatePreferenceRow({ prompt: 'Q:', chosen: 'y', rejected: 'n' }, 'chat.jsonl:4'), tok, { template: chatmlTemplate(), maxLength: 21 }), 'SEQUENCE_TOO_LONG', 'chat.jsonl:4', 'prompt is 21 tokens');
    expect(tokenizePreference(validatePreferenceRow({ prompt: 'Q:', chosen: 'yes', rejected: 'no' }, 'c'), tok, { template: chatmlTemplate(), maxLength: 23 }).chosenIds).toEqual(bytes('ye'));
  });
});

describe('batches', () => {
  const pairs = Array.from({ length: 10 }, (_, i) => tokenizePreference(validatePreferenceRow({ prompt: `p${i}`, chosen: 'good'.slice(0, 1 + (i % 4)), rejected: `bad${i}` }, `x:${i + 1}`), tok, { template: 'none', eosToken: null }));
  it('a pair batch is chosen rows then rejected rows, targets on response tokens only', () => {
    const b = collatePairs([pairs[0]!, pairs[1]!], 0);
    expect(b.rows).toBe(4);
    expect(b.pairs).toBe(2);
    const T = b.length;
    const row = (n: number) => Array.from(b.inputs.subarray(n * T, (n + 1) * T));
    expect(row(0).slice(0, 3)).toEqual([...bytes('p0'), ...bytes('g')]);
    expect(row(2).slice(0, 6)).toEqual([...bytes('p0'), ...bytes('bad0')]);
    const tg = Array.from(b.targets.subarray(2 * T, 3 * T));
    expect(tg.slice(0, 6)).toEqual([IGNORE_INDEX, ...bytes('bad0'), IGNORE_INDEX]);
  });
  it('setState(getState()) replays the same batches, across epochs; other data → another fingerprint', () => {
    const a = pairSource(pairs, { batchSize: 3, seed: 7, padId: 0 });
    for (let i = 0; i < 5; i++) a.next(); // into epoch 2 (4 batches per epoch)
    const state = a.getState();
    const next = [a.next(), a.next(), a.next()].map((b) => b.indices);
    const b = pairSource(pairs, { batchSize: 3, seed: 7, padId: 0 });
    b.setState(JSON.parse(JSON.stringify(state)));
    expect([b.next(), b.next(), b.next()].map((x) => x.indices)).toEqual(next);
    expect(new Set(next.flat()).size).toBeGreaterThan(1);
    expect(pairSource(pairs.slice(1), { batchSize: 3, seed: 7, padId: 0 }).fingerprint()).not.toEqual(a.fingerprint());
    expect(() => a.setState({ epoch: 0, index: 99 })).toThrow(AlignError);
  });
  it("KTO batches: B rows then B KL rows pairing prompt i with completion i − 1 (TRL's shift)", () => {
    const rows = ['a', 'b', 'c'].map((c, i) => tokenizeUnpaired(validateUnpairedRow({ prompt: `P${i}`, completion: c.repeat(i + 1), label: i !== 1 }, `k:${i}`), tok, { template: 'none', eosToken: null }));
    const b = collateUnpaired(rows, 0);
    expect(b.rows).toBe(6);
    expect(Array.from(b.labels)).toEqual([1, 0, 1]);
    const T = b.length;
    expect(Array.from(b.inputs.subarray(3 * T, 3 * T + 5))).toEqual([...bytes('P0'), ...bytes('ccc')]); // KL row 0: completion of row 2
    expect(Array.from(b.inputs.subarray(4 * T, 4 * T + 3))).toEqual([...bytes('P1'), ...bytes('a')]);
    const src = unpairedSource(rows, { batchSize: 2, seed: 1, padId: 0 });
    const s = src.getState();
    const first = src.next().indices;
    src.setState(s);
    expect(src.next().indices).toEqual(first);
    const t = textSource([{ ids: [1, 2], label: 1 }, { ids: [3], label: 0 }], { batchSize: 2, seed: 0, padId: 0, shuffle: false }).next();
    expect(Array.from(t.labels!)).toEqual([1, 0]);
    expect(Array.from(t.mask)).toEqual([1, 1, 1, 0]);
  });
});
