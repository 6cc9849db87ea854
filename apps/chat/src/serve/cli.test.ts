// `llm-chat serve` as a user runs it, from the built bin (dist/bin.js: run `npx tsup` first, as
// for src/cli.test.ts): it loads a checkpoint directory, binds 127.0.0.1 on the port asked (0 =
// any), prints the page URL, serves the page from the bundle and the API to the official client,
// and stops cleanly on SIGTERM; bad flags and models are one line and a non-zero exit. Also
// `llm-chat --docs DIR` in the terminal chat: the reply lists its sources.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHfTokenizerJson } from '@llm/tokenizer-bpe';
import { main } from '../cli.js';
import { tinyModel, tinyTokenizer } from './test-fixtures.js';

const BIN = fileURLToPath(new URL('../../dist/bin.js', import.meta.url));
let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'llm-serve-'));
  const model = await tinyModel(512, 4);
  await model.save(join(root, 'ckpt'));
  await writeFile(join(root, 'ckpt', 'tokenizer.json'), JSON.stringify(toHfTokenizerJson(tinyTokenizer().definition)));
  model.dispose();
  await mkdir(join(root, 'docs'));
  await writeFile(join(root, 'docs', 'quolt.md'), 'The Quolt harbour opens at dawn.\n\nIts lighthouse keeper is Ferrin Vash.');
  await writeFile(join(root, 'docs', 'other.txt'), 'Bread is baked in ovens.');
});
afterAll(() => rm(root, { recursive: true, force: true }));

describe('llm-chat serve', () => {
  it('serves the page (from the bundle) and the API on 127.0.0.1, and stops on SIGTERM', async () => {
    const p = spawn(process.execPath, [BIN, 'serve', '--model', 'ckpt', '--port', '0', '--max-batch', '4', '--docs', 'docs'], { cwd: root }); // the default engine: @llm/infer's when built, else tfjs
    let err = '';
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((r) => p.on('close', r));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setInterval(() => {
          const m = /chat page: (http:\/\/127\.0\.0\.1:\d+)\//.exec(err);
          if (m) (clearInterval(timer), resolve(m[1]!));
          if (p.exitCode !== null) (clearInterval(timer), reject(new Error(err)));
        }, 50);
      });
      expect(err).toMatch(/ckpt \((infer|tfjs) engine, context 512, \d+ KV blocks of 16, batch 4\) · \d+ passages from docs/);
      const page = await (await fetch(`${url}/`)).text();
      expect(page).toContain('<title>llm-chat</title>');
      const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'x', maxRetries: 0 });
      const r = await client.chat.completions.create({ model: 'ckpt', messages: [{ role: 'user', content: 'Who keeps the Quolt lighthouse?' }], max_tokens: 4 });
      const cites = (r.choices[0]!.message as unknown as { citations: { source: string }[] }).citations;
      expect(cites[0]!.source).toBe('quolt.md');
    } finally {
      p.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });

  it('a missing model or a bad flag: one line, exit 1 or 2', async () => {
    const missing = spawnSync(process.execPath, [BIN, 'serve', '--model', 'nowhere', '--port', '0'], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/^llm-chat: .*nowhere/);
    // usage errors are refused before anything loads: in-process
    const usage = async (args: string[]) => {
      let err = '';
      const error = new Writable({ write: (c, _e, cb) => ((err += String(c)), cb()) });
      const code = await main(args, { input: process.stdin, output: process.stdout, error });
      return { code, err };
    };
    const port = await usage(['serve', '--model', 'ckpt', '--port', 'abc']);
    expect(port.code).toBe(2);
    expect(port.err).toMatch(/^llm-chat: .*--port <n>.* must be an integer in \[0, 65535\] \(see llm-chat --help\)\n$/);
    const engine = await usage(['serve', '--engine', 'gpu']);
    expect(engine.code).toBe(2);
    expect(engine.err).toMatch(/--engine.*auto, infer, tfjs/);
  });
});

describe('llm-chat --docs', () => {
  it('grounds the terminal chat in the documents and lists the sources after the reply', () => {
    const r = spawnSync(process.execPath, [BIN, '--checkpoint', 'ckpt', '--docs', 'docs', '--max-tokens', '4', '--temperature', '0'], { cwd: root, input: 'Who keeps the Quolt lighthouse?\n', encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/assistant> [\s\S]*\n {2}\[1\] quolt\.md: The Quolt harbour/);
  });
});
