/**
 * Request-body checks for the OpenAI endpoints: every field this server reads, its type and
 * range, each failure a ServeError('INVALID_REQUEST') naming the field (`param`) — answered 400.
 * Unknown fields are ignored, as OpenAI-compatible servers do.
 *
 *   const req = parseChatRequest(JSON.parse(body));   // typed, defaults not yet applied
 *   parseChatRequest({ messages: 'hi' });              // throws: messages must be a non-empty array of messages
 */
import { ServeError } from '../errors.js';
import type { FunctionTool, ToolChoice } from './tools.js';

export interface InMessage {
  role: 'system' | 'developer' | 'user' | 'assistant' | 'tool';
  content: string;
  tool_calls?: { id: string; type: 'function'; function: { name: string; arguments: string } }[];
  tool_call_id?: string;
  name?: string;
}

/** Sampling fields shared by chat and text completions. */
export interface SamplingFields {
  model: string;
  max_tokens?: number;
  temperature?: number;
  top_p?: number;
  n: number;
  stop: string[];
  seed?: number;
  frequency_penalty?: number;
  presence_penalty?: number;
  logit_bias?: Record<number, number>;
  top_k?: number;
  min_p?: number;
  repetition_penalty?: number;
  stream: boolean;
  include_usage: boolean;
}

export interface ChatRequest extends SamplingFields {
  messages: InMessage[];
  logprobs: boolean;
  top_logprobs?: number;
  response_format: { type: 'text' } | { type: 'json_object' } | { type: 'json_schema'; schema: Record<string, unknown>; name: string };
  tools: FunctionTool[];
  tool_choice: ToolChoice;
}

export interface CompletionRequest extends SamplingFields {
  prompt: string[];
  logprobs?: number;
}

export interface EmbeddingRequest {
  model: string;
  input: (string | number[])[];
  encoding_format: 'float' | 'base64';
}

const bad = (param: string, what: string): never => {
  throw new ServeError('INVALID_REQUEST', `${param} ${what}`, param);
};
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function body(v: unknown): Record<string, unknown> {
  if (!isObj(v)) bad('body', 'must be a JSON object');
  return v as Record<string, unknown>;
}

function num(b: Record<string, unknown>, k: string, lo: number, hi: number, int = false): number | undefined {
  const v = b[k];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi || (int && !Number.isInteger(v))) bad(k, `must be ${int ? 'an integer' : 'a number'} in [${lo}, ${hi}], got ${JSON.stringify(v)?.slice(0, 80)}`);
  return v as number;
}

function bool(b: Record<string, unknown>, k: string): boolean {
  const v = b[k];
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') bad(k, `must be a boolean, got ${JSON.stringify(v)?.slice(0, 80)}`);
  return v as boolean;
}

function model(b: Record<string, unknown>): string {
  if (typeof b.model !== 'string' || !b.model) bad('model', 'must be a non-empty string (see GET /v1/models)');
  return b.model as string;
}

