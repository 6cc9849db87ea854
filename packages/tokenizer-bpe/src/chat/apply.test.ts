// applyChatTemplate against renders written out by hand or produced by Python jinja2 with HF's environment
// (ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks, tojson with ensure_ascii=False) — what
// transformers' apply_chat_template(tokenize=False) returns — and its errors.
import { describe, expect, it } from 'vitest';
import { applyChatTemplate } from './apply.js';
import { CHATML_TEMPLATE, chatmlTemplate } from './chatml.js';
import { renderJinja } from './jinja.js';
import { jinjaChatTemplate } from './template.js';
import { CHATML_TOOLS, conversation, HF_CHATML, LLAMA2, ZEPHYR } from './test-fixtures.js';
import { expectError } from '../testing/expect-error.js';
import type { ChatMessage } from './types.js';

describe('applyChatTemplate with the built-in ChatML', () => {
  it('renders a 3-message conversation as hand-written', () => {
    expect(applyChatTemplate(conversation, { template: 'chatml' })).toBe(
      '<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi!<|im_end|>\n<|im_start|>assistant\nHello.<|im_end|>\n',
    );
    expect(applyChatTemplate(conversation, { template: chatmlTemplate() })).toBe(applyChatTemplate(conversation, { template: 'chatml' }));
  });

  it('appends the generation prompt only when asked', () => {
    const user = [{ role: 'user', content: 'Hi!' }];
    expect(applyChatTemplate(user, { template: 'chatml', addGenerationPrompt: true })).toBe('<|im_start|>user\nHi!<|im_end|>\n<|im_start|>assistant\n');
    expect(applyChatTemplate(user, { template: 'chatml', addGenerationPrompt: false })).toBe('<|im_start|>user\nHi!<|im_end|>\n');
    expect(applyChatTemplate([], { template: 'chatml' })).toBe('');
  });

  it("renders exactly what HF's ChatML Jinja source renders (through @huggingface/jinja)", () => {
    expect(CHATML_TEMPLATE).toBe(HF_CHATML);
    const cases: ChatMessage[][] = [[], conversation.slice(0, 1), conversation.slice(0, 2), conversation, [...conversation, { role: 'tool', content: '{"x": 1}\n' }]];
    for (const messages of cases) {
      for (const addGenerationPrompt of [false, true]) {
        const jinja = renderJinja(HF_CHATML, 'hf', { messages, add_generation_prompt: addGenerationPrompt, tools: null, documents: null });
        expect(applyChatTemplate(messages, { template: 'chatml', addGenerationPrompt })).toBe(jinja);
      }
    }
  });
});

describe('applyChatTemplate with Jinja templates', () => {
  it('Zephyr with eos_token from the template context', () => {
    const t = jinjaChatTemplate(ZEPHYR, { name: 'zephyr', context: { eos_token: '</s>' } });
    expect(applyChatTemplate(conversation, { template: t })).toBe('<|system|>\nBe brief.</s>\n<|user|>\nHi!</s>\n<|assistant|>\nHello.</s>\n');
    expect(applyChatTemplate(conversation.slice(0, 2), { template: t, addGenerationPrompt: true })).toBe(
      '<|system|>\nBe brief.</s>\n<|user|>\nHi!</s>\n<|assistant|>\n',
    );
  });

  it('Llama-2 with bos/eos given as options (they override the context), content stripped', () => {
    const t = jinjaChatTemplate(LLAMA2, { context: { bos_token: 'BOS', eos_token: 'EOS' } });
    const messages = [...conversation, { role: 'user', content: ' Again? ' }];
    expect(applyChatTemplate(messages, { template: t, bos_token: '<s>', eos_token: '</s>' })).toBe(
      '<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi! [/INST] Hello. </s><s>[INST] Again? [/INST]',
    );
  });

  it('Jinja source given as a string', () => {
    expect(applyChatTemplate(conversation.slice(1, 2), { template: '{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}' })).toBe('user: Hi!\n');
  });

  it('tools, tool calls and tool results as HF renders them', () => {
    const tools = [
      { type: 'function', function: { name: 'get_weather', description: 'Weather in a city, «now»', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } },
    ];
    const messages: ChatMessage[] = [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Weather in Paris?' },
      { role: 'assistant', content: '', tool_calls: [{ type: 'function', function: { name: 'get_weather', arguments: { city: 'Paris' } } }] },
      { role: 'tool', content: '{"temp": 21, "sky": "clear"}\n' },
    ];
    const t = jinjaChatTemplate(CHATML_TOOLS);
    expect(applyChatTemplate(messages, { template: t, tools, addGenerationPrompt: true })).toBe(
      '<|im_start|>system\nBe brief.\n\nTools:\n{"type": "function", "function": {"name": "get_weather", "description": "Weather in a city, «now»", ' +
        '"parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}\n<|im_end|>\n' +
        '<|im_start|>user\nWeather in Paris?<|im_end|>\n' +
        '<|im_start|>assistant\n<tool_call>{"name": "get_weather", "arguments": {"city": "Paris"}}</tool_call><|im_end|>\n' +
        '<|im_start|>tool\n<tool_response>"{\\"temp\\": 21, \\"sky\\": \\"clear\\"}\\n"</tool_response><|im_end|>\n<|im_start|>assistant\n',
    );
    expect(applyChatTemplate(conversation, { template: t })).toBe(applyChatTemplate(conversation, { template: 'chatml' }));
  });

  it("switches to a template's tool_use variant when tools are given (HF's get_chat_template)", () => {
    const t = { ...jinjaChatTemplate('plain'), variants: { tool_use: jinjaChatTemplate('{{ tools | length }} tool(s)') } };
    expect(applyChatTemplate(conversation, { template: t })).toBe('plain');
    expect(applyChatTemplate(conversation, { template: t, tools: [] })).toBe('0 tool(s)');
    expect(applyChatTemplate(conversation, { template: t, tools: [{ name: 'f' }] })).toBe('1 tool(s)');
  });

  it('sees tools and documents as none when not given, and extra variables', () => {
    const t = '{{ tools is none }} {{ documents is none }} {{ add_generation_prompt }} {{ enable_thinking }}';
    expect(applyChatTemplate([], { template: t, enable_thinking: false })).toBe('true true false false');
  });
});

