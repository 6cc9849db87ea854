// Quantization quality benchmark (issue 13's quality table): a small GPT-2 trained here on Tiny
// Shakespeare's train split (nanoGPT's CPU shape: 4 layers, 4 heads, width 128, block 64, no bias, GPT-2's tanh
// GELU as llama.cpp's gpt2 requires; byte vocabulary), then perplexity on the same held-out windows of the val split and bytes/param of
// the block linears for
//   - our quantizers, run through our model with the dequantized weights (rangePerplexity):
//     fp32, int8, int4-g128 (asym and sym), int4-g32, NF4, GPTQ-4bit-g128 (act-order), AWQ-4bit-g128;
//   - every GGUF export type (f32 f16 q8_0 q4_0 q4_1 q4_k_m) run by llama.cpp itself
//     (node-llama-cpp 3.21.1, CPU, installed on demand outside the workspace into
//     $LLM_TS_LLAMACPP_DIR or <tmpdir>/llm-ts-llamacpp), perplexity from its next-token probabilities
//     over exactly the windows rangePerplexity scores; next to it our model on the GGUF's dequantized
//     weights (importGguf), so llama.cpp's own activation rounding shows as the difference.
//
//   node benchmarks/quant/quality.mjs           ≈ 4 min of training, 4096 held-out tokens (≈ 10 min in all)
//   node benchmarks/quant/quality.mjs --quick   ≈ 1 min of training, 1024 held-out tokens
//   options: --train-seconds N, --iters N (a fixed number of iterations instead of a time budget: the
//            same model on any machine and under any load), --tokens N, --calib N (calibration
//            sequences of 64 tokens, default 64 / 32 quick), --save-model DIR (keep the trained fp32
//            checkpoint), --model DIR (score a checkpoint saved by --save-model instead of training),
//            --schemes fp32,int4-g128,AWQ-4bit-g128 (a subset of our rows), --no-gguf, --out FILE
//
// Without ../shared/data/tinyshakespeare.txt the model is trained on a seeded synthetic text
// (apps/trainer is private and not importable from here); the JSON says which.
import { mkdtempSync, mkdirSync, rmSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machineLine, benchmarkCorpus, loadNodeLlamaCpp } from '@llm/kit';
import { initBackend } from '@llm/tensor-gpu';
import { TransformerLM, loadModel, summarize } from '@llm/transformer';
import { resolveTokenizer, writeTokenShard, TokenShard, splitTokens, WindowSampler, train, rangePerplexity } from '@llm/train';
import { quantizeModel, gptqQuantizeModel, awqQuantizeModel, exportGguf, importGguf, readGguf, GGUF_EXPORT_TYPES } from '@llm/quant';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const opt = (name, dflt) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : dflt);
const trainSeconds = opt('--train-seconds', quick ? 60 : 240);
const fixedIters = opt('--iters', 0);
const sopt = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : null);
const saveModelDir = sopt('--save-model');
const modelDir = sopt('--model');
// --schemes a,b: only these rows of ours (fp32 always runs: the reference); --no-gguf: skip llama.cpp;
// --out FILE: the results JSON (default benchmarks/results/quant.json).
const onlySchemes = sopt('--schemes')?.split(',') ?? null;
const noGguf = args.includes('--no-gguf');
const outFile = sopt('--out');
const heldTokens = opt('--tokens', quick ? 1024 : 4096);
const calibSamples = opt('--calib', quick ? 32 : 64);
const here = fileURLToPath(new URL('.', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'llm-quant-quality-'));
const t00 = performance.now();
const elapsed = () => `${((performance.now() - t00) / 60000).toFixed(1)} min`;

const info = await initBackend({ log: false });
const machine = machineLine(`backend ${info.backend}`);
console.log(`# @llm/quant quality benchmark — ${machine}\n`);

// ---- data -------------------------------------------------------------------------------------
const bc = benchmarkCorpus(work); // Tiny Shakespeare, or a seeded synthetic text on a fresh clone
const corpus = bc.path;
const dataName = bc.synthetic ? bc.name : `${bc.name} (first 90% train, last 10% held out)`;
if (bc.synthetic) console.log('Tiny Shakespeare not found (../shared/data): a seeded synthetic text instead.');
const vocab = 'byte';
const tok = await resolveTokenizer(vocab, [corpus]);
await writeTokenShard(join(work, 'tokens'), [corpus], tok);
const shard = await TokenShard.open(join(work, 'tokens'));
const { train: trainRange, val } = splitTokens(shard, 0.1);
const held = { shard, start: val.start, end: Math.min(val.end, val.start + heldTokens + 1) };

