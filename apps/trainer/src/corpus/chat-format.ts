/**
 * The chat format of the models `llm-train start` makes: ChatML with tools (Hermes style). The
 * Jinja source is written into every checkpoint as `chat_template.jinja`, so `llm-chat serve`
 * renders requests (with `tools`, assistant `tool_calls`, `tool` messages) exactly as the SFT and
 * DPO data were rendered; the GGUF export carries it as `tokenizer.chat_template`.
 *
 *   const conv = { tools: [CALCULATOR_TOOL], messages: [
 *     { role: 'user', content: 'what is 17 + 25?' },
 *     { role: 'assistant', content: '', tool_calls: [toolCall('calculator', { expression: '17 + 25' })] },
 *     { role: 'tool', content: '42' },
 *     { role: 'assistant', content: '17 + 25 is 42.' }] };
 *   flatten(conv)   // the same conversation as plain {role, content} messages (what SFT JSONL holds):
 *   // [{ role: 'system', content: '# Tools\ncalculator(expression): …' },
 *   //  { role: 'user', … }, { role: 'assistant', content: '<tool_call>{"name":"calculator","arguments":{"expression":"17 + 25"}}</tool_call>' }, …]
 *   applyChatTemplate(flatten(conv), { template: chatTemplate() }) === applyChatTemplate(conv.messages, { template: chatTemplate(), tools: conv.tools })
 */
import { applyChatTemplate, jinjaChatTemplate, type ChatMessage, type ChatTemplate, type ChatTool } from '@llm/tokenizer-bpe';

/** Special tokens of the format (the tokenizer learns them as single ids). */
export const CHAT_SPECIAL_TOKENS = ['<|endoftext|>', '<|im_start|>', '<|im_end|>'] as const;

/**
 * ChatML; with `tools`, a system turn that lists them (`name(required args): description`) and says
 * how to call one; an assistant's `tool_calls` as `<tool_call>{"name":…,"arguments":…}</tool_call>`
 * in compact JSON whether `arguments` is OpenAI's JSON string (inserted as it is) or an object (as
 * `llm-chat serve` passes it: its top-level keys written without spaces, as JSON.stringify does);
 * `tool` messages as ChatML turns of role `tool`.
 */
export const CHAT_TEMPLATE = [
  '{%- if tools %}',
  "{{- '<|im_start|>system\\n' }}",
  "{%- if messages[0].role == 'system' %}{{- messages[0].content + '\\n\\n' }}{%- endif %}",
  "{{- '# Tools\\n' }}",
  '{%- for tool in tools %}',
  '{%- set f = tool.function if tool.function is defined else tool %}',
  "{%- set args = f.parameters.required if (f.parameters is defined and f.parameters.required is defined) else [] %}",
  "{{- f.name + '(' + (args | join(', ')) + ')' }}{%- if f.description is defined %}{{- ': ' + f.description }}{%- endif %}{{- '\\n' }}",
  '{%- endfor %}',
  "{{- 'To call one: <tool_call>{\"name\":\"...\",\"arguments\":{...}}</tool_call>' }}",
  "{{- '<|im_end|>\\n' }}",
  '{%- endif %}',
  '{%- for message in messages %}',
  "{%- if message.role == 'system' and loop.first and tools %}",
  "{%- elif message.role == 'assistant' and message.tool_calls %}",
  "{{- '<|im_start|>assistant\\n' }}{%- if message.content %}{{- message.content }}{%- endif %}",
  '{%- for call in message.tool_calls %}',
  '{%- set c = call.function if call.function is defined else call %}',
  "{%- if not loop.first %}{{- '\\n' }}{%- endif %}",
  "{{- '<tool_call>{\"name\":\"' + c.name + '\",\"arguments\":' }}",
  '{%- if c.arguments is string %}{{- c.arguments }}',
  "{%- elif c.arguments is mapping %}{{- '{' }}{%- for k, v in c.arguments.items() %}{%- if not loop.first %}{{- ',' }}{%- endif %}{{- (k | tojson) + ':' + (v | tojson) }}{%- endfor %}{{- '}' }}",
  '{%- else %}{{- c.arguments | tojson }}{%- endif %}',
  "{{- '}</tool_call>' }}",
  '{%- endfor %}',
  "{{- '<|im_end|>\\n' }}",
  '{%- else %}',
  "{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>\\n' }}",
  '{%- endif %}',
  '{%- endfor %}',
  "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}",
].join('\n');

/** The format as a ChatTemplate (name 'llm-ts chatml+tools'). */
export function chatTemplate(): ChatTemplate {
  return jinjaChatTemplate(CHAT_TEMPLATE, { name: 'llm-ts chatml+tools', context: { eos_token: '<|im_end|>' } });
}

/** The calculator tool, as OpenAI and HF describe tools. */
export const CALCULATOR_TOOL = {
  type: 'function',
  function: {
    name: 'calculator',
    description: 'evaluate an arithmetic expression',
    parameters: { type: 'object', properties: { expression: { type: 'string', description: 'e.g. 17 + 25' } }, required: ['expression'] },
  },
} as const satisfies ChatTool;

/** An assistant's tool call in OpenAI's wire form (`arguments` is a JSON string). */
export interface ToolCall {
  type: 'function';
  function: { name: string; arguments: string };
}

/** toolCall('calculator', { expression: '1 + 2' }) → { type: 'function', function: { name: 'calculator', arguments: '{"expression":"1 + 2"}' } } */
export function toolCall(name: string, args: Record<string, unknown>): ToolCall {
  return { type: 'function', function: { name, arguments: JSON.stringify(args) } };
}

/** A conversation as a server receives it: tools (or none) and messages that may carry `tool_calls`. */
export interface Conversation {
  tools: readonly ChatTool[] | null;
  messages: ChatMessage[];
}

/** The text of a tool call inside an assistant turn: '<tool_call>{"name":"calculator","arguments":{"expression":"1 + 2"}}</tool_call>'. */
export function toolCallText(call: ToolCall): string {
  return `<tool_call>{"name":${JSON.stringify(call.function.name)},"arguments":${call.function.arguments}}</tool_call>`;
}

/**
 * The conversation as plain `{ role, content }` messages that render (with or without `tools`) to
 * the same text as the original with its tools: the tool list becomes the system message's text
 * (taken from the template's own render, so the two cannot drift) and tool calls become assistant text.
 */
export function flatten(conv: Conversation, template: ChatTemplate = chatTemplate()): ChatMessage[] {
  const out: ChatMessage[] = [];
  let rest = conv.messages;
  if (conv.tools && conv.tools.length > 0) {
    const sys = rest[0]?.role === 'system' ? [rest[0]] : [];
    const head = applyChatTemplate(sys, { template, tools: conv.tools });
    const m = /^<\|im_start\|>system\n([\s\S]*)<\|im_end\|>\n$/.exec(head);
    if (!m) throw new Error(`chat format: the tools header did not render as one system turn: ${JSON.stringify(head.slice(0, 80))}`);
    out.push({ role: 'system', content: m[1]! });
    rest = rest.slice(sys.length);
  }
  for (const msg of rest) {
    const calls = msg.tool_calls as ToolCall[] | undefined;
    if (msg.role === 'assistant' && calls && calls.length > 0) {
      out.push({ role: 'assistant', content: (msg.content || '') + calls.map(toolCallText).join('\n') });
    } else {
      out.push({ role: msg.role, content: msg.content });
    }
  }
  return out;
}
