// Chat templates against hand-written renders: built-in ChatML, Jinja ChatML / Zephyr / Llama-2
// sources written here, HF tokenizer_config.json loading, segment cutting, and bad templates.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type ChatMessage, chatmlTemplate, jinjaTemplate, loadHfChatTemplate, renderSegments } from './template.js';
import { expectTrainError, tempDir } from '../testing/sft-helpers.js';

const conversation: ChatMessage[] = [
  { role: 'system', content: 'Be brief.' },
  { role: 'user', content: 'Hi!' },
  { role: 'assistant', content: 'Hello.' },
];

// HF's usual ChatML chat_template (as in Qwen/OpenHermes tokenizer_config.json files).
const CHATML_JINJA =
  "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

// Zephyr's chat_template (HuggingFaceH4/zephyr-7b-beta), newlines and all.
const ZEPHYR_JINJA = `{% for message in messages %}
{% if message['role'] == 'user' %}
{{ '<|user|>\\n' + message['content'] + eos_token }}
{% elif message['role'] == 'system' %}
{{ '<|system|>\\n' + message['content'] + eos_token }}
{% elif message['role'] == 'assistant' %}
{{ '<|assistant|>\\n'  + message['content'] + eos_token }}
{% endif %}
{% if loop.last and add_generation_prompt %}
{{ '<|assistant|>' }}
{% endif %}
{% endfor %}`;

// Llama-2-chat's chat_template: system folded into the first user turn, bos per user turn.
const LLAMA2_JINJA =
  "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}" +
  '{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}' +
  "{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}" +
  "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}" +
  "{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}" +
  "{% else %}{% set content = message['content'] %}{% endif %}" +
  "{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}" +
  "{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}";

describe('chatmlTemplate', () => {
  it('renders a 3-message conversation as hand-written', () => {
    expect(chatmlTemplate().render(conversation)).toBe(
      '<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi!<|im_end|>\n<|im_start|>assistant\nHello.<|im_end|>\n',
    );
  });

  it('appends the generation prompt only when asked', () => {
    const user = [{ role: 'user', content: 'Hi!' }];
    expect(chatmlTemplate().render(user, { addGenerationPrompt: true })).toBe('<|im_start|>user\nHi!<|im_end|>\n<|im_start|>assistant\n');
    expect(chatmlTemplate().render(user, { addGenerationPrompt: false })).toBe('<|im_start|>user\nHi!<|im_end|>\n');
    expect(chatmlTemplate().render([])).toBe('');
  });
});

describe('jinjaTemplate', () => {
  it('a Jinja ChatML source renders exactly like the built-in ChatML', () => {
    const jinja = jinjaTemplate(CHATML_JINJA);
    const builtin = chatmlTemplate();
    const cases: ChatMessage[][] = [[], conversation.slice(0, 1), conversation.slice(0, 2), conversation, [...conversation, { role: 'tool', content: '{"x": 1}\n' }]];
    for (const messages of cases) {
      for (const addGenerationPrompt of [false, true]) {
        expect(jinja.render(messages, { addGenerationPrompt })).toBe(builtin.render(messages, { addGenerationPrompt }));
      }
    }
  });

  it('renders a Zephyr-style template with eos_token as expected', () => {
    const t = jinjaTemplate(ZEPHYR_JINJA, { eos_token: '</s>' });
    expect(t.render(conversation)).toBe('<|system|>\nBe brief.</s>\n<|user|>\nHi!</s>\n<|assistant|>\nHello.</s>\n');
    expect(t.render(conversation.slice(0, 2), { addGenerationPrompt: true })).toBe('<|system|>\nBe brief.</s>\n<|user|>\nHi!</s>\n<|assistant|>\n');
    expect(t.eosToken).toBe('</s>');
  });

  it('renders a Llama-2-style template with bos/eos as expected', () => {
    const t = jinjaTemplate(LLAMA2_JINJA, { bos_token: '<s>', eos_token: '</s>' });
    const messages = [...conversation, { role: 'user', content: ' Again? ' }];
    expect(t.render(messages)).toBe('<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi! [/INST] Hello. </s><s>[INST] Again? [/INST]');
  });

  it('a template that does not parse is TEMPLATE_INVALID', async () => {
    await expectTrainError(() => jinjaTemplate('{% for m in messages %}{{ m.content }}'), 'TEMPLATE_INVALID', /inline template/, /does not parse/);
    await expectTrainError(() => jinjaTemplate(''), 'TEMPLATE_INVALID', /non-empty string/);
  });

  it('a template that fails while rendering (raise_exception) is TEMPLATE_INVALID', async () => {
    const t = jinjaTemplate(LLAMA2_JINJA, { bos_token: '<s>', eos_token: '</s>' }, 'llama2');
    const bad = [{ role: 'user', content: 'a' }, { role: 'user', content: 'b' }];
    await expectTrainError(() => t.render(bad), 'TEMPLATE_INVALID', /^llama2:/, /roles must alternate/);
  });
});

