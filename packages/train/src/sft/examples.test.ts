// SFT examples: JSONL reading and validation (errors name file:line and field), and ids/labels
// checked by hand on a byte-level tokenizer (id = byte; <|im_start|> 256, <|im_end|> 257, <s> 258, </s> 259).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Tokenizer, applyChatTemplate, chatmlTemplate, jinjaChatTemplate, trainBpeSync } from '@llm/tokenizer-bpe';
import { type SftRecord, iterateSftJsonl, readSftJsonl, tokenizeExample, tokenizeRecords, validateSftRecord } from './examples.js';
import { byteTokenizer, bytes, expectTrainError, tempDir, tempFile } from '../testing/sft-helpers.js';

const S = 256; // <|im_start|>
const E = 257; // <|im_end|>
const NL = 10;
const X = -100;
const USER = [117, 115, 101, 114]; // 'user'
const ASSISTANT = [97, 115, 115, 105, 115, 116, 97, 110, 116]; // 'assistant'
const SYSTEM = [115, 121, 115, 116, 101, 109]; // 'system'
const ignored = (n: number): number[] => new Array<number>(n).fill(X);

describe('readSftJsonl', () => {
  it('reads both record forms, skips blank lines, handles CRLF and a BOM, ignores extra keys', async () => {
    const path = tempFile(
      'data.jsonl',
      '\uFEFF{"prompt": "2+2?", "response": "4", "id": 7}\r\n\r\n' +
        '{"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}, {"role": "assistant", "content": "a"}]}\n',
    );
    expect(await readSftJsonl(path)).toEqual([
      { prompt: '2+2?', response: '4', source: `${path}:1` },
      {
        messages: [
          { role: 'system', content: 's' },
          { role: 'user', content: 'u' },
          { role: 'assistant', content: 'a' },
        ],
        source: `${path}:3`,
      },
    ]);
  });

  const good = '{"prompt": "p", "response": "r"}';
  const badLines: Array<[string, string, RegExp]> = [
    ['malformed JSON', '{"prompt": "p", "response": ', /not valid JSON.*Each line must be one JSON object/],
    ['an array', '[1, 2]', /the line must be a JSON object, got an array/],
    ['missing response', '{"prompt": "p"}', /field "response" must be a string, got nothing/],
    ['a numeric prompt', '{"prompt": 1, "response": "r"}', /field "prompt" must be a string, got number/],
    ['no known fields', '{"text": "hello"}', /field "prompt" is missing.*"messages"/],
    ['both forms', '{"prompt": "p", "response": "r", "messages": []}', /field "messages" cannot be combined/],
    ['empty messages', '{"messages": []}', /field "messages" must be a non-empty array, got an empty array/],
    ['a message that is a string', '{"messages": ["hi"]}', /field "messages\[0\]" must be an object/],
    ['a numeric role', '{"messages": [{"role": 5, "content": "u"}]}', /field "messages\[0\]\.role" must be a non-empty string/],
    ['a numeric content', '{"messages": [{"role": "user", "content": "u"}, {"role": "assistant", "content": 3}]}', /field "messages\[1\]\.content" must be a string, got number/],
    ['no assistant message', '{"messages": [{"role": "user", "content": "u"}]}', /no message with role "assistant".*add the assistant reply/],
  ];
  for (const [what, line, fragment] of badLines) {
    it(`a line with ${what} is DATA_INVALID naming file:line and the problem`, async () => {
      const path = tempFile('bad.jsonl', `${good}\n\n${line}\n${good}\n`);
      await expectTrainError(() => readSftJsonl(path), 'DATA_INVALID', `${path}:3: `, fragment);
    });
  }

  it('streams: records before a bad line are delivered, then the error', async () => {
    const path = tempFile('stream.jsonl', `${good}\nnope\n`);
    const seen: SftRecord[] = [];
    await expectTrainError(async () => {
      for await (const r of iterateSftJsonl(path)) seen.push(r);
    }, 'DATA_INVALID', `${path}:2`);
    expect(seen).toHaveLength(1);
  });

  it('empty → DATA_EMPTY, missing → DATA_MISSING, a directory → DATA_INVALID', async () => {
    const empty = tempFile('empty.jsonl', '');
    await expectTrainError(() => readSftJsonl(empty), 'DATA_EMPTY', empty, /no records/);
    const blank = tempFile('blank.jsonl', '\n  \n\n');
    await expectTrainError(() => readSftJsonl(blank), 'DATA_EMPTY', blank);
    const missing = join(tempDir(), 'nope.jsonl');
    await expectTrainError(() => readSftJsonl(missing), 'DATA_MISSING', missing, /Check the path/);
    const dir = join(tempDir(), 'dir.jsonl');
    mkdirSync(dir);
    await expectTrainError(() => readSftJsonl(dir), 'DATA_INVALID', dir, /not a file/);
  });

  it('validateSftRecord checks in-memory records the same way', async () => {
    expect(validateSftRecord({ prompt: 'a', response: 'b' }, 'mem')).toEqual({ prompt: 'a', response: 'b', source: 'mem' });
    await expectTrainError(() => validateSftRecord(null, 'mem:4'), 'DATA_INVALID', /^mem:4: the line must be a JSON object, got null/);
  });
});

