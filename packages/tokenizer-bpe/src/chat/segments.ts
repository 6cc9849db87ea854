/**
 * `renderChatSegments`: applyChatTemplate's output cut into the template's own markup and the
 * messages' content, so an encoder can turn markup into special tokens while encoding content as
 * plain text (a user who types `<|im_end|>` must not end the turn).
 *
 *   renderChatSegments([{ role: 'user', content: 'hi<|im_end|>' }], { template: 'chatml' })
 *     // → [{ text: '<|im_start|>user\n', source: 'template' },
 *     //    { text: 'hi<|im_end|>', source: 'content', message: 0 },
 *     //    { text: '<|im_end|>\n', source: 'template' }]
 *
 * How: the conversation is rendered a second time with each message's content replaced by a unique
 * sentinel; the text between sentinels is the template's, and each sentinel's place is matched
 * against the real render (content as given, trimmed — templates often `strip()` it — or
 * JSON-escaped by `tojson`). The segments always concatenate to `applyChatTemplate(messages, opts)`.
 * Only `content` is located: other message fields (tool calls, names) count as template text.
 */
import { TokenizerError } from '../errors.js';
import { applyChatTemplate } from './apply.js';
import type { ApplyChatTemplateOptions, ChatMessage, ChatSegment } from './types.js';

const OPEN = '\u27e6'; // ⟦ and ⟧: no case, untouched by strip/trim/tojson
const CLOSE = '\u27e7';

/**
 * The render of `messages` as `template` and `content` segments (empty ones left out).
 * A template that rewrites or branches on content so that it cannot be located (e.g. it keeps only
 * the text after `</think>`) is UNSUPPORTED; other errors are applyChatTemplate's.
 */
export function renderChatSegments(messages: readonly ChatMessage[], opts: ApplyChatTemplateOptions): ChatSegment[] {
  const real = applyChatTemplate(messages, opts);
  const nonce = unusedNonce(real);
  // empty content stays empty: templates test it (`{% if message.content %}`) and it adds no text
  const masked = messages.map((m, i) => ({ ...m, content: m.content === '' ? '' : `${OPEN}${nonce}:${i}${CLOSE}` }));
  // [template, message index, template, message index, …, template]
  const parts = applyChatTemplate(masked, opts).split(new RegExp(`${OPEN}${nonce}:(\\d+)${CLOSE}`, 'u'));
  const segments: ChatSegment[] = [];
  let at = 0;
  for (let k = 0; k < parts.length; k += 2) {
    const markup = parts[k]!;
    if (!real.startsWith(markup, at)) throw unlocatable(opts, real, at, 'the template text around it');
    segments.push({ text: markup, source: 'template' });
    at += markup.length;
    if (k + 1 === parts.length) break;
    const message = Number(parts[k + 1]);
    const next = parts[k + 2]!;
    const text = renderedForms(messages[message]!.content).find((c) => real.startsWith(c, at) && real.startsWith(next, at + c.length));
    if (text === undefined) throw unlocatable(opts, real, at, `the content of messages[${message}]`);
    segments.push({ text, source: 'content', message });
    at += text.length;
  }
  if (at !== real.length) throw unlocatable(opts, real, at, 'the end of the render');
  return segments.filter((s) => s.text.length > 0);
}

/** The smallest n such that the render holds no `⟦n:`, found in one pass (not one search per candidate). */
function unusedNonce(real: string): number {
  const used = new Set<number>();
  for (let at = real.indexOf(OPEN); at >= 0; at = real.indexOf(OPEN, at + 1)) {
    const m = /^(\d{1,9}):/.exec(real.slice(at + 1, at + 12));
    if (m) used.add(Number(m[1]));
  }
  let nonce = 0;
  while (used.has(nonce)) nonce++;
  return nonce;
}

/** How a template may have written `content`: as is, trimmed at either or both ends, or JSON-escaped. */
function renderedForms(content: string): string[] {
  return [...new Set([content, content.trim(), content.trimStart(), content.trimEnd(), JSON.stringify(content).slice(1, -1)])];
}

function unlocatable(opts: ApplyChatTemplateOptions, real: string, at: number, what: string): TokenizerError {
  const name = typeof opts.template === 'object' && opts.template !== null ? opts.template.name : 'the chat template';
  return new TokenizerError(
    'UNSUPPORTED',
    `${name}: cannot split the render into template text and message content: ${what} does not match the render at character ${at} ` +
      `(${JSON.stringify(real.slice(at, at + 30))}). The template changes or branches on message content, so the content cannot be located.`,
  );
}
