/**
 * Loading a checkpoint's chat template the way HF transformers does.
 *
 *   const t = await loadChatTemplate('models/qwen');   // chat_template.jinja, else tokenizer_config.json's chat_template
 *   applyChatTemplate(messages, { template: t, addGenerationPrompt: true });
 *
 * Where the template comes from, for a checkpoint directory (HF's precedence): `chat_template.jinja`
 * (HF's newer layout, its "default" template) and `additional_chat_templates/<name>.jinja` when either
 * exists — they replace any `chat_template` in `tokenizer_config.json`; otherwise that field, a string
 * or HF's list of `{ name, template }`. The template variables are `tokenizer_config.json`'s special
 * tokens (`bos_token`, `eos_token`, `unk_token`, `sep_token`, `pad_token`, `cls_token`, `mask_token`,
 * each a string or `{ content }`, and `additional_special_tokens`), as HF's `special_tokens_map`.
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { TokenizerError } from '../errors.js';
import { checkCount } from '../formats/size-checks.js';
import { type TokenizerLimits, parseJsonLimited, readTextFileLimited, resolveLimits } from '../limits.js';
import { kind } from './checks.js';
import { jinjaChatTemplate } from './template.js';
import type { ChatTemplate } from './types.js';

/** Options of `loadChatTemplate`. */
export interface LoadChatTemplateOptions {
  /**
   * Which of several named templates to use (HF's list form, or `additional_chat_templates/`).
   * Default: "default", with the others kept as `variants` (so `tool_use` is picked when tools are given).
   */
  name?: string;
  /** Overrides of TOKENIZER_LIMITS (maxFileBytes, maxJsonDepth, maxTemplateLength, maxChatTemplates). */
  limits?: Partial<TokenizerLimits>;
}

const CONFIG = 'tokenizer_config.json';
const JINJA = 'chat_template.jinja';
const MORE_JINJA = 'additional_chat_templates';

/**
 * The chat template at `path`: a checkpoint directory, a `tokenizer_config.json` (its `chat_template`
 * field), or a `.jinja` file (with the special tokens of the `tokenizer_config.json` beside it, if any).
 *
 *   await loadChatTemplate('ckpt')                                   // HF's precedence (above)
 *   await loadChatTemplate('ckpt/tokenizer_config.json', { name: 'tool_use' })
 *
 * Errors (TokenizerError): nothing at `path`, no template there, or no template called `name` →
 * TEMPLATE_MISSING; bad JSON or fields → INVALID_FORMAT; Jinja that does not parse → TEMPLATE_INVALID.
 * Each names the file. The files are untrusted input: only regular files are read, at most
 * maxFileBytes each (LIMIT_EXCEEDED), JSON nested at most maxJsonDepth; the templates themselves
 * render within a budget (see applyChatTemplate).
 */
export async function loadChatTemplate(path: string, opts: LoadChatTemplateOptions = {}): Promise<ChatTemplate> {
  const limits = resolveLimits(opts.limits);
  const info = await stat(path).catch((e: Error) => {
    throw new TokenizerError('TEMPLATE_MISSING', `${path}: cannot read it (${e.message}). Pass a checkpoint directory, its ${CONFIG} or a .jinja file.`, { cause: e });
  });
  if (info.isDirectory()) {
    const configPath = join(path, CONFIG);
    const config = (await isFile(configPath)) ? await readConfig(configPath, limits) : undefined;
    const context = specialTokens(config ?? {}, configPath);
    const files = await jinjaFiles(path);
    checkCount(Object.keys(files).length, 'chat templates', path, limits.maxChatTemplates, 'maxChatTemplates');
    if (Object.keys(files).length > 0) return fromSources(await readAll(files, limits), context, { dir: path, files }, opts.name, limits);
    const missing = `${path}: no chat template (no ${JINJA}, and ${config ? `${CONFIG} has no "chat_template"` : `no ${CONFIG}`})`;
    return fromSources(configSources(config ?? {}, configPath, missing), context, configPath, opts.name, limits);
  }
  if (path.endsWith('.jinja')) {
    const configPath = join(dirname(path), CONFIG);
    const config = (await isFile(configPath)) ? await readConfig(configPath, limits) : {};
    const source = await readTextFileLimited(path, limits, 'chat template');
    return fromSources({ default: source }, specialTokens(config, configPath), path, opts.name, limits);
  }
  const config = await readConfig(path, limits);
  return fromSources(configSources(config, path, `${path}: no field "chat_template"`), specialTokens(config, path), path, opts.name, limits);
}

/** chat_template.jinja → "default", additional_chat_templates/x.jinja → "x" (paths, by name). */
async function jinjaFiles(dir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  if (await isFile(join(dir, JINJA))) files.default = join(dir, JINJA);
  const extra = await readdir(join(dir, MORE_JINJA)).catch(() => [] as string[]);
  for (const f of extra.filter((f) => f.endsWith('.jinja')).sort()) files[basename(f, '.jinja')] = join(dir, MORE_JINJA, f);
  return files;
}