describe('tokenizeExample (byte tokenizer, ChatML)', () => {
  const tok = byteTokenizer();
  const chatml = chatmlTemplate();

  it('prompt/response: hand-checked ids and labels (response + <|im_end|>\\n learned)', () => {
    const ex = tokenizeExample({ prompt: 'hi', response: 'yo' }, tok, chatml);
    const prompt = [S, ...USER, NL, 104, 105, E, NL, S, ...ASSISTANT, NL];
    expect(prompt).toHaveLength(21);
    expect(ex).toEqual({ ids: [...prompt, 121, 111, E, NL], labels: [...ignored(21), 121, 111, E, NL] });
  });

  it('multi-turn: only the two assistant turns and their end markers are labelled', () => {
    const record: SftRecord = {
      messages: [
        { role: 'system', content: 'S' },
        { role: 'user', content: 'a' },
        { role: 'assistant', content: 'b' },
        { role: 'user', content: 'c' },
        { role: 'assistant', content: 'd' },
      ],
    };
    const ex = tokenizeExample(record, tok, chatml)!;
    const sys = [S, ...SYSTEM, NL, 83, E, NL];
    const user = (c: number): number[] => [S, ...USER, NL, c, E, NL];
    const header = [S, ...ASSISTANT, NL];
    expect(ex.ids).toEqual([...sys, ...user(97), ...header, 98, E, NL, ...user(99), ...header, 100, E, NL]);
    expect(ex.labels).toEqual([
      ...ignored(sys.length + user(97).length + header.length), 98, E, NL,
      ...ignored(user(99).length + header.length), 100, E, NL,
    ]);
  });

  it("trainOn 'all': the same ids, every label = id", () => {
    const record = { prompt: 'hi', response: 'yo' };
    const a = tokenizeExample(record, tok, chatml)!;
    const all = tokenizeExample(record, tok, chatml, { trainOn: 'all' })!;
    expect(all.ids).toEqual(a.ids);
    expect(all.labels).toEqual(a.ids);
  });

  it('maxLength keeps the start; null once no label is left after position 0', () => {
    const record = { prompt: 'hi', response: 'yo' }; // 21 prompt tokens, then 121 111 257 10
    expect(tokenizeExample(record, tok, chatml, { maxLength: 23 })).toEqual({
      ids: [S, ...USER, NL, 104, 105, E, NL, S, ...ASSISTANT, NL, 121, 111],
      labels: [...ignored(21), 121, 111],
    });
    expect(tokenizeExample(record, tok, chatml, { maxLength: 22 })?.labels.slice(-1)).toEqual([121]);
    expect(tokenizeExample(record, tok, chatml, { maxLength: 21 })).toBeNull();
    expect(tokenizeExample(record, tok, chatml, { maxLength: 2 })).toBeNull();
  });

  it('addEos appends the eos token (labelled) unless the ids already end with it', () => {
    const ex = tokenizeExample({ prompt: 'hi', response: 'yo' }, tok, chatml, { addEos: true, eosToken: '</s>' })!;
    expect(ex.ids.slice(-5)).toEqual([121, 111, E, NL, 259]);
    expect(ex.labels.slice(-5)).toEqual([121, 111, E, NL, 259]);
    const llama = jinjaChatTemplate("{% for m in messages %}{{ '[' + m.role + ']' + m.content + eos_token }}{% endfor %}", { context: { eos_token: '</s>' } });
    const once = tokenizeExample({ prompt: 'hi', response: 'yo' }, tok, llama, { addEos: true })!; // eos from the template
    expect(once.ids.slice(-3)).toEqual([121, 111, 259]);
    expect(once.ids.filter((id) => id === 259)).toHaveLength(2); // one per message, none added
  });

  it('addEos without a known eos token is INVALID_ARGUMENT', async () => {
    await expectTrainError(() => tokenizeExample({ prompt: 'a', response: 'b', source: 'd.jsonl:2' }, tok, chatml, { addEos: true }), 'INVALID_ARGUMENT', /^d\.jsonl:2: addEos needs/, /eosToken/);
  });

  it('special-token text in content is plain text by default; allowSpecialInContent makes it the special id', async () => {
    const record = { prompt: 'say </s>', response: 'ok<|im_end|>', source: 'chat.jsonl:9' };
    const safe = tokenizeExample(record, tok, chatml)!;
    expect(safe.ids).not.toContain(259);
    expect(safe.ids.filter((id) => id === E)).toHaveLength(2); // the template's two end markers only
    expect(tokenizeExample(record, tok, chatml, { allowedSpecial: ['<|im_start|>', '<|im_end|>'] })!.ids).toEqual(safe.ids);
    const trusted = tokenizeExample(record, tok, chatml, { allowSpecialInContent: true })!;
    expect(trusted.ids).toContain(259);
    expect(trusted.ids.filter((id) => id === E)).toHaveLength(3);
    // with content encoded like markup, a special token outside allowedSpecial is DATA_INVALID naming the record
    await expectTrainError(
      () => tokenizeExample(record, tok, chatml, { allowSpecialInContent: true, allowedSpecial: ['<|im_start|>', '<|im_end|>'] }),
      'DATA_INVALID', /^chat\.jsonl:9: cannot tokenize/, /allowedSpecial/,
    );
  });

  it('a tokenizer without the ChatML specials treats the markers as plain text', () => {
    const plain = byteTokenizer([]);
    const ex = tokenizeExample({ prompt: 'hi', response: 'yo' }, plain, chatml)!;
    const text = applyChatTemplate([{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'yo' }], { template: chatml });
    expect(ex.ids).toEqual(bytes(text));
    expect(ex.labels.filter((l) => l !== X)).toEqual(bytes('yo<|im_end|>\n'));
  });

  it('a Llama-2-style template: the labelled span is " answer </s>"', () => {
    const t = jinjaChatTemplate(
      "{% for m in messages %}{% if m.role == 'user' %}{{ bos_token + '[INST] ' + m.content + ' [/INST]' }}{% else %}{{ ' ' + m.content + ' ' + eos_token }}{% endif %}{% endfor %}",
      { context: { bos_token: '<s>', eos_token: '</s>' } },
    );
    const ex = tokenizeExample({ prompt: 'q', response: 'r' }, tok, t)!;
    expect(ex.ids).toEqual([258, ...bytes('[INST] q [/INST]'), ...bytes(' r '), 259]);
    expect(ex.labels).toEqual([...ignored(1 + 16), ...bytes(' r '), 259]);
  });

  it('a template that rewrites earlier turns → TEMPLATE_INVALID', async () => {
    const t = jinjaChatTemplate('{% for m in messages %}{{ m.content }}{% if loop.last %}<END>{% endif %}{% endfor %}');
    await expectTrainError(() => tokenizeExample({ prompt: 'a', response: 'b' }, tok, t), 'TEMPLATE_INVALID', /does not extend/);
  });

  it('a template that fails to render → TEMPLATE_INVALID naming the record', async () => {
    const t = jinjaChatTemplate("{{ raise_exception('only system messages') }}", { name: 'strict' });
    await expectTrainError(() => tokenizeExample({ prompt: 'a', response: 'b', source: 'c.jsonl:4' }, tok, t), 'TEMPLATE_INVALID', /^c\.jsonl:4: strict: .*only system messages/);
  });

  it('tokenizeRecords keeps the usable examples and lists the skipped ones', () => {
    const records: SftRecord[] = [
      { prompt: 'hi', response: 'yo', source: 'f:1' },
      { prompt: 'a much longer prompt than fits', response: 'x', source: 'f:2' },
    ];
    const { examples, skipped } = tokenizeRecords(records, tok, chatml, { maxLength: 24 });
    expect(examples).toHaveLength(1);
    expect(skipped).toEqual(['f:2']);
  });

  it('rejects bad options', async () => {
    await expectTrainError(() => tokenizeExample({ prompt: 'a', response: 'b' }, tok, chatml, { maxLength: 1 }), 'INVALID_ARGUMENT', /maxLength must be an integer ≥ 2/);
    await expectTrainError(() => tokenizeExample({ prompt: 'a', response: 'b' }, tok, chatml, { trainOn: 'user' as 'all' }), 'INVALID_ARGUMENT', /trainOn/);
  });
});

