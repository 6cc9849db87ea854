/**
 * Tool (function) calling in the Hermes / Qwen text form: the tools are described in the system
 * message (unless the chat template renders `tools` itself), a call is
 * `<tool_call>{"name": …, "arguments": {…}}</tool_call>`, and a forced call (`tool_choice`
 * "required" or a named function) is generated under a JSON-schema constraint, so it is always a
 * well-formed call of a declared function with arguments matching its parameters (the schema
 * subset of @llm/sample; other keywords are dropped).
 *
 *   toolsSystemText(tools)                      // '# Tools\nYou may call … <tools>\n{…}\n</tools> …'
 *   callSchema(tools, { type: 'function', function: { name: 'get_weather' } })
 *     // { type: 'object', properties: { name: { const: 'get_weather' }, arguments: {…} }, required: [...] }
 *   parseToolCalls('<tool_call>{"name":"f","arguments":{}}</tool_call>', false)   // [{ name: 'f', arguments: {} }]
 */
import { randomBytes } from 'node:crypto';

export interface FunctionTool {
  type: 'function';
  function: { name: string; description?: string; parameters?: Record<string, unknown> };
}

export type ToolChoice = 'none' | 'auto' | 'required' | { type: 'function'; function: { name: string } };

export interface ParsedCall {
  name: string;
  arguments: unknown;
}

export const TOOL_CALL_OPEN = '<tool_call>';
export const TOOL_CALL_CLOSE = '</tool_call>';

export function toolsSystemText(tools: readonly FunctionTool[]): string {
  const lines = tools.map((t) => JSON.stringify(t));
  return `# Tools\nYou may call one or more functions to help with the user's request. The functions:\n<tools>\n${lines.join('\n')}\n</tools>\nTo call a function, reply with ${TOOL_CALL_OPEN}{"name": <function-name>, "arguments": <arguments-json>}${TOOL_CALL_CLOSE}.`;
}

/** A tool call (or several) as the assistant's text, for messages that go back into the prompt. */
export function callsAsText(calls: readonly { function: { name: string; arguments: string } }[]): string {
  return calls
    .map((c) => {
      let args: unknown = c.function.arguments;
      try {
        args = JSON.parse(c.function.arguments);
      } catch {
        /* keep the string */
      }
      return `${TOOL_CALL_OPEN}${JSON.stringify({ name: c.function.name, arguments: args })}${TOOL_CALL_CLOSE}`;
    })
    .join('\n');
}

/** Keywords of @llm/sample's JSON-schema subset; anything else is dropped from tool parameters. */
const KEEP = new Set(['type', 'enum', 'const', 'anyOf', 'properties', 'required', 'additionalProperties', 'items', 'minItems', 'maxItems', 'minLength', 'maxLength', 'title', 'description']);

/**
 * `schema` reduced to the constrainable subset, with string lengths and array sizes bounded (a
 * weak model must still be able to close every value within a few hundred tokens).
 */
export function constrainableSchema(schema: unknown, bounds = { maxLength: 64, maxItems: 8 }): Record<string, unknown> {
  if (!schema || typeof schema !== 'object' || Array.isArray(schema)) return {};
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema as Record<string, unknown>)) {
    if (!KEEP.has(k)) continue;
    if (k === 'properties' && v && typeof v === 'object') out[k] = Object.fromEntries(Object.entries(v).map(([p, s]) => [p, constrainableSchema(s, bounds)]));
    else if (k === 'items') out[k] = constrainableSchema(v, bounds);
    else if (k === 'anyOf' && Array.isArray(v)) out[k] = v.map((s) => constrainableSchema(s, bounds));
    else out[k] = v;
  }
  const types = Array.isArray(out.type) ? out.type : [out.type];
  if (types.includes('string') && out.maxLength === undefined) out.maxLength = bounds.maxLength;
  if (types.includes('array') && out.maxItems === undefined) out.maxItems = bounds.maxItems;
  if (out.type === 'object' && !out.properties) out.properties = {};
  return out;
}

/** The JSON schema of one call: a declared function's name and its arguments. */
export function callSchema(tools: readonly FunctionTool[], choice: ToolChoice): Record<string, unknown> {
  const named = typeof choice === 'object' ? tools.filter((t) => t.function.name === choice.function.name) : tools;
  const one = (t: FunctionTool) => ({
    type: 'object',
    properties: { name: { const: t.function.name }, arguments: constrainableSchema(t.function.parameters ?? { type: 'object', properties: {} }) },
    required: ['name', 'arguments'],
  });
  return named.length === 1 ? one(named[0]!) : { anyOf: named.map(one) };
}

/**
 * Tool calls in generated text: with `forced`, the whole text is one call's JSON; otherwise every
 * `<tool_call>{…}</tool_call>` whose JSON has a string `name`. [] when there is none.
 */
export function parseToolCalls(text: string, forced: boolean): ParsedCall[] {
  const bodies = forced ? [text] : [...text.matchAll(/<tool_call>\s*([\s\S]*?)\s*<\/tool_call>/g)].map((m) => m[1]!);
  const calls: ParsedCall[] = [];
  for (const b of bodies) {
    try {
      const v = JSON.parse(b) as { name?: unknown; arguments?: unknown };
      if (v && typeof v.name === 'string') calls.push({ name: v.name, arguments: v.arguments ?? {} });
    } catch {
      /* not a call */
    }
  }
  return calls;
}

export const callId = (): string => `call_${randomBytes(12).toString('hex')}`;
