// The chat page (served at `/`) in a real headless browser: Debian's chromium through
// playwright-core, against the tiny random-weight server of test-fixtures.ts. It loads and finds
// the model; a message streams into the page (the reply grows over several observations) with the
// system prompt and sampling controls in the request; Stop ends a long generation early and the
// server frees its KV blocks; New chat clears the page and the history (also mid-generation).
//
// The browser: $CHROMIUM_PATH, else `chromium` on PATH (.ci/run installs Debian's when missing).
// Without one the suite fails in CI (process.env.CI) and is skipped with a printed reason locally.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startTinyServer, type TinyServer } from '../test-fixtures.js';

/** The chromium executable: $CHROMIUM_PATH, else `which chromium`; null when neither exists. */
function findChromium(): string | null {
  const env = process.env.CHROMIUM_PATH;
  if (env) return existsSync(env) ? env : null;
  for (const name of ['chromium', 'chromium-browser']) {
    try {
      const p = execFileSync('which', [name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
      if (p && existsSync(p)) return p;
    } catch {
      // not on PATH
    }
  }
  return null;
}

const CHROMIUM = findChromium();
const MISSING = `no chromium: ${process.env.CHROMIUM_PATH ? `CHROMIUM_PATH=${process.env.CHROMIUM_PATH} does not exist` : '`chromium` is not on PATH'} — install Debian's (apt-get install chromium) or set CHROMIUM_PATH`;
if (!CHROMIUM && !process.env.CI) console.log(`page.browser.test.ts skipped: ${MISSING}`);

interface ChatBody {
  model: string;
  stream: boolean;
  messages: { role: string; content: string }[];
  temperature: number;
  top_p: number;
  max_tokens: number;
}

let server: TinyServer;
let browser: Browser;
let page: Page;
const bodies: ChatBody[] = [];

const GAUGES = ['llm_running_sequences', 'llm_queue_depth', 'llm_kv_blocks_in_use', 'llm_generation_cancelled_total', 'llm_generated_tokens_total'] as const;
type Gauges = Record<(typeof GAUGES)[number], number>;

/** The unlabelled /metrics series the tests read (NaN when missing). */
async function metrics(): Promise<Gauges> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const all = new Map([...text.matchAll(/^(llm_\w+) (\S+)$/gm)].map((m) => [m[1]!, Number(m[2])]));
  return Object.fromEntries(GAUGES.map((g) => [g, all.get(g) ?? NaN])) as Gauges;
}

async function until<T>(f: () => Promise<T>, ok: (v: T) => boolean, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (ok(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
}

const assistantTexts = () => page.$$eval('#log .msg.assistant', (ds) => ds.map((d) => d.textContent ?? ''));
const idle = () => page.waitForFunction(() => !(document.getElementById('send') as HTMLButtonElement).disabled && (document.getElementById('stop') as HTMLButtonElement).disabled);

/** Type `text` and press Enter; resolves when the request has left the page. */
async function send(text: string): Promise<ChatBody> {
  const n = bodies.length;
  await page.fill('#input', text);
  await page.press('#input', 'Enter');
  await page.waitForFunction(() => (document.getElementById('send') as HTMLButtonElement).disabled || document.querySelectorAll('#log .msg.assistant').length > 0);
  await until(async () => bodies.length, (l) => l > n);
  return bodies[bodies.length - 1]!;
}

(CHROMIUM || process.env.CI ? describe : describe.skip)('the chat page in headless chromium', () => {
  beforeAll(async () => {
    if (!CHROMIUM) throw new Error(MISSING);
    server = await startTinyServer({ scheduler: { maxBatch: 4 } });
    // at least 2 ms an engine step, so a 1,000-token reply lasts ≥ 2 s and Stop / New chat land mid-reply on any machine
    const step = server.engine.step.bind(server.engine);
    server.engine.step = (inputs, opts) => {
      const end = performance.now() + 2;
      const out = step(inputs, opts);
      while (performance.now() < end);
      return out;
    };
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
    page = await browser.newPage({ viewport: { width: 1100, height: 700 } });
    page.on('request', (r) => {
      if (r.method() === 'POST' && r.url().endsWith('/v1/chat/completions')) bodies.push(r.postDataJSON() as ChatBody);
    });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('loads at / and names the served model', async () => {
    const res = await page.goto(`${server.url}/`);
    expect(res?.status()).toBe(200);
    expect(await page.title()).toBe('llm-chat');
    await page.waitForFunction(() => document.getElementById('model')?.textContent === 'tiny');
    expect(await page.isDisabled('#stop')).toBe(true);
  });

  it('streams a reply into the page; the system prompt and sampling controls are sent', async () => {
    await page.fill('#system', 'You are a terse assistant.');
    await page.fill('#temperature', '0');
    await page.fill('#top_p', '0.9');
    await page.fill('#max_tokens', '48');
    // every change of the reply's text, seen from inside the page
    await page.evaluate(() => {
      const w = window as unknown as { lengths: number[] };
      w.lengths = [];
      new MutationObserver(() => {
        const last = Array.from(document.querySelectorAll('#log .msg.assistant')).pop();
        if (last) w.lengths.push((last.textContent ?? '').length);
      }).observe(document.getElementById('log')!, { childList: true, subtree: true, characterData: true });
    });
    const body = await send('Hello there');
    await idle();
    expect(body).toMatchObject({ model: 'tiny', stream: true, temperature: 0, top_p: 0.9, max_tokens: 48 });
    expect(body.messages).toEqual([{ role: 'system', content: 'You are a terse assistant.' }, { role: 'user', content: 'Hello there' }]);
    const [reply] = await assistantTexts();
    expect(reply!.length).toBeGreaterThan(0);
    const lengths = await page.evaluate(() => (window as unknown as { lengths: number[] }).lengths);
    const grown = [...new Set(lengths.filter((l) => l > 0))];
    expect(grown.length, `reply lengths seen: ${lengths.join(',')}`).toBeGreaterThanOrEqual(2); // it grew while streaming …
    expect(grown).toEqual([...grown].sort((a, b) => a - b)); // … only ever longer
    expect(grown.at(-1)).toBe(reply!.length);
    expect(await page.$$('#log .msg.error')).toHaveLength(0);
    expect(await page.$$eval('#log .msg.user', (ds) => ds.map((d) => d.textContent))).toEqual(['Hello there']);
  });

  it('Stop ends a long generation early and the server frees its KV blocks', async () => {
    const before = await until(metrics, (m) => m.llm_running_sequences === 0);
    const MAX = 1000;
    await page.fill('#max_tokens', String(MAX));
    await send('Tell me a long story');
    await page.waitForFunction(() => (Array.from(document.querySelectorAll('#log .msg.assistant')).pop()?.textContent ?? '').length > 3);
    await page.click('#stop');
    await idle();
    const after = await until(metrics, (m) => m.llm_running_sequences === 0 && m.llm_kv_blocks_in_use === before.llm_kv_blocks_in_use);
    expect(after.llm_generation_cancelled_total - before.llm_generation_cancelled_total).toBe(1);
    expect(after.llm_generated_tokens_total - before.llm_generated_tokens_total).toBeLessThan(MAX);
    expect(after.llm_running_sequences).toBe(0);
    expect(after.llm_queue_depth).toBe(0);
    expect(after.llm_kv_blocks_in_use).toBe(before.llm_kv_blocks_in_use); // only the prefix cache (the system prompt) keeps blocks
    const texts = await assistantTexts();
    expect(texts).toHaveLength(2);
    expect(texts[1]!.length).toBeGreaterThan(0); // the partial reply stays
    expect(await page.$$('#log .msg.error')).toHaveLength(0);
  });

  it('New chat clears the page and the history, also in the middle of a reply', async () => {
    await page.click('#new');
    expect(await page.$$('#log .msg')).toHaveLength(0);
    await page.fill('#max_tokens', '8');
    const first = await send('A fresh start');
    await idle();
    expect(first.messages).toEqual([{ role: 'system', content: 'You are a terse assistant.' }, { role: 'user', content: 'A fresh start' }]);
    // New chat while a long reply streams: it stops, and nothing of it leaks into the next request
    await page.fill('#max_tokens', '1000');
    await send('Another long story');
    await page.waitForFunction(() => (Array.from(document.querySelectorAll('#log .msg.assistant')).pop()?.textContent ?? '').length > 3);
    await page.click('#new');
    await idle();
    expect(await page.$$('#log .msg')).toHaveLength(0);
    await page.fill('#max_tokens', '8');
    const next = await send('Third');
    await idle();
    expect(next.messages).toEqual([{ role: 'system', content: 'You are a terse assistant.' }, { role: 'user', content: 'Third' }]);
    expect(await page.$$eval('#log .msg', (ds) => ds.map((d) => d.className))).toEqual(['msg user', 'msg assistant']);
    const m = await until(metrics, (x) => x.llm_running_sequences === 0);
    expect(m.llm_running_sequences).toBe(0);
  });
});