// ---- train ------------------------------------------------------------------------------------
const MODEL = { family: 'gpt2', vocabSize: tok.tokenizer.vocabSize, nLayer: 4, nHead: 4, nEmbd: 128, blockSize: 64, bias: false, dropout: 0, activation: 'gelu_tanh', seed: 1337 };
const estIters = fixedIters > 0 ? fixedIters : Math.max(50, Math.round(trainSeconds / 0.4));
const CONFIG = { lr: 1e-3, minLr: 1e-4, warmupIters: Math.min(100, Math.round(estIters / 10)), lrDecayIters: estIters, weightDecay: 0.1, decayRule: 'all-2d', beta1: 0.9, beta2: 0.99, gradClip: 1 };
let lastStep = 0;
let trainWall = 0;
let stoppedBy = 'loaded';
let ckpt = join(work, 'fp32');
if (modelDir) {
  // A checkpoint kept by an earlier --save-model run (its training facts next to it).
  ckpt = modelDir;
  const facts = JSON.parse(readFileSync(join(modelDir, 'quality-train.json'), 'utf8'));
  ({ lastStep, trainWall, stoppedBy } = facts);
  console.log(`model: ${modelDir} (trained ${lastStep} iterations in ${trainWall.toFixed(0)} s by an earlier run)`);
} else {
  const model0 = new TransformerLM(MODEL);
  console.log(`model: ${summarize(model0)} · ${vocab} vocabulary (${MODEL.vocabSize}) · ${dataName}`);
  console.log(fixedIters > 0 ? `training ${fixedIters} iterations (cosine schedule, batch 12 × 64)…` : `training ${trainSeconds} s (cosine schedule sized for ≈ ${estIters} iterations, batch 12 × 64)…`);
  const ac = new AbortController();
  const timer = fixedIters > 0 ? null : setTimeout(() => ac.abort(), trainSeconds * 1000);
  const tTrain = performance.now();
  const res = await train(
    model0,
    {
      train: new WindowSampler(trainRange, { batchSize: 12, blockSize: 64, seed: 1337 }),
      val: new WindowSampler(val, { batchSize: 12, blockSize: 64, seed: 1338 }),
      trainEval: new WindowSampler(trainRange, { batchSize: 12, blockSize: 64, seed: 1339 }),
    },
    { ...CONFIG, maxIters: fixedIters > 0 ? fixedIters : 1_000_000, evalInterval: 0, evalTrain: false, evalIters: 1 },
    {
      signal: ac.signal,
      onStep: (s) => {
        lastStep = s.step;
        if (s.step % 100 === 0) console.log(`  step ${s.step}: loss ${s.loss?.toFixed?.(4) ?? s.loss} · ${elapsed()}`);
      },
    },
  );
  if (timer) clearTimeout(timer);
  trainWall = (performance.now() - tTrain) / 1000;
  stoppedBy = res.stoppedBy;
  console.log(`trained ${lastStep} iterations in ${trainWall.toFixed(0)} s (${stoppedBy})`);
  if (saveModelDir) ckpt = saveModelDir;
  await model0.save(ckpt);
  writeFileSync(join(ckpt, 'quality-train.json'), JSON.stringify({ lastStep, trainWall, stoppedBy, data: dataName }) + '\n');
  model0.dispose();
}
const linearParams = await (async () => {
  const m = await loadModel(ckpt);
  const n = m.linearNames().filter((x) => !/lm_head/.test(x)).reduce((a, x) => a + m.getModule(x).inFeatures * m.getModule(x).outFeatures, 0);
  m.dispose();
  return n;
})();

