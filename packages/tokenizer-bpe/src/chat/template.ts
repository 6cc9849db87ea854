/**
 * Making chat templates from Jinja source, and choosing the one a render uses.
 *
 *   const t = jinjaChatTemplate("{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}");
 *   applyChatTemplate([{ role: 'user', content: 'hi' }], { template: t })   // 'user: hi\n'
 */
import { TokenizerError } from '../errors.js';
import { type TokenizerLimits, resolveLimits } from '../limits.js';
import { chatmlTemplate } from './chatml.js';
import { compileJinja } from './jinja.js';
import type { ChatTemplate } from './types.js';

/** Options of `jinjaChatTemplate`. */
export interface JinjaChatTemplateOptions {
  /** Names the template in error messages. Default 'inline template'. */
  name?: string;
  /** Variables the template reads besides the conversation, e.g. `{ bos_token: '<s>', eos_token: '</s>' }`. */
  context?: Record<string, unknown>;
  /** Overrides of TOKENIZER_LIMITS (maxTemplateLength for the source). */
  limits?: Partial<TokenizerLimits>;
}

/**
 * A chat template from Jinja source (HF `chat_template` syntax, rendered by @huggingface/jinja).
 * The source is parsed now: one that does not parse is a TEMPLATE_INVALID naming `opts.name`; one
 * longer than maxTemplateLength LIMIT_EXCEEDED; one using constructs the render budget cannot watch
 * TEMPLATE_UNSAFE.
 *
 *   const zephyr = jinjaChatTemplate(source, { name: 'zephyr', context: { eos_token: '</s>' } });
 */
export function jinjaChatTemplate(source: string, opts: JinjaChatTemplateOptions = {}): ChatTemplate {
  const name = opts.name ?? 'inline template';
  compileJinja(source, name, resolveLimits(opts.limits));
  return { name, source, context: { ...opts.context } };
}

/** Built-in templates by name (what `template: 'chatml'` means). */
const BUILT_IN: Readonly<Record<string, () => ChatTemplate>> = { chatml: chatmlTemplate };

/**
 * The template a render uses: a built-in by name, Jinja source, or a ChatTemplate — whose
 * `tool_use` variant replaces it when tools are given (HF's `get_chat_template`).
 */
export function selectTemplate(
  template: ChatTemplate | string | undefined,
  withTools: boolean,
  limits?: TokenizerLimits,
): ChatTemplate {
  if (typeof template === 'string') {
    const builtIn = BUILT_IN[template];
    if (builtIn) return builtIn();
    if (/^[\w.-]+$/.test(template)) {
      throw new TokenizerError(
        'TEMPLATE_MISSING',
        `no built-in chat template named "${template}" (built in: ${Object.keys(BUILT_IN).join(', ')}). ` +
          `Pass Jinja source, or a template from loadChatTemplate(checkpointDir).`,
      );
    }
    return jinjaChatTemplate(template, { limits });
  }
  if (template === undefined || template === null) {
    throw new TokenizerError(
      'TEMPLATE_MISSING',
      `no chat template given: pass { template: 'chatml' }, Jinja source, or a template from loadChatTemplate(checkpointDir).`,
    );
  }
  if (typeof template !== 'object' || typeof template.source !== 'string' || typeof template.name !== 'string') {
    throw new TokenizerError('INVALID_ARGUMENT', `template must be a ChatTemplate ({ name, source, context }), a built-in name or Jinja source.`);
  }
  const toolUse = template.variants?.tool_use;
  return withTools && toolUse ? toolUse : template;
}