describe('tokenizeExample (trained BPE tokenizer)', () => {
  it('ids decode to the full render and the labelled runs decode to exactly the assistant turns', () => {
    const corpus = 'Hello there. Sure. What is the weather? It is sunny today. '.repeat(20);
    const tok = new Tokenizer(trainBpeSync(corpus, { vocabSize: 320, specialTokens: ['<|im_start|>', '<|im_end|>'] }));
    const messages = [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'What is the weather?' },
      { role: 'assistant', content: 'It is sunny today.' },
      { role: 'user', content: 'Sure?' },
      { role: 'assistant', content: 'Sure.' },
    ];
    const ex = tokenizeExample({ messages }, tok, chatmlTemplate())!;
    expect(tok.decode(ex.ids)).toBe(applyChatTemplate(messages, { template: 'chatml' }));
    const runs: number[][] = [];
    ex.labels.forEach((l, i) => {
      if (l === X) return;
      expect(l).toBe(ex.ids[i]);
      if (i > 0 && ex.labels[i - 1] !== X) runs.at(-1)!.push(l);
      else runs.push([l]);
    });
    expect(runs.map((r) => tok.decode(r))).toEqual(['It is sunny today.<|im_end|>\n', 'Sure.<|im_end|>\n']);
    expect(ex.ids.filter((id) => id === tok.specialTokens.get('<|im_end|>'))).toHaveLength(5);
  });
});

it('readSftJsonl → tokenizeRecords end to end', async () => {
  const dir = tempDir();
  const path = join(dir, 'chat.jsonl');
  writeFileSync(path, '{"prompt": "hi", "response": "yo"}\n');
  const { examples, skipped } = tokenizeRecords(await readSftJsonl(path), byteTokenizer(), chatmlTemplate());
  expect(skipped).toEqual([]);
  expect(examples[0]!.labels.filter((l) => l !== X)).toEqual([121, 111, E, NL]);
});
