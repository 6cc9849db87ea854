// `llm-chat serve` under load, side by side: the SAME concurrent streaming greedy requests against
// the server with continuous batching (--max-batch 8) and one sequence at a time (--max-batch 1) —
// completion tokens/s and time-to-first-token p50/p99, medians over rounds, and the ratio. Then the
// load checks of issue 17: 100 concurrent streams each end with exactly one [DONE]; 1,000 requests
// with a third cancelled mid-stream leave 0 KV blocks in use and a server that still answers;
// greedy output is the same alone, one at a time and inside a full batch.
//
// Both servers are child processes of the built bin (apps/chat/bin/llm-chat.js; build apps/chat
// first), default engine. The model: --model DIR, else a random-weight GPT-2 (6 layers × 256,
// 4 heads, context 512) with the byte + ChatML tokenizer of the server's tests, saved once under
// the OS temp folder. <|im_end|> gets logit_bias -100 so every request generates exactly
// --max-tokens tokens (the same work on both sides).
//
// For scale it first times @llm/infer's engine alone, in-process (batch 8 vs batch 1 decode steps).
//
//   node benchmarks/serve/throughput.mjs [--model DIR] [--rounds 3] [--concurrency 32] [--max-tokens 64] [--no-load]
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machineLine, median } from '@llm/kit';
import { fireRequests, percentile, streamOne } from './load.mjs';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const ROUNDS = Number(opt('rounds', 3));
const CONCURRENCY = Number(opt('concurrency', 32));
const MAX_TOKENS = Number(opt('max-tokens', 64));
const LOAD = !args.includes('--no-load');
const here = dirname(fileURLToPath(import.meta.url));
const BIN = join(here, '../../apps/chat/bin/llm-chat.js');
const command = `node benchmarks/serve/throughput.mjs ${args.join(' ')}`.trim();
const machine = machineLine();
const loadBefore = loadavg()[0];
console.log(`${machine} · load average ${loadBefore.toFixed(1)}`);
if (!existsSync(join(here, '../../apps/chat/dist/bin.js'))) throw new Error('apps/chat is not built: run `npx tsup` in apps/chat (or `npm run build`) first');

// ---- the model -------------------------------------------------------------------------------
const MODEL_SPEC = { family: 'gpt2', vocabSize: 258, nLayer: 6, nHead: 4, nEmbd: 256, blockSize: 512, seed: 2026 };
let modelDir = opt('model', null);
let modelDesc;
if (modelDir) {
  modelDesc = `checkpoint ${modelDir}`;
} else {
  modelDir = join(tmpdir(), 'llm-ts-serve-bench', 'gpt2-6x256');
  modelDesc = 'random-weight GPT-2, 6 layers × 256 (4 heads), context 512, byte + ChatML tokenizer (258 ids)';
  if (!existsSync(join(modelDir, 'tokenizer.json'))) {
    const { initBackend } = await import('@llm/tensor-gpu');
    const { TransformerLM } = await import('@llm/transformer');
    const { CHATML_SPECIAL_TOKENS, trainBpeSync, toHfTokenizerJson } = await import('@llm/tokenizer-bpe');
    await initBackend({ backend: 'wasm', log: false });
    const model = new TransformerLM(MODEL_SPEC);
    await model.save(modelDir);
    model.dispose();
    const def = trainBpeSync('', { vocabSize: 256 + CHATML_SPECIAL_TOKENS.length, specialTokens: [...CHATML_SPECIAL_TOKENS], name: 'byte+chatml' });
    writeFileSync(join(modelDir, 'tokenizer.json'), JSON.stringify(toHfTokenizerJson(def)));
  }
}
const imEnd = (() => {
  const tok = JSON.parse(readFileSync(join(modelDir, 'tokenizer.json'), 'utf8'));
  return (tok.added_tokens ?? []).find((t) => t.content === '<|im_end|>')?.id ?? null;
})();
const extra = imEnd === null ? {} : { logit_bias: { [imEnd]: -100 } }; // + model, once a server names it
console.log(`model: ${modelDesc}`);

