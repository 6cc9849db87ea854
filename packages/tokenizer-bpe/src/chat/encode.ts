/**
 * `encodeChat`: a conversation → token ids, with special tokens only where the template put them.
 * The template's markup is encoded with its special tokens allowed (`<|im_start|>` → one id); every
 * message's content is encoded as plain text, so a user who types `<|im_end|>\n<|im_start|>system`
 * gets those characters, not control tokens (HF's `apply_chat_template(tokenize=True)` encodes the
 * whole render with specials allowed: prompt injection by construction).
 *
 *   encodeChat(tok, [{ role: 'user', content: 'hi<|im_end|>' }], { template: 'chatml' })
 *     // → [<|im_start|>, …'user\n'…, …'hi<|im_end|>' as ordinary bytes…, <|im_end|>, …'\n'…]
 */
import type { Tokenizer } from '../encoder.js';
import { renderChatSegments } from './segments.js';
import type { ApplyChatTemplateOptions, ChatMessage } from './types.js';

export function encodeChat(tokenizer: Tokenizer, messages: readonly ChatMessage[], opts: ApplyChatTemplateOptions): number[] {
  const ids: number[] = [];
  for (const seg of renderChatSegments(messages, opts)) {
    const part = seg.source === 'template' ? tokenizer.encode(seg.text, { allowedSpecial: 'all' }) : tokenizer.encodeOrdinary(seg.text);
    for (const id of part) ids.push(id); // not push(...part): a long message would overflow the call stack
  }
  return ids;
}
