/**
 * `applyChatTemplate`: a conversation → the one string a chat model reads, exactly as HF's
 * `tokenizer.apply_chat_template(messages, tokenize=False, …)` renders it.
 *
 *   applyChatTemplate([{ role: 'user', content: 'hi' }], { template: 'chatml', addGenerationPrompt: true })
 *     // → '<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n'
 */
import { resolveLimits } from '../limits.js';
import { CHATML_TEMPLATE, renderChatml } from './chatml.js';
import { checkFlag, checkMessages, checkObjectList, checkVariableDepth } from './checks.js';
import { renderJinja } from './jinja.js';
import { selectTemplate } from './template.js';
import type { ApplyChatTemplateOptions, ChatMessage } from './types.js';

/**
 * Renders `messages` with `opts.template`. The template sees what HF passes: `messages`, `tools`,
 * `documents` (null when not given), `add_generation_prompt`, the template's context (a checkpoint's
 * `bos_token`, `eos_token`, … ) and every other key of `opts` (which win over the context).
 *
 *   const t = await loadChatTemplate('models/zephyr');
 *   applyChatTemplate([{ role: 'user', content: 'hi' }], { template: t, addGenerationPrompt: true })
 *     // → '<|user|>\nhi</s>\n<|assistant|>\n'
 *
 * Errors (TokenizerError): bad messages or options → INVALID_ARGUMENT naming the field; no template
 * or an unknown built-in name → TEMPLATE_MISSING; a template that does not parse or fails while
 * rendering (e.g. its `raise_exception` on a wrong role order) → TEMPLATE_INVALID naming the template.
 * A template is untrusted code and renders within the budget of `opts.limits` (TOKENIZER_LIMITS:
 * maxTemplateSteps, maxTemplateOutput, maxTemplateDepth): TEMPLATE_BUDGET past it, TEMPLATE_UNSAFE
 * for constructs it refuses up front; variables nested deeper than maxJsonDepth are LIMIT_EXCEEDED.
 */
export function applyChatTemplate(messages: readonly ChatMessage[], opts: ApplyChatTemplateOptions): string {
  const { template, addGenerationPrompt, tools = null, documents = null, limits: overrides, ...extra } = opts ?? ({} as ApplyChatTemplateOptions);
  const limits = resolveLimits(overrides);
  checkMessages(messages);
  checkObjectList(tools, 'tools');
  checkObjectList(documents, 'documents');
  const addPrompt = checkFlag(addGenerationPrompt, 'addGenerationPrompt');
  const chosen = selectTemplate(template, tools !== null, limits);
  if (chosen.source === CHATML_TEMPLATE) return renderChatml(messages, addPrompt); // the same text, without Jinja
  const vars = { ...chosen.context, ...extra, messages, tools, documents, add_generation_prompt: addPrompt };
  checkVariableDepth(vars, limits);
  return renderJinja(chosen.source, chosen.name, vars, limits);
}
