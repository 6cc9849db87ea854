/**
 * Jinja for chat templates through @huggingface/jinja, which parses with HF's settings
 * (`trim_blocks`, `lstrip_blocks`) and provides `raise_exception` and `strftime_now`.
 * Compiled templates are cached by source, so rendering many conversations parses once.
 *
 *   renderJinja('{{ messages[0].content }}!', 'inline template', { messages: [{ role: 'user', content: 'hi' }] })   // 'hi!'
 */
import { Template } from '@huggingface/jinja';
import { TokenizerError } from '../errors.js';

const CACHE_SIZE = 32;
const compiled = new Map<string, Template>();

/** The parsed template for `source`; TEMPLATE_INVALID (naming `name`) when it is empty or does not parse. */
export function compileJinja(source: string, name: string): Template {
  const hit = compiled.get(source);
  if (hit) return hit;
  if (typeof source !== 'string' || source.length === 0) {
    throw new TokenizerError('TEMPLATE_INVALID', `${name}: the chat template must be a non-empty string of Jinja source.`);
  }
  let template: Template;
  try {
    template = new Template(source);
  } catch (e) {
    throw new TokenizerError(
      'TEMPLATE_INVALID',
      `${name}: the chat template does not parse: ${(e as Error).message}. Fix its Jinja syntax (HF chat_template rules).`,
      { cause: e },
    );
  }
  if (compiled.size >= CACHE_SIZE) compiled.delete(compiled.keys().next().value as string);
  compiled.set(source, template);
  return template;
}

/** Renders `source` with `context` (which holds `messages`); a failure while rendering is TEMPLATE_INVALID. */
export function renderJinja(source: string, name: string, context: Record<string, unknown>): string {
  const template = compileJinja(source, name);
  try {
    return template.render(context);
  } catch (e) {
    const count = Array.isArray(context.messages) ? context.messages.length : 0;
    throw new TokenizerError(
      'TEMPLATE_INVALID',
      `${name}: the chat template failed to render ${count} message(s): ${(e as Error).message}. ` +
        `Check the roles and order it expects (many templates require user/assistant alternation).`,
      { cause: e },
    );
  }
}
