// The README's screenshot of the chat page (docs/chat-page.png): `llm-chat serve` from the built
// bin, a finished exchange in headless chromium (playwright-core). The model: --model DIR, else a
// tiny random-weight GPT-2 with a byte + ChatML tokenizer (its reply is noise; the page is the point).
//
//   (cd apps/chat && npx tsup) && node apps/chat/scripts/screenshot.mjs [--model DIR] [--out FILE] [--temperature 1] [--max-tokens 48]
//   browser: $CHROMIUM_PATH, else `chromium` on PATH
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const here = dirname(fileURLToPath(import.meta.url));
const OUT = opt('out', join(here, '../docs/chat-page.png'));
const BIN = join(here, '../bin/llm-chat.js');

function findChromium() {
  if (process.env.CHROMIUM_PATH) return existsSync(process.env.CHROMIUM_PATH) ? process.env.CHROMIUM_PATH : null;
  for (const name of ['chromium', 'chromium-browser']) {
    try {
      const p = execFileSync('which', [name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
      if (p) return p;
    } catch {
      // not on PATH
    }
  }
  return null;
}
const exe = findChromium();
if (!exe) throw new Error('no chromium: install Debian\'s (apt-get install chromium) or set CHROMIUM_PATH');

let tmp = null;
let modelDir = opt('model', null);
if (!modelDir) {
  tmp = mkdtempSync(join(tmpdir(), 'llm-chat-shot-'));
  modelDir = join(tmp, 'tiny-random');
  const { initBackend } = await import('@llm/tensor-gpu');
  const { TransformerLM } = await import('@llm/transformer');
  const { CHATML_SPECIAL_TOKENS, trainBpeSync, toHfTokenizerJson } = await import('@llm/tokenizer-bpe');
  await initBackend({ backend: 'wasm', log: false });
  const model = new TransformerLM({ family: 'gpt2', vocabSize: 258, nLayer: 2, nHead: 2, nEmbd: 64, blockSize: 512, seed: 5 });
  await model.save(modelDir);
  model.dispose();
  const def = trainBpeSync('', { vocabSize: 256 + CHATML_SPECIAL_TOKENS.length, specialTokens: [...CHATML_SPECIAL_TOKENS], name: 'byte+chatml' });
  writeFileSync(join(modelDir, 'tokenizer.json'), JSON.stringify(toHfTokenizerJson(def)));
}

const server = spawn(process.execPath, [BIN, 'serve', '--model', modelDir, '--port', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
let err = '';
server.stderr.on('data', (d) => (err += d.toString()));
const exited = new Promise((r) => server.on('close', r));
let browser = null;
try {
  const url = await new Promise((resolve, reject) => {
    const t = setInterval(() => {
      const m = /chat page: (http:\/\/[^\s/]+)\//.exec(err);
      if (m) (clearInterval(t), resolve(m[1]));
      else if (server.exitCode !== null) (clearInterval(t), reject(new Error(err)));
    }, 50);
  });
  browser = await chromium.launch({ executablePath: exe, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  const page = await browser.newPage({ viewport: { width: 1000, height: 560 } });
  await page.goto(`${url}/`);
  await page.waitForFunction(() => document.getElementById('model')?.textContent !== '…');
  await page.fill('#system', 'You are a helpful assistant.');
  await page.fill('#temperature', opt('temperature', '1'));
  await page.fill('#max_tokens', opt('max-tokens', '48'));
  await page.fill('#input', 'Hello! What can you do?');
  await page.press('#input', 'Enter');
  await page.waitForFunction(() => document.querySelectorAll('#log .msg.assistant').length === 1 && !document.getElementById('send').disabled);
  mkdirSync(dirname(OUT), { recursive: true });
  await page.screenshot({ path: OUT });
  console.log(`wrote ${OUT}`);
} finally {
  await browser?.close();
  server.kill('SIGTERM');
  await exited;
  if (tmp) rmSync(tmp, { recursive: true, force: true });
}
