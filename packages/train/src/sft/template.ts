/**
 * Chat templates: a conversation (a list of messages) → the one string a chat model is trained on.
 *
 *   chatmlTemplate().render([{ role: 'user', content: 'hi' }], { addGenerationPrompt: true })
 *     // → '<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n'
 *
 * Three sources: the built-in ChatML (`chatmlTemplate`), any Jinja source (`jinjaTemplate`), and the
 * `chat_template` of a Hugging Face `tokenizer_config.json` (`loadHfChatTemplate`).
 * `renderSegments` cuts a render into per-message pieces so SFT can label assistant turns
 * without searching token ids for markers (see examples.ts).
 */
import { readFile } from 'node:fs/promises';
import { Template } from '@huggingface/jinja';
import { TrainError } from '../errors.js';

/** One chat message. Roles are free-form strings; 'system', 'user' and 'assistant' are the usual ones. */
export type ChatMessage = { role: 'system' | 'user' | 'assistant' | string; content: string };

export interface RenderOptions {
  /** Append the header that opens an assistant turn (what a model sees before it generates). Default false. */
  addGenerationPrompt?: boolean;
}

export interface ChatTemplate {
  /** A short name for messages, e.g. 'chatml' or the config file a template came from. */
  name: string;
  /** The conversation as one string. */
  render(messages: ChatMessage[], opts?: RenderOptions): string;
  /** The template's end-of-sequence text when it knows it (HF `eos_token`); used by `addEos`. */
  eosToken?: string;
}

/** The special tokens ChatML needs. Give the tokenizer these (e.g. `specialTokens: ['<|im_start|>', '<|im_end|>']`). */
export const CHATML_SPECIAL_TOKENS = ['<|im_start|>', '<|im_end|>'] as const;

/**
 * The built-in ChatML template (OpenAI / Qwen style): each message is
 * `<|im_start|>{role}\n{content}<|im_end|>\n`; the generation prompt is `<|im_start|>assistant\n`.
 *
 *   chatmlTemplate().render([{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'yo' }])
 *     // → '<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\nyo<|im_end|>\n'
 *
 * The tokenizer should have `<|im_start|>` and `<|im_end|>` as special tokens, so each is one id
 * (SFT encodes with `allowedSpecial: 'all'` by default). Without them the markers are plain text
 * and still work, only as several ordinary tokens each.
 */
export function chatmlTemplate(): ChatTemplate {
  return {
    name: 'chatml',
    render(messages, opts = {}) {
      const turns = messages.map((m) => `<|im_start|>${m.role}\n${m.content}<|im_end|>\n`);
      return turns.join('') + (opts.addGenerationPrompt ? '<|im_start|>assistant\n' : '');
    },
  };
}

/** Variables a Jinja chat template may read besides `messages` and `add_generation_prompt`. */
export interface JinjaVars {
  bos_token?: string;
  eos_token?: string;
  [name: string]: unknown;
}

/**
 * A chat template from Jinja source (HF `chat_template` syntax, rendered by @huggingface/jinja).
 * The template sees `messages`, `add_generation_prompt` and every entry of `vars`.
 *
 *   const t = jinjaTemplate("{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}");
 *   t.render([{ role: 'user', content: 'hi' }])   // → 'user: hi\n'
 *
 * `where` names the template's origin in error messages (default 'inline template'). A template
 * that does not parse, or throws while rendering (e.g. `raise_exception`), is a TEMPLATE_INVALID.
 */
export function jinjaTemplate(source: string, vars: JinjaVars = {}, where = 'inline template'): ChatTemplate {
  const compiled = parseJinja(source, where);
  const template: ChatTemplate = {
    name: where,
    render(messages, opts = {}) {
      return renderJinja(compiled, { ...vars, messages, add_generation_prompt: opts.addGenerationPrompt ?? false }, where);
    },
  };
  if (typeof vars.eos_token === 'string') template.eosToken = vars.eos_token;
  return template;
}

function parseJinja(source: string, where: string): Template {
  if (typeof source !== 'string' || source.length === 0) {
    throw new TrainError('TEMPLATE_INVALID', `${where}: the chat template must be a non-empty string of Jinja source.`);
  }
  try {
    return new Template(source);
  } catch (e) {
    throw new TrainError(
      'TEMPLATE_INVALID',
      `${where}: the chat template does not parse: ${(e as Error).message}. Fix its Jinja syntax (HF chat_template rules).`,
      { cause: e },
    );
  }
}

function renderJinja(compiled: Template, context: Record<string, unknown>, where: string): string {
  const count = (context.messages as unknown[]).length;
  try {
    return compiled.render(context);
  } catch (e) {
    throw new TrainError(
      'TEMPLATE_INVALID',
      `${where}: the chat template failed to render ${count} message(s): ${(e as Error).message}. ` +
        `Check the roles and order it expects (many templates require user/assistant alternation).`,
      { cause: e },
    );
  }
}

/**
 * The chat template of a Hugging Face `tokenizer_config.json`: its `chat_template` (a string, or
 * HF's list of `{ name, template }`, from which `name` — default 'default' — is taken), rendered with
 * the file's `bos_token`, `eos_token`, `unk_token` and `pad_token` (each a string or `{ content }`).
 *
 *   const t = await loadHfChatTemplate('models/zephyr/tokenizer_config.json');
 *   t.render(messages, { addGenerationPrompt: true })   // '<|user|>\nhi</s>\n<|assistant|>\n'
 *
 * Missing file → DATA_MISSING; bad JSON, no template or a broken one → TEMPLATE_INVALID naming the file.
 */
