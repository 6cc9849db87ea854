// llm-chat as a user runs it: piped conversation with /reset and /exit, deterministic replies for a
// seed, history trimmed to the context, and clear errors for bad checkpoints and flags.
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@llm/tensor-gpu';
import { TransformerLM } from '@llm/transformer';
import { Tokenizer, toHfTokenizerJson } from '@llm/tokenizer-bpe';
import { byteTokenizerDefinition, chatmlTemplate } from '@llm/train';
import { ChatSession } from './chat.js';

const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
let root: string;

function chat(args: string[], input: string) {
  const r = spawnSync(process.execPath, [BIN, ...args], { input, encoding: 'utf8', cwd: root, timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  await initBackend({ backend: 'wasm', log: false });
  root = await mkdtemp(join(tmpdir(), 'llm-chat-'));
  const model = new TransformerLM({ family: 'gpt2', vocabSize: 256, nLayer: 1, nHead: 2, nEmbd: 32, blockSize: 128 });
  await model.save(join(root, 'ckpt'));
  await writeFile(join(root, 'ckpt', 'tokenizer.json'), JSON.stringify(toHfTokenizerJson(byteTokenizerDefinition())));
  model.dispose();
  await mkdir(join(root, 'broken'));
  await writeFile(join(root, 'broken', 'config.json'), '{"model_type": "bert"}');
});
afterAll(() => rm(root, { recursive: true, force: true }));

describe('llm-chat', () => {
  it('chats over piped stdin: replies stream, /reset clears, /exit quits; the same seed gives the same replies', () => {
    const input = 'hello\n/reset\nhow are you?\n/exit\nnever read\n';
    const a = chat(['--checkpoint', 'ckpt', '--max-tokens', '12', '--seed', '3'], input);
    expect(a.code, a.stderr).toBe(0);
    expect(a.stdout.match(/assistant> /g)).toHaveLength(2);
    expect(a.stdout).toContain('(conversation cleared)');
    expect(a.stderr).toMatch(/gpt2 · .* params/);
    const b = chat(['--checkpoint', 'ckpt', '--max-tokens', '12', '--seed', '3'], input);
    expect(b.stdout).toBe(a.stdout);
    const greedy = chat(['--checkpoint', 'ckpt', '--max-tokens', '12', '--temperature', '0'], 'hello\n');
    expect(greedy.code).toBe(0);
  });

  it('bad checkpoint, bad template, bad flag: one line, non-zero exit', () => {
    const missing = chat(['--checkpoint', 'nowhere'], '');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/llm-chat: cannot load checkpoint nowhere: .*not a checkpoint directory/);
    const broken = chat(['--checkpoint', 'broken'], '');
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/model_type "bert" is not supported/);
    const flag = chat(['--checkpoint', 'ckpt', '--top-p', '3'], '');
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/--top-p <n>.* is invalid\. must be a number in \[0\.000001, 1\]/);
    const tpl = chat(['--checkpoint', 'ckpt', '--template', 'nope.json'], '');
    expect(tpl.code).toBe(2);
    expect(tpl.stderr).toMatch(/--template must be "chatml" or an existing tokenizer_config\.json/);
  });
});

describe('ChatSession', () => {
  it('trims the oldest turns so the prompt plus the reply fit the context', async () => {
    const model = new TransformerLM({ family: 'gpt2', vocabSize: 256, nLayer: 1, nHead: 2, nEmbd: 16, blockSize: 96 });
    const s = new ChatSession({ model, tokenizer: new Tokenizer(byteTokenizerDefinition()), template: chatmlTemplate(), sampling: { temperature: 0 }, maxTokens: 8 });
    for (const msg of ['first message here', 'second one', 'third']) for await (const _ of s.reply(msg)) void _;
    expect(s.messages).toHaveLength(6);
    const { ids, dropped } = s.promptIds('fourth message');
    expect(ids.length).toBeLessThanOrEqual(96 - 8);
    expect(dropped).toBeGreaterThan(0);
    model.dispose();
  });
});