async function readAll(files: Record<string, string>, limits: TokenizerLimits): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [name, file] of Object.entries(files)) out[name] = await readTextFileLimited(file, limits, 'chat template');
  return out;
}

async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null))?.isFile() ?? false;
}

async function readConfig(path: string, limits: TokenizerLimits): Promise<Record<string, unknown>> {
  const text = await readTextFileLimited(path, limits, 'tokenizer config').catch((e: Error) => {
    if (e instanceof TokenizerError) throw e;
    throw new TokenizerError('TEMPLATE_MISSING', `${path}: cannot read the tokenizer config (${e.message}). Check the path.`, { cause: e });
  });
  const value = parseJsonLimited(text, path, limits);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TokenizerError('INVALID_FORMAT', `${path}: expected a JSON object (a ${CONFIG}), got ${kind(value)}.`);
  }
  return value as Record<string, unknown>;
}

/** `chat_template` as name → source: a string is "default"; HF's list form gives each entry's name. */
function configSources(config: Record<string, unknown>, path: string, missing: string): Record<string, string> {
  const field = config.chat_template;
  if (typeof field === 'string') return { default: field };
  if (field === undefined || field === null) {
    throw new TokenizerError('TEMPLATE_MISSING', `${missing}. Use a chat model's checkpoint, or the built-in 'chatml'.`);
  }
  const named = Array.isArray(field) ? field.filter(isNamedTemplate) : [];
  if (!Array.isArray(field) || named.length !== field.length) {
    throw new TokenizerError('INVALID_FORMAT', `${path}: field "chat_template" must be a string or a list of { name, template }, got ${kind(field)}.`);
  }
  return Object.fromEntries(named.map((e) => [e.name, e.template]));
}

function isNamedTemplate(e: unknown): e is { name: string; template: string } {
  const r = e as Record<string, unknown> | null;
  return r !== null && typeof r === 'object' && typeof r.name === 'string' && typeof r.template === 'string';
}

/**
 * The template called `name`; without a name, "default" with the other templates as variants.
 * `where` is the file the sources came from, or the directory and each name's file.
 */
function fromSources(
  sources: Record<string, string>,
  context: Record<string, unknown>,
  where: string | { dir: string; files: Record<string, string> },
  name: string | undefined,
  limits: TokenizerLimits,
): ChatTemplate {
  const names = Object.keys(sources);
  checkCount(names.length, 'chat templates', typeof where === 'string' ? where : where.dir, limits.maxChatTemplates, 'maxChatTemplates');
  const label = (n: string) => (typeof where !== 'string' ? where.files[n]! : n === 'default' ? where : `${where} (template "${n}")`);
  const make = (n: string) => jinjaChatTemplate(sources[n]!, { name: label(n), context, limits });
  const origin = typeof where === 'string' ? where : where.dir;
  const found = names.map((n) => JSON.stringify(n)).join(', ');
  if (name !== undefined) {
    if (!(name in sources)) {
      throw new TokenizerError('TEMPLATE_MISSING', `${origin}: no chat template named "${name}" (found: ${found}). Pass one of those names.`);
    }
    return make(name);
  }
  if (!('default' in sources)) {
    throw new TokenizerError('TEMPLATE_MISSING', `${origin}: several chat templates and none named "default" (found: ${found}). Pass { name }.`);
  }
  const others = names.filter((n) => n !== 'default');
  const template = make('default');
  return others.length === 0 ? template : { ...template, variants: Object.fromEntries(others.map((n) => [n, make(n)])) };
}

const TOKEN_FIELDS = ['bos_token', 'eos_token', 'unk_token', 'sep_token', 'pad_token', 'cls_token', 'mask_token'];

/** HF's `special_tokens_map` from a tokenizer config: each token a string or an AddedToken `{ content }`. */
function specialTokens(config: Record<string, unknown>, path: string): Record<string, unknown> {
  const context: Record<string, unknown> = {};
  for (const key of TOKEN_FIELDS) {
    const v = config[key];
    if (v !== undefined && v !== null) context[key] = tokenText(v, path, `field "${key}"`);
  }
  const more = config.additional_special_tokens;
  if (Array.isArray(more)) context.additional_special_tokens = more.map((v, i) => tokenText(v, path, `additional_special_tokens[${i}]`));
  else if (more !== undefined && more !== null) throw new TokenizerError('INVALID_FORMAT', `${path}: field "additional_special_tokens" must be a list, got ${kind(more)}.`);
  return context;
}

function tokenText(v: unknown, path: string, field: string): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'object' && v !== null && typeof (v as { content?: unknown }).content === 'string') return (v as { content: string }).content;
  throw new TokenizerError('INVALID_FORMAT', `${path}: ${field} must be a string or { "content": string }, got ${kind(v)}.`);
}
