// loadChatTemplate: tokenizer_config.json (string and list forms, AddedToken specials), HF's newer
// chat_template.jinja / additional_chat_templates/ layout and its precedence, and errors naming the file.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { expectErrorAsync } from '@llm/kit';
import { TokenizerError, type TokenizerErrorCode } from '../errors.js';
import { applyChatTemplate } from './apply.js';
import { loadChatTemplate } from './load.js';
import { conversation, LLAMA2, ZEPHYR } from './test-fixtures.js';
const roots: string[] = [];
afterAll(() => roots.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A fresh directory holding `files` (name → text, or a value written as JSON). */
function checkpoint(files: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'chat-template-'));
  roots.push(dir);
  for (const [name, value] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), typeof value === 'string' ? value : JSON.stringify(value));
  }
  return dir;
}

const rejects = (p: () => Promise<unknown>, code: TokenizerErrorCode, message: string | RegExp) => expectErrorAsync(p, code, message, TokenizerError);

describe('loadChatTemplate from tokenizer_config.json', () => {
  it('reads chat_template and AddedToken-style bos/eos', async () => {
    const dir = checkpoint({
      'tokenizer_config.json': {
        bos_token: { __type: 'AddedToken', content: '<s>', lstrip: false },
        eos_token: { __type: 'AddedToken', content: '</s>', lstrip: false },
        pad_token: null,
        chat_template: LLAMA2,
      },
    });
    const path = join(dir, 'tokenizer_config.json');
    for (const t of [await loadChatTemplate(path), await loadChatTemplate(dir)]) {
      expect(t.name).toBe(path);
      expect(t.context).toEqual({ bos_token: '<s>', eos_token: '</s>' });
      expect(applyChatTemplate(conversation, { template: t })).toBe('<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi! [/INST] Hello. </s>');
    }
  });

  it('takes "default" from the list-of-{name, template} form (others as variants), or the named one', async () => {
    const path = join(checkpoint({
      'tokenizer_config.json': {
        eos_token: '</s>',
        additional_special_tokens: ['<|user|>', { content: '<|assistant|>' }],
        chat_template: [
          { name: 'tool_use', template: 'TOOLS' },
          { name: 'default', template: ZEPHYR },
        ],
      },
    }), 'tokenizer_config.json');
    const t = await loadChatTemplate(path);
    expect(t.context.additional_special_tokens).toEqual(['<|user|>', '<|assistant|>']);
    expect(applyChatTemplate(conversation.slice(1, 2), { template: t })).toBe('<|user|>\nHi!</s>\n');
    expect(applyChatTemplate(conversation, { template: t, tools: [] })).toBe('TOOLS'); // HF picks tool_use when tools are given
    const named = await loadChatTemplate(path, { name: 'tool_use' });
    expect(named.name).toBe(`${path} (template "tool_use")`);
    expect(applyChatTemplate(conversation, { template: named })).toBe('TOOLS');
    await rejects(() => loadChatTemplate(path, { name: 'rag' }), 'TEMPLATE_MISSING', `${path}: no chat template named "rag" (found: "tool_use", "default")`);
  });
});

describe('loadChatTemplate from a checkpoint directory', () => {
  it('chat_template.jinja wins over tokenizer_config.json (HF precedence); special tokens still come from the config', async () => {
    const dir = checkpoint({ 'chat_template.jinja': ZEPHYR, 'tokenizer_config.json': { eos_token: '</s>', chat_template: 'OLD' } });
    const t = await loadChatTemplate(dir);
    expect(t.name).toBe(join(dir, 'chat_template.jinja'));
    expect(applyChatTemplate(conversation.slice(1, 2), { template: t, addGenerationPrompt: true })).toBe('<|user|>\nHi!</s>\n<|assistant|>\n');
    expect(applyChatTemplate(conversation.slice(1, 2), { template: await loadChatTemplate(join(dir, 'chat_template.jinja')) })).toBe('<|user|>\nHi!</s>\n');
    expect(applyChatTemplate([], { template: await loadChatTemplate(join(dir, 'tokenizer_config.json')) })).toBe('OLD');
  });

  it('additional_chat_templates/<name>.jinja are named templates beside chat_template.jinja', async () => {
    const dir = checkpoint({ 'chat_template.jinja': 'DEFAULT', 'additional_chat_templates/tool_use.jinja': 'TOOLS {{ tools | length }}' });
    const t = await loadChatTemplate(dir);
    expect(applyChatTemplate([], { template: t })).toBe('DEFAULT');
    expect(applyChatTemplate([], { template: t, tools: [{}] })).toBe('TOOLS 1');
    expect((await loadChatTemplate(dir, { name: 'tool_use' })).name).toBe(join(dir, 'additional_chat_templates', 'tool_use.jinja'));
    const onlyExtra = checkpoint({ 'additional_chat_templates/rag.jinja': 'RAG', 'tokenizer_config.json': { chat_template: 'OLD' } });
    await rejects(() => loadChatTemplate(onlyExtra), 'TEMPLATE_MISSING', `${onlyExtra}: several chat templates and none named "default" (found: "rag")`);
  });

  it('a directory without a template is TEMPLATE_MISSING saying where it looked', async () => {
    const bare = checkpoint({ 'config.json': {} });
    await rejects(() => loadChatTemplate(bare), 'TEMPLATE_MISSING', `${bare}: no chat template (no chat_template.jinja, and no tokenizer_config.json)`);
    const plain = checkpoint({ 'tokenizer_config.json': { eos_token: '</s>' } });
    await rejects(() => loadChatTemplate(plain), 'TEMPLATE_MISSING', 'tokenizer_config.json has no "chat_template"');
  });
});

describe('loadChatTemplate errors name the file', () => {
  it('missing path, bad JSON, bad fields, broken Jinja', async () => {
    await rejects(() => loadChatTemplate('/nonexistent/tokenizer_config.json'), 'TEMPLATE_MISSING', '/nonexistent/tokenizer_config.json: cannot read it');
    const file = (config: unknown) => join(checkpoint({ 'tokenizer_config.json': config }), 'tokenizer_config.json');
    const notJson = file('{ "chat_template": ');
    await rejects(() => loadChatTemplate(notJson), 'INVALID_FORMAT', `${notJson}: not valid JSON`);
    const noTemplate = file({ eos_token: '</s>' });
    await rejects(() => loadChatTemplate(noTemplate), 'TEMPLATE_MISSING', `${noTemplate}: no field "chat_template"`);
    const broken = file({ chat_template: '{% if messages %}oops' });
    await rejects(() => loadChatTemplate(broken), 'TEMPLATE_INVALID', `${broken}: the chat template does not parse`);
    const badEos = file({ chat_template: 'x', eos_token: 3 });
    await rejects(() => loadChatTemplate(badEos), 'INVALID_FORMAT', `${badEos}: field "eos_token" must be a string or { "content": string }, got number 3`);
    const badList = file({ chat_template: [{ name: 'default' }] });
    await rejects(() => loadChatTemplate(badList), 'INVALID_FORMAT', `${badList}: field "chat_template" must be a string or a list of { name, template }`);
    const array = file([]);
    await rejects(() => loadChatTemplate(array), 'INVALID_FORMAT', `${array}: expected a JSON object`);
  });
});