// ---- our quantizers ---------------------------------------------------------------------------
/** Bytes/param over the block linears (lm_head, tied to the embedding, stays float and is not counted). */
function linearBytes(model) {
  let params = 0;
  let bytes = 0;
  for (const name of model.linearNames()) {
    if (/lm_head/.test(name)) continue;
    const m = model.getModule(name);
    const p = m.inFeatures * m.outFeatures;
    params += p;
    bytes += typeof m.byteSize === 'function' ? m.byteSize() : 4 * p;
  }
  return { params, bytesPerParam: bytes / params };
}
function calibIds() {
  // Random 64-token windows of the train split (never the held-out text).
  let x = 4242;
  const rnd = () => (x = (x * 1103515245 + 12345) >>> 0) / 2 ** 32;
  const n = trainRange.end - trainRange.start - 65;
  return Array.from({ length: calibSamples }, () => Array.from(shard.read(trainRange.start + Math.floor(rnd() * n), 64)));
}
const calibration = { ids: calibIds(), seqLen: 64, maxSamples: calibSamples };

const rows = [];
const schemes = [
  ['fp32', null],
  ['int8', (m) => quantizeModel(m, { scheme: 'int8' })],
  ['int4-g128', (m) => quantizeModel(m, { scheme: 'int4', groupSize: 128, symmetric: false })],
  ['int4-g128 sym', (m) => quantizeModel(m, { scheme: 'int4', groupSize: 128, symmetric: true })],
  ['int4-g32', (m) => quantizeModel(m, { scheme: 'int4', groupSize: 32, symmetric: false })],
  ['NF4', (m) => quantizeModel(m, { scheme: 'nf4' })],
  ['GPTQ-4bit-g128', (m) => gptqQuantizeModel(m, { groupSize: 128, actOrder: true, calibration })],
  ['AWQ-4bit-g128', (m) => awqQuantizeModel(m, { groupSize: 128, calibration })],
];
console.log(`\nscoring ${held.end - held.start - 1} held-out tokens (64-token windows from the start of the val split)`);
for (const [name, fn] of schemes.filter(([n]) => n === 'fp32' || !onlySchemes || onlySchemes.includes(n))) {
  const m = await loadModel(ckpt);
  const t0 = performance.now();
  if (fn) fn(m);
  const qs = (performance.now() - t0) / 1000;
  const r = rangePerplexity(m, held, { batchSize: 16 });
  const b = linearBytes(m);
  rows.push({ name, runtime: 'llm-ts', perplexity: r.perplexity, loss: r.loss, tokens: r.tokens, bytesPerParam: b.bytesPerParam, quantizeSeconds: qs });
  console.log(`  ${name.padEnd(16)} ppl ${r.perplexity.toFixed(4)} · ${b.bytesPerParam.toFixed(3)} B/param · quantize ${qs.toFixed(1)} s · ${elapsed()}`);
  m.dispose();
}

// ---- GGUF through llama.cpp -------------------------------------------------------------------
/** llama.cpp's perplexity over the windows rangePerplexity scores (each window from an empty KV cache). */
async function llamaPerplexity(ctx, range, T) {
  let sum = 0;
  let n = 0;
  const seq = ctx.getSequence();
  try {
    for (let s = range.start; s + 1 < range.end; s += T) {
      const len = Math.min(T, range.end - 1 - s);
      const w = Array.from(range.shard.read(s, len + 1));
      await seq.clearHistory();
      const out = await seq.controlledEvaluate(
        w.slice(0, len).map((t) => [t, { generateNext: { probabilities: true, options: { temperature: 1, topK: 0, topP: 1, minP: 0 } } }]),
      );
      for (let i = 0; i < len; i++) sum -= Math.log(Math.max(out[i].next.probabilities.get(w[i + 1]) ?? 0, 1e-30));
      n += len;
    }
  } finally {
    seq.dispose();
  }
  return { tokens: n, loss: sum / n, perplexity: Math.exp(sum / n) };
}