function sampling(b: Record<string, unknown>, maxTokensKeys: string[]): SamplingFields {
  const out: SamplingFields = { model: model(b), n: num(b, 'n', 1, 16, true) ?? 1, stop: [], stream: bool(b, 'stream'), include_usage: false };
  for (const k of maxTokensKeys) {
    const v = num(b, k, 1, 1e7, true);
    if (v !== undefined) out.max_tokens = v;
  }
  const set = <K extends keyof SamplingFields>(k: K, v: SamplingFields[K] | undefined) => void (v !== undefined && (out[k] = v));
  set('temperature', num(b, 'temperature', 0, 2));
  set('top_p', num(b, 'top_p', 0, 1));
  if (out.top_p === 0) out.top_p = 1e-6; // OpenAI allows 0: the most likely token only
  set('seed', num(b, 'seed', -(2 ** 53), 2 ** 53, true));
  set('frequency_penalty', num(b, 'frequency_penalty', -2, 2));
  set('presence_penalty', num(b, 'presence_penalty', -2, 2));
  set('top_k', num(b, 'top_k', 0, 1e9, true));
  set('min_p', num(b, 'min_p', 0, 1));
  set('repetition_penalty', num(b, 'repetition_penalty', 1e-6, 100));
  if (out.top_k === 0) delete out.top_k;
  const stop = b.stop;
  if (typeof stop === 'string') out.stop = [stop];
  else if (Array.isArray(stop)) {
    if (stop.length > 4 || stop.some((s) => typeof s !== 'string' || !s)) bad('stop', 'must be a string or up to 4 non-empty strings');
    out.stop = stop as string[];
  } else if (stop !== undefined && stop !== null) bad('stop', 'must be a string or a list of strings');
  if (out.stop.some((s) => s.length === 0)) bad('stop', 'must not contain empty strings');
  const lb = b.logit_bias;
  if (lb !== undefined && lb !== null) {
    if (!isObj(lb)) bad('logit_bias', 'must be an object of token id → bias in [-100, 100]');
    const bias: Record<number, number> = {};
    for (const [k, v] of Object.entries(lb as Record<string, unknown>)) {
      if (!/^\d+$/.test(k) || typeof v !== 'number' || !Number.isFinite(v) || v < -100 || v > 100) bad('logit_bias', `entry ${JSON.stringify(k)}: ${JSON.stringify(v)} is not a token id → bias in [-100, 100]`);
      bias[Number(k)] = v as number;
    }
    out.logit_bias = bias;
  }
  const so = b.stream_options;
  if (so !== undefined && so !== null) {
    if (!isObj(so)) bad('stream_options', 'must be an object');
    out.include_usage = bool(so as Record<string, unknown>, 'include_usage');
  }
  return out;
}

function text(v: unknown, param: string): string {
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return '';
  if (Array.isArray(v)) {
    return v
      .map((p, i) => {
        if (!isObj(p) || p.type !== 'text' || typeof p.text !== 'string') bad(`${param}[${i}]`, 'must be a text part { type: "text", text } (this server reads text only)');
        return (p as { text: string }).text;
      })
      .join('');
  }
  return bad(param, 'must be a string or a list of text parts');
}

const ROLES = new Set(['system', 'developer', 'user', 'assistant', 'tool']);

function messages(v: unknown): InMessage[] {
  if (!Array.isArray(v) || v.length === 0) bad('messages', 'must be a non-empty array of messages');
  return (v as unknown[]).map((m, i) => {
    const p = `messages[${i}]`;
    if (!isObj(m)) bad(p, 'must be an object { role, content }');
    const mm = m as Record<string, unknown>;
    if (typeof mm.role !== 'string' || !ROLES.has(mm.role)) bad(`${p}.role`, `must be one of ${[...ROLES].join(', ')}`);
    const out: InMessage = { role: mm.role as InMessage['role'], content: text(mm.content, `${p}.content`) };
    if (mm.tool_calls !== undefined && mm.tool_calls !== null) {
      if (!Array.isArray(mm.tool_calls)) bad(`${p}.tool_calls`, 'must be a list');
      out.tool_calls = (mm.tool_calls as unknown[]).map((c, j) => {
        const f = isObj(c) ? c.function : undefined;
        if (!isObj(f) || typeof f.name !== 'string' || typeof f.arguments !== 'string') bad(`${p}.tool_calls[${j}]`, 'must be { id, type: "function", function: { name, arguments (a JSON string) } }');
        return { id: String((c as Record<string, unknown>).id ?? ''), type: 'function' as const, function: { name: (f as { name: string }).name, arguments: (f as { arguments: string }).arguments } };
      });
    }
    if (typeof mm.tool_call_id === 'string') out.tool_call_id = mm.tool_call_id;
    if (typeof mm.name === 'string') out.name = mm.name;
    return out;
  });
}

function tools(v: unknown): FunctionTool[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) bad('tools', 'must be a list of { type: "function", function: { name, description, parameters } }');
  return (v as unknown[]).map((t, i) => {
    const f = isObj(t) ? t.function : undefined;
    if (!isObj(t) || t.type !== 'function' || !isObj(f) || typeof f.name !== 'string' || !/^[a-zA-Z0-9_-]{1,64}$/.test(f.name)) bad(`tools[${i}]`, 'must be { type: "function", function: { name (a-z, A-Z, 0-9, _ and -, up to 64), description?, parameters? } }');
    const fn = f as Record<string, unknown>;
    if (fn.parameters !== undefined && !isObj(fn.parameters)) bad(`tools[${i}].function.parameters`, 'must be a JSON schema object');
    return { type: 'function' as const, function: { name: fn.name as string, ...(typeof fn.description === 'string' ? { description: fn.description } : {}), ...(fn.parameters ? { parameters: fn.parameters as Record<string, unknown> } : {}) } };
  });
}

