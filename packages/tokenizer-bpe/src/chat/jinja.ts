/**
 * Jinja for chat templates through @huggingface/jinja, which parses with HF's settings
 * (`trim_blocks`, `lstrip_blocks`) and provides `raise_exception` and `strftime_now`.
 * Compiled templates are cached by source, so rendering many conversations parses once.
 * Templates are untrusted code: rendering runs within a budget (see budget.ts and limits.ts).
 *
 *   renderJinja('{{ messages[0].content }}!', 'inline template', { messages: [{ role: 'user', content: 'hi' }] })   // 'hi!'
 */
import { Template } from '@huggingface/jinja';
import { TokenizerError } from '../errors.js';
import { TOKENIZER_LIMITS, type TokenizerLimits, limitExceeded } from '../limits.js';
import { type TemplatePlan, planTemplate, renderWithBudget } from './budget.js';

const CACHE_SIZE = 32;
const compiled = new Map<string, { template: Template; plan: TemplatePlan }>();

function isStackOverflow(e: unknown): boolean {
  return e instanceof RangeError && /call stack/i.test(e.message);
}

/**
 * The parsed template for `source` and its budget plan; TEMPLATE_INVALID (naming `name`) when it
 * is empty or does not parse, LIMIT_EXCEEDED when longer than `maxTemplateLength`, TEMPLATE_UNSAFE
 * for constructs the budget cannot watch (see budget.ts).
 */
export function compileJinja(source: string, name: string, limits: TokenizerLimits = TOKENIZER_LIMITS): { template: Template; plan: TemplatePlan } {
  const hit = compiled.get(source);
  if (hit) return hit;
  if (typeof source !== 'string' || source.length === 0) {
    throw new TokenizerError('TEMPLATE_INVALID', `${name}: the chat template must be a non-empty string of Jinja source.`);
  }
  if (source.length > limits.maxTemplateLength) {
    throw limitExceeded(`${name}: the chat template has ${source.length} characters`, limits.maxTemplateLength, 'maxTemplateLength');
  }
  let template: Template;
  try {
    template = new Template(source);
  } catch (e) {
    const why = isStackOverflow(e) ? 'it nests too deeply' : (e as Error).message;
    throw new TokenizerError(
      'TEMPLATE_INVALID',
      `${name}: the chat template does not parse: ${why}. Fix its Jinja syntax (HF chat_template rules).`,
      { cause: e },
    );
  }
  const entry = { template, plan: planTemplate(template.parsed, name) };
  if (compiled.size >= CACHE_SIZE) compiled.delete(compiled.keys().next().value as string);
  compiled.set(source, entry);
  return entry;
}

/**
 * Renders `source` with `context` (which holds `messages`) within the budget of `limits`: a failure
 * while rendering is TEMPLATE_INVALID, going over the budget TEMPLATE_BUDGET.
 */
export function renderJinja(source: string, name: string, context: Record<string, unknown>, limits: TokenizerLimits = TOKENIZER_LIMITS): string {
  const { template, plan } = compileJinja(source, name, limits);
  try {
    return renderWithBudget(template, plan, context, limits, name);
  } catch (e) {
    if (e instanceof TokenizerError) throw e;
    if (isStackOverflow(e)) {
      throw new TokenizerError('TEMPLATE_BUDGET', `${name}: the chat template nests too deeply while rendering (the stack overflowed). Chat templates are untrusted code.`, { cause: e });
    }
    const count = Array.isArray(context.messages) ? context.messages.length : 0;
    throw new TokenizerError(
      'TEMPLATE_INVALID',
      `${name}: the chat template failed to render ${count} message(s): ${(e as Error).message}. ` +
        `Check the roles and order it expects (many templates require user/assistant alternation).`,
      { cause: e },
    );
  }
}
