// The server through the official `openai` client (unmodified) and raw HTTP on 127.0.0.1:0:
// models, chat completions streamed and not, n > 1, json_schema, a tool-call round trip,
// embeddings against the model's own hidden states, OpenAI error objects with the right statuses
// (and the server still serving after each), 50 concurrent streams framed with [DONE], and no
// KV-block or tensor leak over a few hundred requests, cancelled ones included.
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@llm/tensor-gpu';
import { generate } from '@llm/sample';
import { chatmlTemplate, encodeChat } from '@llm/tokenizer-bpe';
import { startTinyServer, tinyTokenizer, type TinyServer } from '../test-fixtures.js';

let t: TinyServer;
let client: OpenAI;

beforeAll(async () => {
  t = await startTinyServer({ scheduler: { maxBatch: 8, maxQueue: 256 } });
  client = new OpenAI({ baseURL: `${t.url}/v1`, apiKey: 'unused', maxRetries: 0 });
});
afterAll(() => t.close());

const post = (path: string, body: string, headers: Record<string, string> = {}) =>
  fetch(`${t.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

/** The SSE events of a raw streamed response; checks the framing on the way. */
async function sseEvents(res: Response): Promise<{ events: any[]; raw: string }> {
  const raw = await res.text();
  expect(raw.endsWith('data: [DONE]\n\n')).toBe(true);
  const parts = raw.split('\n\n').filter(Boolean);
  expect(parts.every((p) => p.startsWith('data: '))).toBe(true);
  expect(parts.filter((p) => p === 'data: [DONE]')).toHaveLength(1);
  return { events: parts.slice(0, -1).map((p) => JSON.parse(p.slice(6))), raw };
}

describe('the OpenAI client against llm-chat serve', () => {
  it('lists the model; /health and the chat page answer', async () => {
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual(['tiny']);
    expect((await client.models.retrieve('tiny')).id).toBe('tiny');
    const health = await (await fetch(`${t.url}/health`)).json();
    expect(health).toMatchObject({ status: 'ok', model: 'tiny', blocksInUse: expect.any(Number) });
    const page = await fetch(`${t.url}/`);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    const html = await page.text();
    const script = /<script>([\s\S]*)<\/script>/.exec(html)![1]!;
    expect(() => new Function(script)).not.toThrow(); // the page's JS parses
    for (const part of ['id="stop"', 'id="new"', 'id="system"', 'id="temperature"', 'id="top_p"', 'id="max_tokens"', '/v1/chat/completions', 'tool_calls', 'citations']) expect(html).toContain(part);
  });

  it('a chat completion, streamed and not, gives the same greedy text; usage adds up', async () => {
    const messages = [{ role: 'system' as const, content: 'Be brief.' }, { role: 'user' as const, content: 'Hello!' }];
    const whole = await client.chat.completions.create({ model: 'tiny', messages, max_tokens: 12, temperature: 0 });
    expect(whole.object).toBe('chat.completion');
    const choice = whole.choices[0]!;
    expect(choice.message.role).toBe('assistant');
    expect(typeof choice.message.content).toBe('string');
    expect(['stop', 'length']).toContain(choice.finish_reason);
    expect(whole.usage!.total_tokens).toBe(whole.usage!.prompt_tokens + whole.usage!.completion_tokens);
    expect(whole.usage!.completion_tokens).toBeLessThanOrEqual(12);

    const stream = await client.chat.completions.create({ model: 'tiny', messages, max_tokens: 12, temperature: 0, stream: true, stream_options: { include_usage: true } });
    let text = '';
    let finish: string | null = null;
    let usage: unknown = null;
    for await (const chunk of stream) {
      expect(chunk.object).toBe('chat.completion.chunk');
      for (const c of chunk.choices) {
        text += c.delta.content ?? '';
        finish ??= c.finish_reason;
      }
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe(choice.message.content);
    expect(finish).toBe(choice.finish_reason);
    expect(usage).toMatchObject({ prompt_tokens: whole.usage!.prompt_tokens, completion_tokens: whole.usage!.completion_tokens });
  });

  it('n > 1 gives n choices, reproducible for a seed; logprobs come back', async () => {
    const ask = () => client.chat.completions.create({ model: 'tiny', messages: [{ role: 'user', content: 'Pick a word' }], max_tokens: 8, n: 3, seed: 42, temperature: 1, logprobs: true, top_logprobs: 2 });
    const a = await ask();
    expect(a.choices.map((c) => c.index)).toEqual([0, 1, 2]);
    const b = await ask();
    expect(b.choices.map((c) => c.message.content)).toEqual(a.choices.map((c) => c.message.content));
    const lp = a.choices[0]!.logprobs!.content!;
    expect(lp.length).toBeGreaterThan(0);
    for (const e of lp) {
      expect(e.logprob).toBeLessThanOrEqual(0);
      expect(e.top_logprobs).toHaveLength(2);
      expect(e.top_logprobs[0]!.logprob).toBeGreaterThanOrEqual(e.top_logprobs[1]!.logprob);
    }
  });

  it('response_format json_schema: the output parses and validates', async () => {
    const schema = {
      type: 'object',
      properties: { name: { type: 'string', maxLength: 8 }, age: { type: 'integer' }, member: { type: 'boolean' }, tier: { enum: ['gold', 'silver'] } },
      required: ['name', 'age', 'member', 'tier'],
      additionalProperties: false,
    };
    for (const seed of [1, 2]) {
      const r = await client.chat.completions.create({ model: 'tiny', messages: [{ role: 'user', content: 'A person as JSON' }], max_tokens: 120, seed, response_format: { type: 'json_schema', json_schema: { name: 'person', schema, strict: true } } });
      const v = JSON.parse(r.choices[0]!.message.content!);
      expect(Object.keys(v)).toEqual(['name', 'age', 'member', 'tier']);
      expect(typeof v.name === 'string' && [...v.name].length <= 8).toBe(true); // JSON Schema counts code points
      expect(Number.isInteger(v.age)).toBe(true);
      expect(typeof v.member).toBe('boolean');
      expect(['gold', 'silver']).toContain(v.tier);
    }
    const obj = await client.chat.completions.create({ model: 'tiny', messages: [{ role: 'user', content: 'JSON please' }], max_tokens: 200, seed: 5, response_format: { type: 'json_object' } });
    const o = JSON.parse(obj.choices[0]!.message.content!);
    expect(typeof o === 'object' && o !== null && !Array.isArray(o)).toBe(true);
  });

  it('tool calls: tools → a forced call of the named function with valid arguments → tool result → an answer', async () => {
    const tools = [
      { type: 'function' as const, function: { name: 'get_weather', description: 'Weather in a city', parameters: { type: 'object', properties: { city: { type: 'string', maxLength: 6 }, unit: { enum: ['c', 'f'] } }, required: ['city', 'unit'] } } },
      { type: 'function' as const, function: { name: 'calculator', description: 'Arithmetic', parameters: { type: 'object', properties: { expression: { type: 'string', maxLength: 6 } }, required: ['expression'] } } },
    ];
    const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Weather in Paris?' }];
    const first = await client.chat.completions.create({ model: 'tiny', messages, tools, tool_choice: { type: 'function', function: { name: 'get_weather' } }, max_tokens: 250, seed: 1 });
    const c = first.choices[0]!;
    expect(c.finish_reason).toBe('tool_calls');
    expect(c.message.content).toBeNull();
    const call = c.message.tool_calls![0]! as OpenAI.Chat.ChatCompletionMessageFunctionToolCall;
    expect(call.type).toBe('function');
    expect(call.id).toMatch(/^call_/);
    expect(call.function.name).toBe('get_weather');
    const args = JSON.parse(call.function.arguments);
    expect(typeof args.city).toBe('string');
    expect(['c', 'f']).toContain(args.unit);
    // "required" picks any declared function
    const req = await client.chat.completions.create({ model: 'tiny', messages, tools, tool_choice: 'required', max_tokens: 250, seed: 2 });
    expect(['get_weather', 'calculator']).toContain((req.choices[0]!.message.tool_calls![0] as OpenAI.Chat.ChatCompletionMessageFunctionToolCall).function.name);
    // the call and its result go back in: the prompt grows by them and the model answers in text
    const back: OpenAI.Chat.ChatCompletionMessageParam[] = [...messages, { role: 'assistant', content: null, tool_calls: [call] }, { role: 'tool', tool_call_id: call.id, content: '{"temperature": 21}' }];
    const answer = await client.chat.completions.create({ model: 'tiny', messages: back, tools, tool_choice: 'none', max_tokens: 10, temperature: 0 });
    expect(typeof answer.choices[0]!.message.content).toBe('string');
    expect(answer.choices[0]!.message.tool_calls ?? []).toHaveLength(0);
    const withoutTools = await client.chat.completions.create({ model: 'tiny', messages, max_tokens: 1, temperature: 0 });
    expect(answer.usage!.prompt_tokens).toBeGreaterThan(withoutTools.usage!.prompt_tokens + '{"temperature": 21}'.length + 'get_weather'.length);
    // streamed: the call arrives as a tool_calls delta
    const stream = await client.chat.completions.create({ model: 'tiny', messages, tools, tool_choice: { type: 'function', function: { name: 'calculator' } }, max_tokens: 250, seed: 3, stream: true });
    const deltas: any[] = [];
    let finish: string | null = null;
    for await (const ch of stream) for (const cc of ch.choices) (cc.delta.tool_calls && deltas.push(...cc.delta.tool_calls), (finish ??= cc.finish_reason));
    expect(finish).toBe('tool_calls');
    expect(deltas[0].function.name).toBe('calculator');
    expect(typeof JSON.parse(deltas[0].function.arguments).expression).toBe('string');
  });

  it('sampling fields reach the sampler: logit_bias, stop, top_k, min_p, penalties', async () => {
    const ask = (extra: Record<string, unknown>) => client.chat.completions.create({ model: 'tiny', messages: [{ role: 'user', content: 'Say something' }], max_tokens: 6, seed: 9, ...extra });
    const forced = await ask({ logit_bias: { 65: 100 } }); // 'A'
    expect(forced.choices[0]!.message.content).toBe('AAAAAA');
    const stopped = await ask({ logit_bias: { 65: 100 }, stop: ['AAA'] });
    expect(stopped.choices[0]!.message.content).toBe('');
    expect(stopped.choices[0]!.finish_reason).toBe('stop');
    const greedy = (await ask({ temperature: 0 })).choices[0]!.message.content;
    expect((await ask({ temperature: 1.5, top_k: 1 })).choices[0]!.message.content).toBe(greedy);
    expect((await ask({ temperature: 1.5, min_p: 1 })).choices[0]!.message.content).toBe(greedy);
    // 'A' (+50) leads 'B' (+48.5) until it is penalised (2 + 2 per use): A, then B, then A again
    const penalised = await ask({ logit_bias: { 65: 50, 66: 48.5 }, temperature: 0, presence_penalty: 2, frequency_penalty: 2, max_tokens: 3 });
    expect(penalised.choices[0]!.message.content).toBe('ABA');
    const repeated = await ask({ logit_bias: { 65: 50, 66: 48.5 }, temperature: 0, max_tokens: 3 });
    expect(repeated.choices[0]!.message.content).toBe('AAA');
    // repetition_penalty against @llm/sample's generate on the same prompt ids
    const ids = encodeChat(tinyTokenizer(), [{ role: 'user', content: 'Say something' }], { template: chatmlTemplate(), addGenerationPrompt: true });
    const seq = generate(t.model, [ids], { maxNewTokens: 6, temperature: 0, repetitionPenalty: 3 }).sequences[0]!;
    const end = seq.findIndex((id) => id >= 256);
    const hf = await ask({ temperature: 0, repetition_penalty: 3 });
    expect(hf.choices[0]!.message.content).toBe(Buffer.from(end < 0 ? seq : seq.slice(0, end)).toString('utf8'));
    expect(hf.choices[0]!.message.content).not.toBe(greedy);
    await expect(ask({ logit_bias: { 99999: 1 } })).rejects.toMatchObject({ status: 400, param: 'logit_bias' });
  });

  it('text completions, streamed and not', async () => {
    const r = await client.completions.create({ model: 'tiny', prompt: 'Once upon a time', max_tokens: 6, temperature: 0 });
    expect(r.object).toBe('text_completion');
    const s = await client.completions.create({ model: 'tiny', prompt: 'Once upon a time', max_tokens: 6, temperature: 0, stream: true });
    let text = '';
    for await (const ch of s) text += ch.choices[0]?.text ?? '';
    expect(text).toBe(r.choices[0]!.text);
  });

  it('embeddings are the mean of the final hidden states (floats and base64 agree)', async () => {
    const e = await client.embeddings.create({ model: 'tiny', input: ['hello', 'world!'] }); // the client asks for base64
    expect(e.data).toHaveLength(2);
    const asFloats = await client.embeddings.create({ model: 'tiny', input: 'hello', encoding_format: 'float' });
    const ids = [...Buffer.from('hello')];
    const hidden = tf.tidy(() => t.model.run(tf.tensor2d([ids], [1, 5], 'int32'), { logits: false }).hidden.arraySync() as number[][][]);
    const mean = hidden[0]![0]!.map((_, c) => hidden[0]!.reduce((s, row) => s + row[c]!, 0) / ids.length);
    for (const v of [e.data[0]!.embedding, asFloats.data[0]!.embedding]) {
      expect(v).toHaveLength(32);
      v.forEach((x, c) => expect(x).toBeCloseTo(mean[c]!, 5));
    }
    expect(e.usage.prompt_tokens).toBe(5 + 6);
  });
});

describe('errors: OpenAI error objects, the right status, and the server keeps serving', () => {
  const ok = async () => {
    const r = await client.chat.completions.create({ model: 'tiny', messages: [{ role: 'user', content: 'still there?' }], max_tokens: 2 });
    expect(r.choices).toHaveLength(1);
  };

  it('bad JSON, wrong types, unknown fields values, unknown model, unknown route', async () => {
    const cases: [string, string, number, RegExp][] = [
      ['/v1/chat/completions', '{"model": "tiny", "messages": [', 400, /json/i],
      ['/v1/chat/completions', '{"model": "tiny", "messages": [{"role": "user", "content": "hi"}], "temperature": "hot"}', 400, /temperature/],
      ['/v1/chat/completions', '{"model": "tiny", "messages": "hi"}', 400, /messages/],
      ['/v1/chat/completions', '{"model": "tiny", "messages": [{"role": "wizard", "content": "hi"}]}', 400, /role/],
      ['/v1/chat/completions', '{"model": "tiny", "messages": [{"role": "user", "content": "hi"}], "n": 0}', 400, /\bn\b/],
      ['/v1/chat/completions', '[1, 2]', 400, /object/],
      ['/v1/completions', '{"model": "tiny", "prompt": 5}', 400, /prompt/],
      ['/v1/embeddings', '{"model": "tiny", "input": []}', 400, /input/],
      ['/v1/chat/completions', '{"model": "gpt-9", "messages": [{"role": "user", "content": "hi"}]}', 404, /gpt-9/],
      ['/v1/nothing', '{}', 404, /Unknown route/],
    ];
    for (const [path, body, status, msg] of cases) {
      const res = await post(path, body);
      expect(res.status, `${path} ${body}`).toBe(status);
      const j = await res.json();
      expect(Object.keys(j.error).sort()).toEqual(['code', 'message', 'param', 'type']);
      expect(j.error.message).toMatch(msg);
    }
    await expect(client.chat.completions.create({ model: 'gpt-9', messages: [{ role: 'user', content: 'hi' }] })).rejects.toMatchObject({ status: 404, code: 'model_not_found' });
    await ok();
  });

  it('a prompt longer than the context is 400 context_length_exceeded; a 1 MB body is refused fast (413)', async () => {
    await expect(client.chat.completions.create({ model: 'tiny', messages: [{ role: 'user', content: 'x'.repeat(2000) }] })).rejects.toMatchObject({ status: 400, code: 'context_length_exceeded' });
    const stream = post('/v1/chat/completions', JSON.stringify({ model: 'tiny', stream: true, messages: [{ role: 'user', content: 'y'.repeat(5000) }] }));
    expect((await stream).status).toBe(400);
    const big = await post('/v1/chat/completions', JSON.stringify({ model: 'tiny', messages: [{ role: 'user', content: 'z'.repeat(1_000_000) }] }));
    expect(big.status).toBe(413);
    expect((await big.json()).error.type).toBe('invalid_request_error');
    await ok();
  });

  it('with --api-key a missing or wrong key is 401', async () => {
    const locked = await startTinyServer({ server: { apiKey: 'sk-right' }, model: t.model });
    try {
      const wrong = new OpenAI({ baseURL: `${locked.url}/v1`, apiKey: 'sk-wrong', maxRetries: 0 });
      await expect(wrong.models.list()).rejects.toMatchObject({ status: 401 });
      expect((await fetch(`${locked.url}/v1/models`)).status).toBe(401);
      const right = new OpenAI({ baseURL: `${locked.url}/v1`, apiKey: 'sk-right', maxRetries: 0 });
      expect((await right.models.list()).data).toHaveLength(1);
      expect((await fetch(`${locked.url}/health`)).status).toBe(200);
    } finally {
      await locked.app.close();
    }
  });

  it('a full queue is 429', async () => {
    const small = await startTinyServer({ scheduler: { maxBatch: 1, maxQueue: 1 }, model: t.model });
    try {
      const body = JSON.stringify({ model: 'tiny', messages: [{ role: 'user', content: 'hi' }], max_tokens: 300 });
      const statuses = await Promise.all(Array.from({ length: 6 }, () => fetch(`${small.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body }).then((r) => r.status)));
      expect(statuses).toContain(200);
      expect(statuses).toContain(429);
      expect(statuses.every((s) => s === 200 || s === 429)).toBe(true);
    } finally {
      await small.app.close();
    }
  });
});

