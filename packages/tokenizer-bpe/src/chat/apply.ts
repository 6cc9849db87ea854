/**
 * `applyChatTemplate`: a conversation → the one string a chat model reads, exactly as HF's
 * `tokenizer.apply_chat_template(messages, tokenize=False, …)` renders it.
 *
 *   applyChatTemplate([{ role: 'user', content: 'hi' }], { template: 'chatml', addGenerationPrompt: true })
 *     // → '<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n'
 */
import { CHATML_TEMPLATE, renderChatml } from './chatml.js';
import { checkFlag, checkMessages, checkObjectList } from './checks.js';
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
 */
export function applyChatTemplate(messages: readonly ChatMessage[], opts: ApplyChatTemplateOptions): string {
  const { template, addGenerationPrompt, tools = null, documents = null, ...extra } = opts ?? ({} as ApplyChatTemplateOptions);
  checkMessages(messages);
  checkObjectList(tools, 'tools');
  checkObjectList(documents, 'documents');
  const addPrompt = checkFlag(addGenerationPrompt, 'addGenerationPrompt');
  const chosen = selectTemplate(template, tools !== null);
  if (chosen.source === CHATML_TEMPLATE) return renderChatml(messages, addPrompt); // the same text, without Jinja
  return renderJinja(chosen.source, chosen.name, {
    ...chosen.context,
    ...extra,
    messages,
    tools,
    documents,
    add_generation_prompt: addPrompt,
  });
}
