/**
 * POST /v1/chat/completions: the request's n choices submitted to the scheduler (seed + i each),
 * constrained when the output must be JSON (response_format) or a tool call (tool_choice
 * "required" or a named function), tool calls parsed out of the text, citations attached with
 * `--docs`. Streams through `sink` (SSE) or returns the whole response.
 *
 *   const body = await runChat(ctx, parseChatRequest(json), signal);                 // chat.completion
 *   await runChat(ctx, req, signal, (chunk) => sse.write(chunk));                      // chat.completion.chunk events
 */
import { jsonSchemaConstraint, regexConstraint, SampleError, type Constraint } from '@llm/sample';
import type { ServeContext } from '../context.js';
import { ServeError } from '../errors.js';
import type { GenResult } from '../scheduler/scheduler.js';
import { buildChatPrompt } from './chat-prompt.js';
import { chatLogprobs, choiceSeed, completionId, samplingOptions, usage } from './format.js';
import { callId, callSchema, parseToolCalls } from './tools.js';
import type { ChatRequest } from './validate.js';

/** A flat JSON object (string, number, boolean or null values): what json_object mode generates. */
const JSON_OBJECT = String.raw`\{(?:"[a-z_]{1,16}":(?:"[a-zA-Z0-9 .,]{0,32}"|-?[0-9]{1,9}|true|false|null)(?:,"[a-z_]{1,16}":(?:"[a-zA-Z0-9 .,]{0,32}"|-?[0-9]{1,9}|true|false|null)){0,7})?\}`;

export type ChunkSink = (chunk: Record<string, unknown>) => void;

function constraintFor(ctx: ServeContext, req: ChatRequest, forced: boolean): Constraint | undefined {
  const opts = { eosIds: ctx.stopTokenIds, maxNumberDigits: 12 };
  try {
    if (forced) return jsonSchemaConstraint(callSchema(req.tools, req.tool_choice), ctx.vocab(), opts);
    if (req.response_format.type === 'json_schema') return jsonSchemaConstraint(req.response_format.schema, ctx.vocab(), opts);
    if (req.response_format.type === 'json_object') return regexConstraint(JSON_OBJECT, ctx.vocab(), opts);
  } catch (e) {
    if (e instanceof SampleError) throw new ServeError('INVALID_REQUEST', `cannot constrain the output to this schema: ${e.message}`, forced ? 'tools' : 'response_format');
    throw e;
  }
  return undefined;
}

export async function runChat(ctx: ServeContext, req: ChatRequest, signal: AbortSignal, sink?: ChunkSink): Promise<Record<string, unknown>> {
  if (req.model !== ctx.modelId) throw new ServeError('MODEL_NOT_FOUND', `The model \`${req.model}\` does not exist; this server serves \`${ctx.modelId}\`.`, 'model');
  const prompt = buildChatPrompt(ctx, req);
  const forced = req.tools.length > 0 && (req.tool_choice === 'required' || typeof req.tool_choice === 'object');
  const toolsOn = req.tools.length > 0 && req.tool_choice !== 'none';
  const constrained = forced || req.response_format.type !== 'text';
  const id = completionId('chatcmpl');
  const created = Math.floor(Date.now() / 1000);
  const head = { id, object: 'chat.completion.chunk', created, model: ctx.modelId, system_fingerprint: 'llm-ts' };
  const blockSize = ctx.engine.config.blockSize;
  const maxNew = Math.min(req.max_tokens ?? blockSize, blockSize - prompt.ids.length);
  const topLogprobs = req.logprobs ? (req.top_logprobs ?? 0) : null;
  const inner = new AbortController();
  const onAbort = () => inner.abort();
  signal.addEventListener('abort', onAbort, { once: true });
  if (sink) for (let i = 0; i < req.n; i++) sink({ ...head, choices: [{ index: i, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }] });
  let results: GenResult[];
  try {
    results = await Promise.all(
      Array.from({ length: req.n }, (_, i) =>
        ctx.scheduler.submit({
          prompt: prompt.ids,
          prefixLength: prompt.prefixLength,
          maxNewTokens: maxNew,
          sampling: samplingOptions(req, ctx.engine.config.vocabSize),
          seed: choiceSeed(req.seed, i),
          stopTokenIds: ctx.stopTokenIds,
          stopStrings: constrained ? [] : [...req.stop, ...ctx.endMarkers],
          ...(constrained ? { constraint: constraintFor(ctx, req, forced)! } : {}),
          topLogprobs,
          signal: inner.signal,
          ...(sink && !toolsOn
            ? {
                onText: (text, lp) =>
                  sink({ ...head, choices: [{ index: i, delta: { content: text }, logprobs: lp ? { content: chatLogprobs(ctx.tokenizer, [lp]) } : null, finish_reason: null }] }),
              }
            : {}),
        }),
      ),
    );
  } catch (e) {
    inner.abort(); // one choice failed: stop the others
    throw e;
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
  const choices = results.map((r, i) => {
    const calls = toolsOn ? parseToolCalls(r.text, forced) : [];
    const toolCalls = calls.map((c) => ({ id: callId(), type: 'function' as const, function: { name: c.name, arguments: JSON.stringify(c.arguments) } }));
    const content = toolCalls.length ? null : r.text;
    const finish = toolCalls.length ? 'tool_calls' : r.finishReason;
    const cite = prompt.citations.length ? { citations: prompt.citations } : {};
    return { index: i, message: { role: 'assistant', content, refusal: null, ...(toolCalls.length ? { tool_calls: toolCalls } : {}), ...cite }, logprobs: r.logprobs ? { content: chatLogprobs(ctx.tokenizer, r.logprobs) } : null, finish_reason: finish };
  });
  const completion = results.reduce((n, r) => n + r.tokens.length, 0);
  const use = usage(prompt.ids.length, completion, results[0]?.cachedTokens ?? 0);
  if (sink) {
    choices.forEach((c, i) => {
      if (toolsOn) {
        const delta = c.message.tool_calls ? { tool_calls: c.message.tool_calls.map((t, k) => ({ index: k, ...t })) } : { content: c.message.content };
        sink({ ...head, choices: [{ index: i, delta, logprobs: null, finish_reason: null }] });
      }
      sink({ ...head, choices: [{ index: i, delta: {}, logprobs: null, finish_reason: c.finish_reason }], ...(prompt.citations.length ? { citations: prompt.citations } : {}) });
    });
    if (req.include_usage) sink({ ...head, choices: [], usage: use });
  }
  return { id, object: 'chat.completion', created, model: ctx.modelId, system_fingerprint: 'llm-ts', choices, usage: use };
}