describe('loadHfChatTemplate', () => {
  const writeConfig = (config: unknown): string => {
    const path = join(tempDir(), 'tokenizer_config.json');
    writeFileSync(path, typeof config === 'string' ? config : JSON.stringify(config));
    return path;
  };

  it('reads chat_template and AddedToken-style bos/eos from tokenizer_config.json', async () => {
    const path = writeConfig({
      bos_token: { __type: 'AddedToken', content: '<s>', lstrip: false },
      eos_token: { __type: 'AddedToken', content: '</s>', lstrip: false },
      chat_template: LLAMA2_JINJA,
    });
    const t = await loadHfChatTemplate(path);
    expect(t.name).toBe(path);
    expect(t.render(conversation)).toBe('<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi! [/INST] Hello. </s>');
  });

  it('takes "default" from the list-of-{name, template} form, or the named one', async () => {
    const path = writeConfig({
      eos_token: '</s>',
      chat_template: [
        { name: 'tool_use', template: 'TOOLS' },
        { name: 'default', template: ZEPHYR_JINJA },
      ],
    });
    expect((await loadHfChatTemplate(path)).render(conversation.slice(1, 2))).toBe('<|user|>\nHi!</s>\n');
    expect((await loadHfChatTemplate(path, 'tool_use')).render(conversation)).toBe('TOOLS');
    await expectTrainError(() => loadHfChatTemplate(path, 'rag'), 'TEMPLATE_INVALID', path, /no template named "rag"/, /"tool_use", "default"/);
  });

  it('names the file in every error', async () => {
    await expectTrainError(() => loadHfChatTemplate('/nonexistent/tokenizer_config.json'), 'DATA_MISSING', '/nonexistent/tokenizer_config.json');
    const notJson = writeConfig('{ "chat_template": ');
    await expectTrainError(() => loadHfChatTemplate(notJson), 'TEMPLATE_INVALID', notJson, /not valid JSON/);
    const noTemplate = writeConfig({ eos_token: '</s>' });
    await expectTrainError(() => loadHfChatTemplate(noTemplate), 'TEMPLATE_INVALID', noTemplate, /no field "chat_template"/);
    const broken = writeConfig({ chat_template: '{% if messages %}oops' });
    await expectTrainError(() => loadHfChatTemplate(broken), 'TEMPLATE_INVALID', broken, /does not parse/);
    const badEos = writeConfig({ chat_template: 'x', eos_token: 3 });
    await expectTrainError(() => loadHfChatTemplate(badEos), 'TEMPLATE_INVALID', badEos, /field "eos_token"/);
  });
});

describe('renderSegments', () => {
  it('cuts ChatML into headers (untrained) and assistant content + end marker (trained)', () => {
    const messages = [...conversation, { role: 'user', content: 'More?' }, { role: 'assistant', content: 'No.' }];
    expect(renderSegments(chatmlTemplate(), messages)).toEqual([
      { text: '<|im_start|>system\nBe brief.<|im_end|>\n', train: false, message: 0 },
      { text: '<|im_start|>user\nHi!<|im_end|>\n', train: false, message: 1 },
      { text: '<|im_start|>assistant\n', train: false, message: 2 },
      { text: 'Hello.<|im_end|>\n', train: true, message: 2 },
      { text: '<|im_start|>user\nMore?<|im_end|>\n', train: false, message: 3 },
      { text: '<|im_start|>assistant\n', train: false, message: 4 },
      { text: 'No.<|im_end|>\n', train: true, message: 4 },
    ]);
  });

  it('cuts Llama-2 (no generation prompt, system folded into the first user turn)', () => {
    const t = jinjaTemplate(LLAMA2_JINJA, { bos_token: '<s>', eos_token: '</s>' });
    expect(renderSegments(t, conversation)).toEqual([
      { text: '<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi! [/INST]', train: false, message: 1 },
      { text: ' Hello. </s>', train: true, message: 2 },
    ]);
  });

  it('rejects a template that rewrites earlier turns (TEMPLATE_INVALID)', async () => {
    const t = jinjaTemplate('{% for m in messages %}{{ m.content }}{% if loop.last %}<END>{% endif %}{% endfor %}', {}, 'last-marker');
    await expectTrainError(() => renderSegments(t, conversation.slice(1)), 'TEMPLATE_INVALID', /^last-marker:/, /differ at character 3/, /"<END>"/);
  });
});