function toolChoice(v: unknown, declared: FunctionTool[]): ToolChoice {
  if (v === undefined || v === null) return declared.length ? 'auto' : 'none';
  if (v === 'none' || v === 'auto' || v === 'required') {
    if (v === 'required' && !declared.length) bad('tool_choice', '"required" needs tools');
    return v;
  }
  const f = isObj(v) ? v.function : undefined;
  if (!isObj(v) || v.type !== 'function' || !isObj(f) || typeof f.name !== 'string') return bad('tool_choice', 'must be "none", "auto", "required" or { type: "function", function: { name } }');
  const name = (f as { name: string }).name;
  if (!declared.some((t) => t.function.name === name)) bad('tool_choice', `names function "${name}", which is not in tools`);
  return { type: 'function', function: { name } };
}

function responseFormat(v: unknown): ChatRequest['response_format'] {
  if (v === undefined || v === null) return { type: 'text' };
  if (!isObj(v)) return bad('response_format', 'must be an object { type }');
  if (v.type === 'text' || v.type === 'json_object') return { type: v.type };
  if (v.type === 'json_schema') {
    const js = v.json_schema;
    if (!isObj(js) || !isObj(js.schema)) bad('response_format.json_schema', 'must be { name, schema, strict? } with schema a JSON schema object');
    const j = js as Record<string, unknown>;
    return { type: 'json_schema', schema: j.schema as Record<string, unknown>, name: typeof j.name === 'string' ? j.name : 'response' };
  }
  return bad('response_format.type', 'must be "text", "json_object" or "json_schema"');
}

export function parseChatRequest(raw: unknown): ChatRequest {
  const b = body(raw);
  const base = sampling(b, ['max_tokens', 'max_completion_tokens']);
  const declared = tools(b.tools);
  const req: ChatRequest = {
    ...base,
    messages: messages(b.messages),
    logprobs: bool(b, 'logprobs'),
    response_format: responseFormat(b.response_format),
    tools: declared,
    tool_choice: toolChoice(b.tool_choice, declared),
  };
  const tl = num(b, 'top_logprobs', 0, 20, true);
  if (tl !== undefined) {
    if (!req.logprobs) bad('top_logprobs', 'needs logprobs: true');
    req.top_logprobs = tl;
  }
  return req;
}

export function parseCompletionRequest(raw: unknown): CompletionRequest {
  const b = body(raw);
  const base = sampling(b, ['max_tokens']);
  const p = b.prompt;
  const prompt = typeof p === 'string' ? [p] : Array.isArray(p) && p.length > 0 && p.every((x) => typeof x === 'string') ? (p as string[]) : bad('prompt', 'must be a string or a non-empty list of strings');
  const req: CompletionRequest = { ...base, prompt };
  const lp = num(b, 'logprobs', 0, 5, true);
  if (lp !== undefined) req.logprobs = lp;
  if (b.echo === true) bad('echo', 'is not supported');
  return req;
}

export function parseEmbeddingRequest(raw: unknown): EmbeddingRequest {
  const b = body(raw);
  const m = model(b);
  const v = b.input;
  const isIds = (x: unknown) => Array.isArray(x) && x.length > 0 && x.every((t) => Number.isInteger(t) && (t as number) >= 0);
  let input: (string | number[])[];
  if (typeof v === 'string') input = [v];
  else if (isIds(v)) input = [v as number[]];
  else if (Array.isArray(v) && v.length > 0 && v.length <= 256 && v.every((x) => typeof x === 'string' || isIds(x))) input = v as (string | number[])[];
  else return bad('input', 'must be a string, a list of up to 256 strings, or token ids');
  if (input.some((x) => x.length === 0)) bad('input', 'must not contain empty inputs');
  const f = b.encoding_format ?? 'float';
  if (f !== 'float' && f !== 'base64') bad('encoding_format', 'must be "float" or "base64"');
  return { model: m, input, encoding_format: f as 'float' | 'base64' };
}
