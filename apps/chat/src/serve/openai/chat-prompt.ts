/**
 * A chat request's messages → prompt ids: `developer` read as `system`, tools described in the
 * system message (or handed to a template that renders `tools` itself), earlier tool calls and
 * `tool` results rendered back in, retrieved passages (`--docs`) as a system message before the
 * conversation, and the template's generation prompt. Also the length of the leading system part
 * (the prefix the scheduler caches), checked to be a true prefix of the ids.
 *
 *   const p = buildChatPrompt(ctx, req);   // { ids, prefixLength, citations }
 */
import { encodeChat, type ChatMessage } from '@llm/tokenizer-bpe';
import { ServeError } from '../errors.js';
import type { ServeContext } from '../context.js';
import { grounding, type Citation } from '../rag/grounding.js';
import { callsAsText, toolsSystemText } from './tools.js';
import type { ChatRequest } from './validate.js';

export interface ChatPrompt {
  ids: number[];
  prefixLength: number;
  citations: Citation[];
}

export function buildChatPrompt(ctx: ServeContext, req: ChatRequest): ChatPrompt {
  const src = ctx.template.source;
  const nativeTools = /\btools\b/.test(src);
  const nativeCalls = /\btool_calls\b/.test(src);
  const useTools = req.tools.length > 0 && req.tool_choice !== 'none';
  const msgs: ChatMessage[] = req.messages.map((m) => {
    const role = m.role === 'developer' ? 'system' : m.role;
    if (m.role === 'assistant' && m.tool_calls?.length) {
      if (nativeCalls) return { role, content: m.content, tool_calls: m.tool_calls.map((c) => ({ type: 'function', id: c.id, function: { name: c.function.name, arguments: safeParse(c.function.arguments) } })) };
      return { role, content: [m.content, callsAsText(m.tool_calls)].filter(Boolean).join('\n') };
    }
    return { role, content: m.content, ...(m.tool_call_id ? { tool_call_id: m.tool_call_id } : {}), ...(m.name ? { name: m.name } : {}) };
  });
  if (useTools && !nativeTools) {
    const text = toolsSystemText(req.tools);
    if (msgs[0]?.role === 'system') msgs[0] = { ...msgs[0], content: `${msgs[0].content}\n\n${text}` };
    else msgs.unshift({ role: 'system', content: text });
  }
  let lead = 0;
  while (msgs[lead]?.role === 'system') lead++;
  let citations: Citation[] = [];
  if (ctx.docs) {
    const question = [...req.messages].reverse().find((m) => m.role === 'user')?.content ?? '';
    const passages = question ? ctx.docs.search(question, ctx.topPassages) : [];
    if (passages.length) {
      const g = grounding(passages);
      citations = g.citations;
      msgs.splice(lead, 0, { role: 'system', content: g.system });
    }
  }
  const blockSize = ctx.engine.config.blockSize;
  const chars = msgs.reduce((n, m) => n + m.content.length, 0);
  if (chars / ctx.maxTokenBytes >= blockSize) throw tooLong(`at least ${Math.ceil(chars / ctx.maxTokenBytes)}`, blockSize);
  const opts = { template: ctx.template, ...(useTools && nativeTools ? { tools: req.tools as unknown as Record<string, unknown>[] } : {}) };
  const ids = encodeChat(ctx.tokenizer, msgs, { ...opts, addGenerationPrompt: true });
  if (ids.length >= blockSize) throw tooLong(String(ids.length), blockSize);
  let prefixLength = 0;
  if (lead > 0 && lead < msgs.length) {
    const pre = encodeChat(ctx.tokenizer, msgs.slice(0, lead), { ...opts, addGenerationPrompt: false });
    if (pre.length < ids.length && pre.every((id, i) => ids[i] === id)) prefixLength = pre.length;
  }
  return { ids, prefixLength, citations };
}

const tooLong = (n: string, ctx: number) =>
  new ServeError('CONTEXT_LENGTH_EXCEEDED', `This model's maximum context length is ${ctx} tokens. However, your messages resulted in ${n} tokens. Please reduce the length of the messages.`, 'messages');

function safeParse(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return s;
  }
}