export async function loadHfChatTemplate(tokenizerConfigPath: string, name = 'default'): Promise<ChatTemplate> {
  const config = await readJsonObject(tokenizerConfigPath);
  const source = pickTemplateSource(config.chat_template, tokenizerConfigPath, name);
  const where = name === 'default' ? tokenizerConfigPath : `${tokenizerConfigPath} (template "${name}")`;
  return jinjaTemplate(source, tokenVars(config, tokenizerConfigPath), where);
}

async function readJsonObject(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new TrainError('DATA_MISSING', `${path}: cannot read the tokenizer config (${(e as Error).message}). Check the path.`, { cause: e });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new TrainError('TEMPLATE_INVALID', `${path}: not valid JSON (${(e as Error).message}). Fix or re-download the file.`, { cause: e });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TrainError('TEMPLATE_INVALID', `${path}: expected a JSON object (a tokenizer_config.json), got ${describe(value)}.`);
  }
  return value as Record<string, unknown>;
}

/** `chat_template` as a string, or the entry called `name` of HF's list-of-{name, template} form. */
function pickTemplateSource(field: unknown, path: string, name: string): string {
  if (typeof field === 'string') return field;
  if (Array.isArray(field)) {
    const named = field.filter((e): e is { name: string; template: string } => isNamedTemplate(e));
    const hit = named.find((e) => e.name === name);
    if (hit) return hit.template;
    const known = named.map((e) => JSON.stringify(e.name)).join(', ') || 'none';
    throw new TrainError('TEMPLATE_INVALID', `${path}: field "chat_template" has no template named "${name}" (found: ${known}). Pass one of those names.`);
  }
  if (field === undefined) {
    throw new TrainError('TEMPLATE_INVALID', `${path}: no field "chat_template". Use a chat model's tokenizer_config.json, or pass a template (chatmlTemplate() or jinjaTemplate(source)).`);
  }
  throw new TrainError('TEMPLATE_INVALID', `${path}: field "chat_template" must be a string or a list of { name, template }, got ${describe(field)}.`);
}

function isNamedTemplate(e: unknown): boolean {
  const r = e as Record<string, unknown> | null;
  return r !== null && typeof r === 'object' && typeof r.name === 'string' && typeof r.template === 'string';
}

/** bos/eos/unk/pad tokens of a tokenizer config, each a string or an AddedToken `{ content }`. */
function tokenVars(config: Record<string, unknown>, path: string): JinjaVars {
  const vars: JinjaVars = {};
  for (const key of ['bos_token', 'eos_token', 'unk_token', 'pad_token']) {
    const v = config[key];
    if (v === undefined || v === null) continue;
    if (typeof v === 'string') vars[key] = v;
    else if (typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string') vars[key] = (v as { content: string }).content;
    else throw new TrainError('TEMPLATE_INVALID', `${path}: field "${key}" must be a string or { "content": string }, got ${describe(v)}.`);
  }
  return vars;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `${typeof v} ${JSON.stringify(v)}`;
}

/** A piece of a rendered conversation: `train` marks text the model must learn to produce. */
export interface Segment {
  text: string;
  train: boolean;
  /** Index of the message this piece belongs to (a generation-prompt header belongs to its assistant turn). */
  message: number;
}

/**
 * Cuts `template.render(messages)` into pieces by rendering growing prefixes of the conversation.
 * For message i: the text added by messages[:i+1] over messages[:i]; for an assistant message that
 * text is split at the generation prompt — the header (`<|im_start|>assistant\n`) is not trained,
 * the rest (content + the turn's end marker, `<|im_end|>\n`) is.
 *
 *   renderSegments(chatmlTemplate(), [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'yo' }])
 *     // → [{ text: '<|im_start|>user\nhi<|im_end|>\n', train: false, message: 0 },
 *     //    { text: '<|im_start|>assistant\n', train: false, message: 1 },
 *     //    { text: 'yo<|im_end|>\n', train: true, message: 1 }]
 *
 * The pieces always concatenate to the full render. A template whose render of a prefix is not a
 * prefix of the longer render (it rewrites earlier turns, e.g. strips past reasoning) cannot be
 * cut this way: TEMPLATE_INVALID.
 */
export function renderSegments(template: ChatTemplate, messages: ChatMessage[]): Segment[] {
  const segments: Segment[] = [];
  let done = ''; // the render of the messages handled so far
  messages.forEach((m, i) => {
    if (m.role === 'assistant') {
      const header = template.render(messages.slice(0, i), { addGenerationPrompt: true });
      segments.push({ text: extend(done, header, template, i, 'with the generation prompt'), train: false, message: i });
      done = header;
    }
    const next = template.render(messages.slice(0, i + 1));
    segments.push({ text: extend(done, next, template, i + 1, 'without the generation prompt'), train: m.role === 'assistant', message: i });
    done = next;
  });
  return segments.filter((s) => s.text.length > 0);
}

/** `longer` minus its prefix `shorter`, or TEMPLATE_INVALID when `shorter` is not a prefix. */
function extend(shorter: string, longer: string, template: ChatTemplate, count: number, how: string): string {
  if (longer.startsWith(shorter)) return longer.slice(shorter.length);
  let k = 0;
  while (k < shorter.length && shorter[k] === longer[k]) k++;
  throw new TrainError(
    'TEMPLATE_INVALID',
    `${template.name}: rendering the first ${count} message(s) ${how} does not extend the render of the earlier ones ` +
      `(they differ at character ${k}: ${JSON.stringify(shorter.slice(k, k + 30))} vs ${JSON.stringify(longer.slice(k, k + 30))}). ` +
      `The template rewrites earlier turns depending on later ones, so assistant turns cannot be located; ` +
      `use a template whose render of a conversation prefix is a prefix of the full render.`,
  );
}