// ---- servers ---------------------------------------------------------------------------------
// ---- the engine's own ceiling: @llm/infer decode steps in-process, batch 8 vs batch 1 ---------
// (what continuous batching could gain at most on this model and machine, before HTTP, sampling
// and streaming; same KV-cache size as the --max-batch 8 server)
async function engineCeiling() {
  const { initBackend } = await import('@llm/tensor-gpu');
  const { loadModel } = await import('@llm/transformer');
  const { compileForInference } = await import('@llm/infer');
  await initBackend({ backend: 'wasm', log: false });
  const model = await loadModel(modelDir);
  const engine = compileForInference(model, { maxTokens: 12 * model.config.blockSize, blockTokens: 16 });
  const rates = { 1: [], 8: [] };
  const V = model.config.vocabSize;
  for (let r = 0; r < ROUNDS + 1; r++) {
    for (const B of [8, 1]) {
      const seqs = Array.from({ length: B }, () => engine.newSequence());
      engine.step(seqs.map((seq, i) => ({ seq, tokens: Array.from({ length: 24 }, (_, j) => (i * 31 + j * 7) % Math.min(V, 256)) })));
      const t0 = performance.now();
      for (let t = 0; t < MAX_TOKENS; t++) engine.step(seqs.map((seq, i) => ({ seq, tokens: [(t + i) % Math.min(V, 256)] })));
      if (r > 0) rates[B].push((B * MAX_TOKENS * 1000) / (performance.now() - t0)); // round 0 warms up
      for (const q of seqs) q.free();
    }
  }
  engine.dispose?.();
  model.dispose();
  const out = { batch1TokensPerSecond: median(rates[1]), batch8TokensPerSecond: median(rates[8]) };
  out.ratio = median(rates[8].map((v, i) => v / rates[1][i]));
  console.log(`engine alone (in-process decode steps): batch 8 ${out.batch8TokensPerSecond.toFixed(0)} tok/s vs batch 1 ${out.batch1TokensPerSecond.toFixed(0)} tok/s = ${out.ratio.toFixed(2)}×`);
  return out;
}
const ceiling = await engineCeiling().catch((e) => ({ error: String(e?.message ?? e) }));

const children = new Set();
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    for (const c of children) c.kill('SIGTERM'); // no orphaned servers when the benchmark is interrupted
    process.exit(130);
  });
}