const ll = noGguf ? { lib: null, reason: '--no-gguf' } : await loadNodeLlamaCpp();
let ggufTokenizer = 'byte tokenizer metadata';
if (!ll.lib) console.log(`\nllama.cpp rows skipped: ${ll.reason}`);
else {
  const llama = await ll.lib.getLlama({ gpu: false, build: 'never', logLevel: 'error' });
  const fp = await loadModel(ckpt);
  console.log(`\nGGUF exports through llama.cpp (node-llama-cpp 3.21.1, CPU, F32 KV cache)`);
  for (const type of GGUF_EXPORT_TYPES) {
    const file = join(work, `model-${type}.gguf`);
    try {
      await exportGguf({ model: fp, tokenizer: tok.tokenizer }, file, { type });
    } catch (e) {
      ggufTokenizer = `ids only (tokenizer metadata export failed: ${e.message.split('\n')[0]})`;
      await exportGguf({ model: fp }, file, { type, idsOnly: true });
    }
    const g = await readGguf(file);
    let params = 0;
    let bytes = 0;
    for (const t of g.tensors) {
      if (!t.name.startsWith('blk.') || t.shape.length !== 2) continue;
      params += t.shape[0] * t.shape[1];
      bytes += t.byteLength;
    }
    const { model: deq } = await importGguf(file);
    const ours = rangePerplexity(deq, held, { batchSize: 16 });
    deq.dispose();
    const lm = await llama.loadModel({ modelPath: file });
    const ctx = await lm.createContext({ contextSize: 64, sequences: 1, threads: 2, flashAttention: false, experimentalKvCacheKeyType: 'F32', experimentalKvCacheValueType: 'F32' });
    let r;
    try {
      r = await llamaPerplexity(ctx, held, MODEL.blockSize);
    } finally {
      await ctx.dispose();
      await lm.dispose();
    }
    const fileMB = statSync(file).size / 2 ** 20;
    rows.push({ name: `GGUF ${type}`, runtime: 'llama.cpp', perplexity: r.perplexity, loss: r.loss, tokens: r.tokens, bytesPerParam: bytes / params, oursOnDequantized: ours.perplexity, fileMB });
    console.log(`  ${type.padEnd(7)} llama.cpp ppl ${r.perplexity.toFixed(4)} · ours on its dequantized weights ${ours.perplexity.toFixed(4)} · ${(bytes / params).toFixed(3)} B/param · file ${fileMB.toFixed(2)} MiB · ${elapsed()}`);
  }
  fp.dispose();
  await llama.dispose?.();
}

// ---- report -----------------------------------------------------------------------------------
const command = `node benchmarks/quant/quality.mjs${args.length ? ' ' + args.join(' ') : ''}`;
const fp32 = rows[0].perplexity;
const lines = [
  `| scheme | runtime | held-out perplexity | Δ vs fp32 | bytes/param (block linears) |`,
  `|---|---|---|---|---|`,
  ...rows.map(
    (r) =>
      `| ${r.name} | ${r.runtime}${r.oursOnDequantized !== undefined ? ` (ours on its weights: ${r.oursOnDequantized.toFixed(4)})` : ''} | ${r.perplexity.toFixed(4)} | ${r.name === 'fp32' ? '—' : `${r.perplexity >= fp32 ? '+' : ''}${(r.perplexity - fp32).toFixed(4)}`} | ${r.bytesPerParam.toFixed(3)} |`,
  ),
];
const get = (n) => rows.find((r) => r.name === n)?.perplexity;
const verdict = ['GPTQ-4bit-g128', 'AWQ-4bit-g128'].filter((n) => get(n) !== undefined && get('int4-g128') !== undefined).map((n) => `${n} ${get(n) < get('int4-g128') ? 'beats' : 'does NOT beat'} RTN int4-g128 (${get(n).toFixed(4)} vs ${get('int4-g128').toFixed(4)})`);
console.log(`\n## quality (${quick ? 'quick' : 'full'} mode) — ${command}\n`);
console.log(`${machine} · ${new Date().toISOString().slice(0, 10)} · GPT-2 4 layers × 128, byte vocab, ${(linearParams / 1e6).toFixed(2)}M block-linear params · ${lastStep} training iterations (${trainWall.toFixed(0)} s) on ${dataName} · ${rows[0].tokens} held-out tokens · calibration ${calibSamples} × 64 train tokens · GGUF: ${ggufTokenizer}\n`);
console.log(lines.join('\n'));
console.log(`\n${verdict.join('; ')}. Total ${elapsed()}.`);
mkdirSync(join(here, '../results'), { recursive: true });
writeFileSync(
  outFile ?? join(here, '../results/quant.json'),
  JSON.stringify(
    {
      machine,
      command,
      date: new Date().toISOString(),
      mode: quick ? 'quick' : 'full',
      data: dataName,
      model: { ...MODEL, iterations: lastStep, trainSeconds: trainWall, stoppedBy },
      heldOutTokens: rows[0].tokens,
      calibration: { samples: calibSamples, seqLen: 64, source: 'random windows of the train split' },
      ggufTokenizer,
      rows,
      verdict,
      table: lines.join('\n'),
    },
    null,
    2,
  ) + '\n',
);
rmSync(work, { recursive: true, force: true });