describe('applyChatTemplate errors', () => {
  it('a template that does not parse, or is empty, is TEMPLATE_INVALID', () => {
    expectError(() => applyChatTemplate(conversation, { template: '{% for m in messages %}{{ m.content }}' }), 'TEMPLATE_INVALID', /^inline template: the chat template does not parse/);
    expectError(() => jinjaChatTemplate('', { name: 'mine' }), 'TEMPLATE_INVALID', /^mine: .*non-empty string/);
  });

  it('a template that fails while rendering (raise_exception) is TEMPLATE_INVALID naming it', () => {
    const t = jinjaChatTemplate(LLAMA2, { name: 'llama2', context: { bos_token: '<s>', eos_token: '</s>' } });
    const bad = [{ role: 'user', content: 'a' }, { role: 'user', content: 'b' }];
    expectError(() => applyChatTemplate(bad, { template: t }), 'TEMPLATE_INVALID', /^llama2: .*2 message\(s\).*roles must alternate/);
  });

  it('no template, or an unknown built-in name, is TEMPLATE_MISSING', () => {
    expectError(() => applyChatTemplate(conversation, {} as never), 'TEMPLATE_MISSING', 'no chat template given');
    expectError(() => applyChatTemplate(conversation, { template: 'llama-2' }), 'TEMPLATE_MISSING', 'no built-in chat template named "llama-2" (built in: chatml)');
  });

  it('bad messages and options are INVALID_ARGUMENT naming the field', () => {
    const cases: Array<[unknown, Record<string, unknown>, string]> = [
      ['hi', {}, 'messages must be an array'],
      [[null], {}, 'messages[0] must be an object'],
      [[{ role: '', content: 'x' }], {}, 'messages[0].role must be a non-empty string'],
      [[{ role: 'user', content: 'x' }, { role: 'user' }], {}, 'messages[1].content must be a string'],
      [[{ role: 'user', content: ['x'] }], {}, 'messages[0].content must be a string (use "" for an assistant message that only calls tools), got an array'],
      [[], { tools: { name: 'f' } }, 'tools must be an array of objects, got an object'],
      [[], { documents: ['text'] }, 'documents[0] must be an object'],
      [[], { addGenerationPrompt: 'yes' }, 'addGenerationPrompt must be true or false'],
    ];
    for (const [messages, opts, message] of cases) {
      expectError(() => applyChatTemplate(messages as ChatMessage[], { template: 'chatml', ...opts }), 'INVALID_ARGUMENT', message);
    }
    expectError(() => applyChatTemplate([], { template: 42 as never }), 'INVALID_ARGUMENT', 'template must be a ChatTemplate');
  });
});
