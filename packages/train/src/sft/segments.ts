/**
 * Where the assistant turns of a rendered conversation lie, so SFT can label them without
 * searching token ids for markers (see examples.ts). Templates come from @llm/tokenizer-bpe.
 *
 *   renderSegments(chatmlTemplate(), [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'yo' }])
 *     // → [{ text: '<|im_start|>user\nhi<|im_end|>\n', train: false, message: 0 },
 *     //    { text: '<|im_start|>assistant\n', train: false, message: 1 },
 *     //    { text: 'yo<|im_end|>\n', train: true, message: 1 }]
 */
import { applyChatTemplate, type ChatMessage, type ChatTemplate } from '@llm/tokenizer-bpe';
import { TrainError } from '../errors.js';

/** A piece of a rendered conversation: `train` marks text the model must learn to produce. */
export interface Segment {
  text: string;
  train: boolean;
  /** Index of the message this piece belongs to (a generation-prompt header belongs to its assistant turn). */
  message: number;
}

/**
 * Cuts `applyChatTemplate(messages, { template })` into pieces by rendering growing prefixes of the
 * conversation. For message i: the text added by messages[:i+1] over messages[:i]; for an assistant
 * message that text is split at the generation prompt — the header (`<|im_start|>assistant\n`) is not
 * trained, the rest (content + the turn's end marker, `<|im_end|>\n`) is.
 *
 * The pieces always concatenate to the full render. A template whose render of a prefix is not a
 * prefix of the longer render (it rewrites earlier turns, e.g. strips past reasoning) cannot be
 * cut this way: TEMPLATE_INVALID. Errors of the template itself are @llm/tokenizer-bpe's TokenizerErrors.
 */
export function renderSegments(template: ChatTemplate, messages: ChatMessage[]): Segment[] {
  const render = (count: number, addGenerationPrompt: boolean) => applyChatTemplate(messages.slice(0, count), { template, addGenerationPrompt });
  const segments: Segment[] = [];
  let done = ''; // the render of the messages handled so far
  messages.forEach((m, i) => {
    if (m.role === 'assistant') {
      const header = render(i, true);
      segments.push({ text: extend(done, header, template, i, 'with the generation prompt'), train: false, message: i });
      done = header;
    }
    const next = render(i + 1, false);
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
