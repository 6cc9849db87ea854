// renderSegments: assistant turns located in renders of @llm/tokenizer-bpe's templates (ChatML, and a
// Llama-2-style template without a generation prompt), and templates that rewrite earlier turns.
import { describe, expect, it } from 'vitest';
import { chatmlTemplate, jinjaChatTemplate, type ChatMessage } from '@llm/tokenizer-bpe';
import { renderSegments } from './segments.js';
import { expectTrainError } from '../testing/sft-helpers.js';

const chat: ChatMessage[] = [
  { role: 'system', content: 'Be terse.' },
  { role: 'user', content: '2+2?' },
  { role: 'assistant', content: '4.' },
  { role: 'user', content: 'Sure?' },
  { role: 'assistant', content: 'Yes.' },
];

describe('renderSegments', () => {
  it('cuts ChatML into headers (untrained) and assistant content + end marker (trained)', () => {
    expect(renderSegments(chatmlTemplate(), chat)).toEqual([
      { text: '<|im_start|>system\nBe terse.<|im_end|>\n', train: false, message: 0 },
      { text: '<|im_start|>user\n2+2?<|im_end|>\n', train: false, message: 1 },
      { text: '<|im_start|>assistant\n', train: false, message: 2 },
      { text: '4.<|im_end|>\n', train: true, message: 2 },
      { text: '<|im_start|>user\nSure?<|im_end|>\n', train: false, message: 3 },
      { text: '<|im_start|>assistant\n', train: false, message: 4 },
      { text: 'Yes.<|im_end|>\n', train: true, message: 4 },
    ]);
  });

  it('cuts a Llama-2-style template (no generation prompt, system folded into the first user turn)', () => {
    const t = jinjaChatTemplate(
      "{% set sys = messages[0].content + '\\n' if messages[0].role == 'system' else '' %}{% for m in messages %}" +
        "{% if m.role == 'user' %}{{ bos_token + '[INST] ' + (sys if loop.index0 == 1 else '') + m.content + ' [/INST]' }}" +
        "{% elif m.role == 'assistant' %}{{ ' ' + m.content + ' ' + eos_token }}{% endif %}{% endfor %}",
      { context: { bos_token: '<s>', eos_token: '</s>' } },
    );
    expect(renderSegments(t, chat.slice(0, 3))).toEqual([
      { text: '<s>[INST] Be terse.\n2+2? [/INST]', train: false, message: 1 },
      { text: ' 4. </s>', train: true, message: 2 },
    ]);
  });

  it('rejects a template that rewrites earlier turns (TEMPLATE_INVALID)', async () => {
    const t = jinjaChatTemplate('{% for m in messages %}{{ m.content }}{% if loop.last %}<END>{% endif %}{% endfor %}', { name: 'last-marker' });
    await expectTrainError(() => renderSegments(t, chat.slice(1, 3)), 'TEMPLATE_INVALID', /^last-marker:/, /differ at character 4/, /"<END>"/);
  });
});