describe('load', () => {
  it('50 concurrent streaming requests all end with [DONE]; greedy output is the same alone and in the batch', async () => {
    const body = (i: number, extra = {}) => JSON.stringify({ model: 'tiny', stream: true, max_tokens: 8, seed: i, messages: [{ role: 'system', content: 'You are helpful.' }, { role: 'user', content: `question ${i}` }], ...extra });
    const alone = await sseEvents(await post('/v1/chat/completions', body(0, { temperature: 0 })));
    const textOf = (ev: any[]) => ev.map((e) => e.choices[0]?.delta?.content ?? '').join('');
    const all = await Promise.all(Array.from({ length: 50 }, async (_, i) => sseEvents(await post('/v1/chat/completions', body(i, i % 10 === 0 ? { temperature: 0 } : {})))));
    for (const { events } of all) expect(events.at(-1).choices[0].finish_reason).toMatch(/stop|length/);
    expect(textOf(all[0]!.events)).toBe(textOf(alone.events));
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    for (const m of ['llm_requests_total', 'llm_tokens_per_second', 'llm_queue_depth', 'llm_kv_blocks_in_use', 'llm_prefix_cache_hits_total']) expect(metrics).toMatch(new RegExp(`^${m}`, 'm'));
    expect(Number(/^llm_prefix_cache_hits_total (\d+)/m.exec(metrics)![1])).toBeGreaterThan(0); // the shared system prompt
  });

  it('no KV-block or tensor leak over 200 requests, a third of them cancelled by the client', async () => {
    const warm = await client.chat.completions.create({ model: 'tiny', messages: [{ role: 'user', content: 'warm up' }], max_tokens: 2 });
    expect(warm.choices).toHaveLength(1);
    t.ctx.scheduler.clearPrefixCache();
    const tensors = tf.memory().numTensors;
    let cancelled = 0;
    for (let round = 0; round < 8; round++) {
      await Promise.all(
        Array.from({ length: 25 }, async (_, i) => {
          const ac = new AbortController();
          const stream = i % 3 === 0;
          const res = await post('/v1/chat/completions', JSON.stringify({ model: 'tiny', stream, max_tokens: i % 3 === 0 ? 200 : 4, messages: [{ role: 'system', content: `s${round % 2}` }, { role: 'user', content: `r${round} i${i}` }] }), {}).catch(() => null);
          if (!res) return;
          if (stream) {
            const reader = res.body!.getReader();
            await reader.read(); // the first chunk arrived: the request runs
            ac.abort();
            await reader.cancel();
            cancelled++;
          } else {
            expect(res.status).toBe(200);
            await res.json();
          }
        }),
      );
    }
    expect(cancelled).toBe(8 * 9);
    for (let i = 0; i < 50 && t.ctx.scheduler.stats().running + t.ctx.scheduler.stats().queueDepth > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(t.ctx.scheduler.stats()).toMatchObject({ running: 0, queueDepth: 0 });
    expect(t.ctx.scheduler.stats().cancelled).toBeGreaterThan(0);
    t.ctx.scheduler.clearPrefixCache();
    expect(t.engine.cacheStats().blocksInUse).toBe(0);
    expect(tf.memory().numTensors).toBe(tensors);
  });
});
