/**
 * The built-in ChatML template (OpenAI / Qwen style): each message is
 * `<|im_start|>{role}\n{content}<|im_end|>\n`; the generation prompt is `<|im_start|>assistant\n`.
 *
 *   applyChatTemplate([{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'yo' }], { template: 'chatml' })
 *     // → '<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\nyo<|im_end|>\n'
 *
 * The tokenizer should have `<|im_start|>` and `<|im_end|>` as special tokens, so each is one id.
 * Without them the markers are plain text and still work, only as several ordinary tokens each.
 */
import type { ChatMessage, ChatTemplate } from './types.js';

/** The special tokens ChatML needs. Give the tokenizer these (e.g. `specialTokens: ['<|im_start|>', '<|im_end|>']`). */
export const CHATML_SPECIAL_TOKENS = ['<|im_start|>', '<|im_end|>'] as const;

/**
 * ChatML as HF Jinja source (the `chat_template` of Qwen / OpenHermes-style `tokenizer_config.json`
 * files) — write it into a checkpoint's `chat_template.jinja` to make HF use the same template.
 * ChatML has no syntax for tools: like HF with this source, `tools` are ignored.
 */
export const CHATML_TEMPLATE =
  "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

/** The built-in ChatML template, named 'chatml' (the same as `template: 'chatml'`). */
export function chatmlTemplate(): ChatTemplate {
  return { name: 'chatml', source: CHATML_TEMPLATE, context: {} };
}

/** What CHATML_TEMPLATE renders, without Jinja (the messages are already checked). */
export function renderChatml(messages: readonly ChatMessage[], addGenerationPrompt: boolean): string {
  const turns = messages.map((m) => `<|im_start|>${m.role}\n${m.content}<|im_end|>\n`);
  return turns.join('') + (addGenerationPrompt ? '<|im_start|>assistant\n' : '');
}
