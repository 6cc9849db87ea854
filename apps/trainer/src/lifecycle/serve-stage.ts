/**
 * Stage 6: `llm-chat serve --model <gguf>` as a child process (stdio inherited), and the URL of its
 * chat page once it answers. Normally it runs until Ctrl-C; with `quick` it answers one
 * POST /v1/chat/completions (a calculator question, with the calculator tool), the reply is printed,
 * and the server is stopped — the CI check that the served model answers a request.
 *
 *   await serveStage({ model: 'out/quant/model-q8_0.gguf', port: 8080, quick: false, log })   // blocks until the server exits
 *   findChatBin()   // '/repo/apps/chat/bin/llm-chat.js' (or $LLM_CHAT_BIN), null when not found
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CliError } from '../options.js';
import { CALCULATOR_TOOL } from '../corpus/chat-format.js';

const BIN = join('apps', 'chat', 'bin', 'llm-chat.js');

/** The llm-chat launcher: $LLM_CHAT_BIN, else apps/chat/bin/llm-chat.js in the monorepo above this file. */
export function findChatBin(from = dirname(fileURLToPath(import.meta.url))): string | null {
  const env = process.env.LLM_CHAT_BIN;
  if (env) return existsSync(env) ? resolve(env) : null;
  for (let d = from; ; d = dirname(d)) {
    if (existsSync(join(d, BIN))) return join(d, BIN);
    if (dirname(d) === d) return null;
  }
}

/** A TCP port nobody listens on now (the OS picks it). */
export async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => ok(port));
    });
  });
}

export interface ServeOptions {
  /** A .gguf file or a checkpoint directory. */
  model: string;
  /** 0: a free port. */
  port: number;
  quick: boolean;
  log: (s: string) => void;
  /** How long the server may take to answer its first request (default 180 s). */
  readyTimeoutMs?: number;
  /** The llm-chat launcher (default findChatBin()). */
  bin?: string | null;
}

/** The question the --quick check asks. */
export const QUICK_REQUEST = {
  messages: [{ role: 'user', content: 'what is 17 + 25?' }],
  tools: [CALCULATOR_TOOL],
  max_tokens: 48,
  temperature: 0,
};

/** Exit code of the stage: the server's own (normal run) or 0 when the quick request was answered. */
export async function serveStage(o: ServeOptions): Promise<number> {
  const bin = o.bin === undefined ? findChatBin() : o.bin;
  if (!bin) throw new CliError(`serve: llm-chat was not found (${BIN} in this repository, or $LLM_CHAT_BIN); the model is ready: serve it with \`llm-chat serve --model ${o.model}\`, or pass --no-serve`, 1);
  const port = o.port === 0 ? await freePort() : o.port;
  const base = `http://127.0.0.1:${port}`;
  o.log(`serve: ${process.execPath} ${bin} serve --model ${o.model} --port ${port}`);
  const child = spawn(process.execPath, [bin, 'serve', '--model', o.model, '--port', String(port)], { stdio: 'inherit' });
  const exited = new Promise<number>((ok) => {
    child.once('exit', (code, signal) => ok(code ?? (signal ? 128 : 1)));
    child.once('error', () => ok(127));
  });
  const forward = (sig: NodeJS.Signals) => () => void child.kill(sig);
  const onInt = forward('SIGINT');
  const onTerm = forward('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  try {
    const ready = await waitReady(base, exited, o.readyTimeoutMs ?? 180_000);
    if (ready !== 'ready') {
      if (ready === 'timeout') await stop(child, exited);
      const code = ready === 'timeout' ? null : ready;
      throw new CliError(
        code === null
          ? `serve: llm-chat serve did not answer on ${base} within ${Math.round((o.readyTimeoutMs ?? 180_000) / 1000)} s; stopped it`
          : `serve: \`llm-chat serve\` exited with code ${code} before serving (its message is above): is it built (npm run build) and does it have the serve command? The model is ready at ${o.model}; rerun with --no-serve to skip this stage`,
        1,
      );
    }
    o.log(`chat page: ${base}/`);
    process.stdout.write(`${base}/\n`);
    if (!o.quick) return await exited;
    try {
      const reply = await askOnce(base);
      process.stdout.write(`reply: ${reply}\n`);
      return 0;
    } finally {
      await stop(child, exited);
    }
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  }
}

/** 'ready' once GET /health gets any HTTP answer; the exit code if the child exits first; 'timeout'. */
async function waitReady(base: string, exited: Promise<number>, timeoutMs: number): Promise<'ready' | 'timeout' | number> {
  let code: number | null = null;
  void exited.then((c) => (code = c));
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (code !== null) return code;
    const ok = await fetch(`${base}/health`, { signal: AbortSignal.timeout(2000) }).then((r) => (void r.body?.cancel(), true), () => false);
    if (ok) return 'ready';
    await new Promise((r) => setTimeout(r, 250));
  }
  return code ?? 'timeout';
}

async function stop(child: ChildProcess, exited: Promise<number>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(t);
}

/** One chat completion (the model id from GET /v1/models); the reply as one line: its text or its tool calls. */
async function askOnce(base: string): Promise<string> {
  const models = await fetch(`${base}/v1/models`).then((r) => r.json() as Promise<{ data?: Array<{ id?: string }> }>, () => null);
  const model = models?.data?.[0]?.id ?? 'default';
  const res = await fetch(`${base}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model, ...QUICK_REQUEST }) });
  const text = await res.text();
  if (!res.ok) throw new CliError(`serve: POST /v1/chat/completions answered ${res.status}: ${text.slice(0, 300)}`, 1);
  let body: { choices?: Array<{ message?: { content?: string | null; tool_calls?: Array<{ function?: { name?: string; arguments?: string } }> }; finish_reason?: string }> };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    throw new CliError(`serve: POST /v1/chat/completions did not answer JSON: ${text.slice(0, 300)}`, 1);
  }
  const msg = body.choices?.[0]?.message;
  if (!msg) throw new CliError(`serve: POST /v1/chat/completions answered without choices: ${text.slice(0, 300)}`, 1);
  const calls = (msg.tool_calls ?? []).map((c) => `${c.function?.name ?? '?'}(${c.function?.arguments ?? ''})`);
  return `${JSON.stringify(QUICK_REQUEST.messages[0]!.content)} → ${calls.length ? `tool call ${calls.join(', ')}` : JSON.stringify(msg.content ?? '')} (finish: ${body.choices?.[0]?.finish_reason ?? '?'})`;
}
