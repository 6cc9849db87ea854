// Tool-call text handling and request checks as pure functions: parsing calls out of text (auto)
// and whole-text calls (forced), the call schema of tool_choice, schema reduction to the
// constrainable subset (checked by compiling it with @llm/sample), and field errors naming `param`.
import { describe, expect, it } from 'vitest';
import { schemaToRegex } from '@llm/sample';
import { callSchema, callsAsText, constrainableSchema, parseToolCalls, type FunctionTool } from './tools.js';
import { parseChatRequest, parseCompletionRequest, parseEmbeddingRequest } from './validate.js';

const tools: FunctionTool[] = [
  { type: 'function', function: { name: 'calculator', parameters: { type: 'object', properties: { expression: { type: 'string', pattern: '^[0-9+*/ -]+$' }, precision: { type: 'integer', minimum: 0 } }, required: ['expression'] } } },
  { type: 'function', function: { name: 'get_time' } },
];

describe('tool calls', () => {
  it('parses <tool_call> blocks (auto) and a whole-text call (forced); anything else is not a call', () => {
    const text = 'Sure. <tool_call>{"name": "calculator", "arguments": {"expression": "2+2"}}</tool_call>\n<tool_call>{"name":"get_time"}</tool_call>';
    expect(parseToolCalls(text, false)).toEqual([{ name: 'calculator', arguments: { expression: '2+2' } }, { name: 'get_time', arguments: {} }]);
    expect(parseToolCalls('{"name":"get_time","arguments":{}}', true)).toEqual([{ name: 'get_time', arguments: {} }]);
    expect(parseToolCalls('<tool_call>{"name": 3}</tool_call> <tool_call>{oops</tool_call>', false)).toEqual([]);
    expect(parseToolCalls('no call here', true)).toEqual([]);
  });

  it('a call goes back into the prompt in the same text form it is parsed from', () => {
    const back = callsAsText([{ function: { name: 'calculator', arguments: '{"expression":"1+1"}' } }]);
    expect(parseToolCalls(back, false)).toEqual([{ name: 'calculator', arguments: { expression: '1+1' } }]);
  });

  it('the call schema names the chosen function(s); unsupported keywords are dropped and strings bounded', () => {
    const one = callSchema(tools, { type: 'function', function: { name: 'calculator' } });
    expect(one).toMatchObject({ properties: { name: { const: 'calculator' } }, required: ['name', 'arguments'] });
    const args = (one.properties as Record<string, Record<string, unknown>>).arguments!;
    expect(args).toEqual({ type: 'object', properties: { expression: { type: 'string', maxLength: 64 }, precision: { type: 'integer' } }, required: ['expression'] });
    const any = callSchema(tools, 'required');
    expect((any.anyOf as unknown[]).length).toBe(2);
    const re = new RegExp(`^${schemaToRegex(any)}$`, 'u'); // compiles under @llm/sample's subset
    expect(re.test('{"name":"get_time","arguments":{}}')).toBe(true);
    expect(re.test('{"name":"calculator","arguments":{"expression":"1+2"}}')).toBe(true);
    expect(re.test('{"name":"rm_rf","arguments":{}}')).toBe(false);
    expect(constrainableSchema({ type: 'array', items: { type: 'string', format: 'email' } })).toEqual({ type: 'array', items: { type: 'string', maxLength: 64 }, maxItems: 8 });
  });
});

describe('request checks', () => {
  const msgs = [{ role: 'user', content: 'hi' }];
  it('reads the fields with their defaults; text parts are joined; developer is accepted', () => {
    const r = parseChatRequest({ model: 'm', messages: [{ role: 'developer', content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }] }, ...msgs], max_completion_tokens: 5, stop: 'x', top_p: 0 });
    expect(r).toMatchObject({ n: 1, stream: false, max_tokens: 5, stop: ['x'], tool_choice: 'none', response_format: { type: 'text' } });
    expect(r.messages[0]!.content).toBe('ab');
    expect(r.top_p).toBeGreaterThan(0);
    expect(parseChatRequest({ model: 'm', messages: msgs, tools }).tool_choice).toBe('auto');
  });

  it('each bad field is an INVALID_REQUEST naming it', () => {
    const bad: [Record<string, unknown>, string][] = [
      [{ messages: msgs }, 'model'],
      [{ model: 'm', messages: [] }, 'messages'],
      [{ model: 'm', messages: [{ role: 'user', content: 5 }] }, 'messages[0].content'],
      [{ model: 'm', messages: msgs, max_tokens: 0 }, 'max_tokens'],
      [{ model: 'm', messages: msgs, temperature: 3 }, 'temperature'],
      [{ model: 'm', messages: msgs, stop: ['a', 'b', 'c', 'd', 'e'] }, 'stop'],
      [{ model: 'm', messages: msgs, logit_bias: { x: 1 } }, 'logit_bias'],
      [{ model: 'm', messages: msgs, top_logprobs: 2 }, 'top_logprobs'],
      [{ model: 'm', messages: msgs, response_format: { type: 'xml' } }, 'response_format.type'],
      [{ model: 'm', messages: msgs, tools: [{ type: 'function', function: { name: 'bad name!' } }] }, 'tools[0]'],
      [{ model: 'm', messages: msgs, tools, tool_choice: { type: 'function', function: { name: 'nope' } } }, 'tool_choice'],
      [{ model: 'm', messages: msgs, tool_choice: 'required' }, 'tool_choice'],
      [{ model: 'm', messages: msgs, stream_options: 1 }, 'stream_options'],
    ];
    for (const [body, param] of bad) expect(() => parseChatRequest(body), JSON.stringify(body)).toThrow(expect.objectContaining({ code: 'INVALID_REQUEST', param, status: 400 }));
    expect(() => parseCompletionRequest({ model: 'm', prompt: 'x', echo: true })).toThrow(expect.objectContaining({ param: 'echo' }));
    expect(() => parseEmbeddingRequest({ model: 'm', input: 'x', encoding_format: 'hex' })).toThrow(expect.objectContaining({ param: 'encoding_format' }));
    expect(parseEmbeddingRequest({ model: 'm', input: [1, 2, 3] }).input).toEqual([[1, 2, 3]]);
  });
});