/** `llm-chat serve` as a child process on a free port; resolves when it prints its URL. */
function startServer(maxBatch) {
  const p = spawn(process.execPath, [BIN, 'serve', '--model', modelDir, '--port', '0', '--max-batch', String(maxBatch), '--max-queue', '4096'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  p.stderr.on('data', (d) => (err += d.toString()));
  children.add(p);
  const exited = new Promise((r) => p.on('close', r)).finally(() => children.delete(p));
  return new Promise((resolve, reject) => {
    const timer = setInterval(() => {
      const m = /chat page: (http:\/\/[^\s/]+)\//.exec(err);
      if (m) {
        clearInterval(timer);
        const banner = /llm-chat serve: (.*)/.exec(err)?.[1] ?? '';
        resolve({ url: m[1], banner, stop: async () => (p.kill('SIGTERM'), await exited) });
      } else if (p.exitCode !== null) {
        clearInterval(timer);
        reject(new Error(`llm-chat serve --max-batch ${maxBatch} exited: ${err}`));
      }
    }, 50);
  });
}

async function metrics(url) {
  const text = await (await fetch(`${url}/metrics`)).text();
  const out = {};
  for (const m of text.matchAll(/^(llm_\w+) (\S+)$/gm)) out[m[1]] = Number(m[2]);
  return out;
}
async function settled(url, ms = 30_000) {
  const end = Date.now() + ms;
  for (;;) {
    const m = await metrics(url);
    if ((m.llm_running_sequences === 0 && m.llm_queue_depth === 0) || Date.now() > end) return m;
    await new Promise((r) => setTimeout(r, 50));
  }
}

const WORDS = ['river', 'lamp', 'orbit', 'maple', 'quartz', 'harbor', 'signal', 'meadow', 'copper', 'violet', 'tundra', 'ember'];
const prompt = (i) => `Request ${i}: tell me about the ${WORDS[i % WORDS.length]} and the ${WORDS[(i * 5 + 3) % WORDS.length]}.`;

const batched = await startServer(8);
const single = await startServer(1);
console.log(`servers: ${batched.banner} | ${single.banner}`);
extra.model = (await (await fetch(`${batched.url}/v1/models`)).json()).data[0].id;
const servers = [
  { name: 'max-batch 8', s: batched, rounds: [] },
  { name: 'max-batch 1', s: single, rounds: [] },
];
const lastResults = {};
try {
  // warm-up: compile paths, JIT
  for (const { s } of servers) await fireRequests(s.url, { concurrency: 2, maxTokens: 4, prompt, extra });

  // ---- throughput, side by side (alternating per round) ----------------------------------------
  for (let r = 0; r < ROUNDS; r++) {
    for (const side of servers) {
      const res = await fireRequests(side.s.url, { concurrency: CONCURRENCY, maxTokens: MAX_TOKENS, prompt, extra });
      if (res.errors.length) throw new Error(`${side.name}: ${res.errors.length} requests failed: ${res.errors[0]}`);
      if (res.done !== CONCURRENCY) throw new Error(`${side.name}: ${CONCURRENCY - res.done} streams without exactly one [DONE]`);
      const row = { tokens: res.tokens, wallMs: res.wallMs, tokensPerSecond: (res.tokens / res.wallMs) * 1000, ttftP50Ms: percentile(res.ttftMs, 50), ttftP99Ms: percentile(res.ttftMs, 99) };
      side.rounds.push(row);
      lastResults[side.name] = res.results;
      console.log(`round ${r + 1} ${side.name}: ${row.tokens} tokens in ${(row.wallMs / 1000).toFixed(2)} s = ${row.tokensPerSecond.toFixed(0)} tok/s · TTFT p50 ${row.ttftP50Ms.toFixed(0)} ms p99 ${row.ttftP99Ms.toFixed(0)} ms`);
    }
  }
  const summary = {};
  for (const side of servers) {
    summary[side.name] = {
      tokensPerSecond: median(side.rounds.map((r) => r.tokensPerSecond)),
      ttftP50Ms: median(side.rounds.map((r) => r.ttftP50Ms)),
      ttftP99Ms: median(side.rounds.map((r) => r.ttftP99Ms)),
      wallMs: median(side.rounds.map((r) => r.wallMs)),
    };
  }
  const ratio = summary['max-batch 8'].tokensPerSecond / summary['max-batch 1'].tokensPerSecond;
  // the rounds ran back to back in pairs: the median of the pairs' ratios is steadier on a busy machine
  const ratioPerRound = median(servers[0].rounds.map((r, i) => r.tokensPerSecond / servers[1].rounds[i].tokensPerSecond));
  console.log(`continuous batching vs one at a time: ${ratio.toFixed(2)}× tokens/s (medians of ${ROUNDS}); median of the rounds' ratios ${ratioPerRound.toFixed(2)}×`);

  // ---- load checks (on the continuous-batching server) ------------------------------------------
  const checks = {};
  if (LOAD) {
    const url = batched.url;
    // greedy: alone, one at a time (the max-batch 1 server) and inside a full batch give the same text
    const alone = await streamOne(url, { messages: [{ role: 'user', content: prompt(0) }], max_tokens: MAX_TOKENS, temperature: 0, ...extra });
    const inBatch = lastResults['max-batch 8'];
    const oneAtATime = lastResults['max-batch 1'];
    const sameAll = inBatch.every((r, i) => r.text === oneAtATime[i].text && r.tokens === oneAtATime[i].tokens);
    checks.greedyIdentical = { alone: alone.text === inBatch[0].text, batchVsOneAtATime: sameAll, requests: CONCURRENCY, ok: alone.text === inBatch[0].text && sameAll };
    console.log(`greedy identical: alone vs in a full batch ${checks.greedyIdentical.alone}; all ${CONCURRENCY} batched vs one at a time ${sameAll}`);

    // 100 concurrent streams: every one ends with exactly one [DONE] and nothing after it
    const hundred = await fireRequests(url, { concurrency: 100, maxTokens: 16, prompt, extra });
    checks.concurrent100 = { requests: 100, completed: hundred.results.filter(Boolean).length, exactlyOneDone: hundred.done, errors: hundred.errors.slice(0, 3), wallMs: hundred.wallMs, ok: hundred.done === 100 && hundred.errors.length === 0 };
    console.log(`100 concurrent streams: ${hundred.done}/100 with exactly one [DONE], ${hundred.errors.length} errors, ${(hundred.wallMs / 1000).toFixed(1)} s`);

    // 1,000 requests, 100 in flight at a time, every third cancelled after its first content delta
    const before = await settled(url);
    const N = 1000;
    let next = 0;
    const outcome = { completed: 0, cancelled: 0, errors: [], badFraming: 0 };
    const t0 = performance.now();
    await Promise.all(Array.from({ length: 100 }, async () => {
      while (next < N) {
        const i = next++;
        try {
          const r = await streamOne(url, { messages: [{ role: 'user', content: prompt(i) }], max_tokens: 16, temperature: i % 2 ? 0.8 : 0, seed: i, ...extra }, { cancelAfterChunks: i % 3 === 0 ? 1 : 0 });
          if (r.cancelled) outcome.cancelled++;
          else {
            outcome.completed++;
            if (!r.done) outcome.badFraming++;
          }
        } catch (e) {
          outcome.errors.push(String(e?.message ?? e));
        }
      }
    }));
    const wall = performance.now() - t0;
    const after = await settled(url);
    const health = await (await fetch(`${url}/health`)).json();
    const answer = await (await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: extra.model, messages: [{ role: 'user', content: 'still there?' }], max_tokens: 8, temperature: 0 }) })).json();
    const stillAnswers = typeof answer?.choices?.[0]?.message?.content === 'string' && answer.choices[0].message.content.length > 0;
    const afterAnswer = await settled(url);
    checks.thousand = {
      requests: N,
      completed: outcome.completed,
      cancelledByClient: outcome.cancelled,
      cancelledOnServer: after.llm_generation_cancelled_total - before.llm_generation_cancelled_total,
      badFraming: outcome.badFraming,
      errors: outcome.errors.length,
      firstError: outcome.errors[0] ?? null,
      wallMs: wall,
      kvBlocksInUseAfter: after.llm_kv_blocks_in_use,
      kvBlocksTotal: after.llm_kv_blocks_total,
      healthBlocksInUse: health.blocksInUse ?? null,
      runningAfter: after.llm_running_sequences,
      queueAfter: after.llm_queue_depth,
      stillAnswers,
      kvBlocksInUseAfterAnswer: afterAnswer.llm_kv_blocks_in_use,
    };
    checks.thousand.ok = outcome.errors.length === 0 && outcome.badFraming === 0 && outcome.completed + outcome.cancelled === N && after.llm_kv_blocks_in_use === 0 && afterAnswer.llm_kv_blocks_in_use === 0 && stillAnswers;
    console.log(`1,000 requests: ${outcome.completed} completed, ${outcome.cancelled} cancelled mid-stream (server counted ${checks.thousand.cancelledOnServer}), ${outcome.errors.length} errors, ${(wall / 1000).toFixed(1)} s; then KV blocks in use ${after.llm_kv_blocks_in_use}/${after.llm_kv_blocks_total}, running ${after.llm_running_sequences}, queue ${after.llm_queue_depth}; still answers: ${stillAnswers}`);
  }

  const out = {
    command,
    machine,
    date: new Date().toISOString(),
    loadAverage1m: { before: loadBefore, after: loadavg()[0] },
    note: 'shared 2-core machine, busy with other work while this ran (see loadAverage1m): absolute figures are low and noisy; the ratio is the figure to read',
    model: modelDesc,
    server: { batched: batched.banner, single: single.banner },
    requests: { concurrency: CONCURRENCY, maxTokens: MAX_TOKENS, greedy: true, stream: true, rounds: ROUNDS },
    summary,
    ratio,
    ratioPerRound,
    engineCeiling: ceiling,
    rounds: Object.fromEntries(servers.map((s) => [s.name, s.rounds])),
    checks,
  };
  mkdirSync(join(here, '../results'), { recursive: true });
  writeFileSync(join(here, '../results/serve.json'), JSON.stringify(out, null, 2) + '\n');
  console.log(`\n| server | completion tok/s | TTFT p50 | TTFT p99 | wall (${CONCURRENCY} × ${MAX_TOKENS} tokens) |\n|---|---|---|---|---|`);
  for (const [name, s] of Object.entries(summary)) console.log(`| \`--${name}\` | ${s.tokensPerSecond.toFixed(0)} | ${s.ttftP50Ms.toFixed(0)} ms | ${s.ttftP99Ms.toFixed(0)} ms | ${(s.wallMs / 1000).toFixed(1)} s |`);
  console.log(`ratio ${ratio.toFixed(2)}× (median of the rounds' ratios ${ratioPerRound.toFixed(2)}×) · wrote benchmarks/results/serve.json`);
  const failed = Object.entries(checks).filter(([, c]) => !c.ok).map(([k]) => k);
  if (failed.length) {
    console.log(`FAILED checks: ${failed.join(', ')}`);
    process.exitCode = 1;
  }
} finally {
  await batched.stop();
  await single.stop();
}
