// The serve stage against stand-ins for `llm-chat serve` (the real server is built in apps/chat):
// --quick sends one chat completion with the calculator tool, prints the reply and stops the
// server; a server that exits at once, or no llm-chat at all, is one clear error.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { CliError } from '../options.js';
import { findChatBin, serveStage } from './serve-stage.js';

let dir: string;
const FAKE = `
import { createServer } from 'node:http';
import { appendFileSync } from 'node:fs';
const [cmd, , model, , port] = process.argv.slice(2);
const record = (x) => appendFileSync(process.env.FAKE_LOG, JSON.stringify(x) + '\\n');
record({ argv: process.argv.slice(2) });
if (cmd !== 'serve') process.exit(2);
const s = createServer((req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    if (req.method === 'POST') record({ method: req.method, url: req.url, body: JSON.parse(body) });
    res.setHeader('content-type', 'application/json');
    if (req.url === '/v1/models') return res.end(JSON.stringify({ data: [{ id: 'tiny' }] }));
    if (req.url === '/v1/chat/completions') return res.end(JSON.stringify({ choices: [{ message: { role: 'assistant', content: null, tool_calls: [{ type: 'function', function: { name: 'calculator', arguments: '{"expression":"17 + 25"}' } }] }, finish_reason: 'tool_calls' }] }));
    res.end('{}');
  });
});
s.listen(Number(port), '127.0.0.1');
process.on('SIGTERM', () => { record({ stopped: true }); s.close(); process.exit(0); });
`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'llm-serve-'));
  await writeFile(join(dir, 'fake-chat.mjs'), FAKE);
  await writeFile(join(dir, 'exits.mjs'), "process.stderr.write('llm-chat: unknown command serve\\n'); process.exit(2);\n");
});
afterAll(() => rm(dir, { recursive: true, force: true }));

it('--quick: starts the server, prints the page URL, sends one chat completion with the calculator tool, prints the reply, stops it', async () => {
  const logFile = join(dir, 'requests.jsonl');
  process.env.FAKE_LOG = logFile;
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  const lines: string[] = [];
  let code: number;
  let printed: string;
  try {
    code = await serveStage({ model: 'm.gguf', port: 0, quick: true, log: (s) => void lines.push(s), bin: join(dir, 'fake-chat.mjs') });
  } finally {
    printed = out.mock.calls.map((c) => String(c[0])).join('');
    out.mockRestore();
  }
  expect(code).toBe(0);
  expect(printed).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\n/);
  expect(printed).toContain('reply: "what is 17 + 25?" → tool call calculator({"expression":"17 + 25"}) (finish: tool_calls)');
  expect(lines.some((l) => /^chat page: http:\/\/127\.0\.0\.1:\d+\/$/.test(l))).toBe(true);
  const events = (await readFile(logFile, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  expect((events[0]!.argv as string[]).slice(0, 3)).toEqual(['serve', '--model', 'm.gguf']);
  const posts = events.filter((e) => e.method === 'POST');
  expect(posts).toHaveLength(1);
  expect(posts[0]).toMatchObject({ url: '/v1/chat/completions', body: { model: 'tiny', messages: [{ role: 'user', content: 'what is 17 + 25?' }], tools: [{ function: { name: 'calculator' } }] } });
  expect(events.at(-1)).toEqual({ stopped: true });
}, 60_000);

it('a server that exits before serving, or no llm-chat, is one clear error', async () => {
  const err = await serveStage({ model: 'm.gguf', port: 0, quick: true, log: () => undefined, bin: join(dir, 'exits.mjs') }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(CliError);
  expect((err as Error).message).toMatch(/^serve: `llm-chat serve` exited with code 2 before serving .* The model is ready at m\.gguf; rerun with --no-serve/);
  const none = await serveStage({ model: 'm.gguf', port: 0, quick: true, log: () => undefined, bin: null }).catch((e: unknown) => e);
  expect((none as Error).message).toMatch(/^serve: llm-chat was not found .* `llm-chat serve --model m\.gguf`/);
}, 60_000);

it('finds apps/chat/bin/llm-chat.js in this repository', () => {
  const bin = findChatBin();
  expect(bin).toMatch(/apps[/\\]chat[/\\]bin[/\\]llm-chat\.js$/);
  expect(existsSync(bin!)).toBe(true);
});
