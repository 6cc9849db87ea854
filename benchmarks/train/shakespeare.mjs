// Training benchmark: nanoGPT's CPU configuration on Tiny Shakespeare (../shared/data), trained with
// @llm/train exactly as `llm-train pretrain` does — quality (val loss per character vs nanoGPT's
// 1.88) and wall time — plus training speed side by side with PyTorch (benchmarks/train/torch_train.py,
// same model and optimizer, 2 threads), alternating in rounds, ratio of medians per round.
//
//   node benchmarks/train/shakespeare.mjs              full run: 2000 iterations (≈ 20 min here) + speed rounds
//   node benchmarks/train/shakespeare.mjs --speed      speed comparison only (≈ 3 min)
//   node benchmarks/train/shakespeare.mjs --iters 300  shorter quality run
//   node benchmarks/train/shakespeare.mjs --quality --seed 2   quality run only, another seed
//   node benchmarks/train/shakespeare.mjs --quality --unscaled-init   without GPT-2's residual init scaling
//
// Config: nanoGPT's CPU command (./nanogpt.mjs), nanoGPT's character vocabulary (the 65 distinct
// characters; `--vocab byte` for the 256-byte one).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { machineLine, median, sharedDataDir, sharedDataPath } from '@llm/kit';
import { findTorchPython } from '../lib/torch.mjs';
import { initBackend } from '@llm/tensor-gpu';
import { TransformerLM, summarize } from '@llm/transformer';
import { resolveTokenizer, writeTokenShard, TokenShard, splitTokens, train, rangePerplexity } from '@llm/train';
import { CONFIG, modelConfig, samplers as nanogptSamplers } from './nanogpt.mjs';

const args = process.argv.slice(2);
const speedOnly = args.includes('--speed');
const qualityOnly = args.includes('--quality');
const seed = args.includes('--seed') ? Number(args[args.indexOf('--seed') + 1]) : 1337;
const unscaled = args.includes('--unscaled-init'); // residual projections at std 0.02 instead of 0.02/√(2·n_layer)
const iters = args.includes('--iters') ? Number(args[args.indexOf('--iters') + 1]) : 2000;
const here = fileURLToPath(new URL('.', import.meta.url));
const corpus = sharedDataPath('tinyshakespeare.txt');
const outDir = join(here, '../results/train-shakespeare');

if (corpus === null) {
  console.log(`Tiny Shakespeare not found in ${sharedDataDir()}: this benchmark needs ../shared/data (present on CI and developer machines, not in a fresh clone; LLM_SHARED_DATA names another folder). Nothing measured.`);
  process.exit(0);
}
const info = await initBackend({ log: false });
const machine = machineLine(`backend ${info.backend}`);
console.log(`# @llm/train benchmark — ${machine}\n`);
mkdirSync(outDir, { recursive: true });
const vocab = args.includes('--vocab') ? args[args.indexOf('--vocab') + 1] : 'char';
const tok = await resolveTokenizer(vocab, [corpus]);
await writeTokenShard(join(outDir, `tokens-${vocab}`), [corpus], tok);
const shard = await TokenShard.open(join(outDir, `tokens-${vocab}`));

const MODEL = modelConfig(tok.tokenizer.vocabSize);
const samplers = (seed) => nanogptSamplers(shard, seed);

/** Median ms per training iteration of @llm/train over n iterations (first 5 dropped). */
async function oursMsPerIter(n) {
  const model = new TransformerLM(MODEL);
  const times = [];
  let last = performance.now();
  await train(model, samplers(7), { ...CONFIG, maxIters: n + 5, evalInterval: 0, evalTrain: false, evalIters: 1 }, {
    onStep: (s) => {
      const now = performance.now();
      if (s.step > 5) times.push(now - last);
      last = now;
    },
  });
  model.dispose();
  return median(times);
}

const PY = findTorchPython();
const torchMsPerIter = (n) => JSON.parse(execFileSync(PY, [join(here, 'torch_train.py'), JSON.stringify({ iters: n, threads: 2 })], { encoding: 'utf8' }));

const results = { machine, speed: null, quality: null };
if (!qualityOnly) {
console.log('## speed: ms per training iteration (fwd + bwd + clip + AdamW), nanoGPT CPU config');
if (!PY) console.log('(PyTorch peer skipped: apt-get install python3-torch libopenblas0-pthread)');
const rounds = [];
for (let r = 0; r < 3; r++) {
  const pt = PY ? torchMsPerIter(40) : null;
  const ours = await oursMsPerIter(40);
  rounds.push({ ours, torch: pt?.ms_per_iter ?? null });
  console.log(`  round ${r + 1}: @llm/train ${ours.toFixed(0)} ms${pt ? ` · PyTorch ${pt.ms_per_iter.toFixed(0)} ms (${pt.threads} threads) · ratio ${(ours / pt.ms_per_iter).toFixed(2)}` : ''}`);
}
const ratio = PY ? median(rounds.map((x) => x.ours / x.torch)) : null;
results.speed = { rounds, oursMs: median(rounds.map((x) => x.ours)), torchMs: PY ? median(rounds.map((x) => x.torch)) : null, ratio };
console.log(`  median: @llm/train ${results.speed.oursMs.toFixed(0)} ms/iter${PY ? ` · PyTorch ${results.speed.torchMs.toFixed(0)} ms/iter · ours ÷ PyTorch ${ratio.toFixed(2)}` : ''}`);
const baseline = sharedDataPath('tinyshakespeare.nanogpt-baseline.txt');
if (baseline !== null) console.log(`  (nanoGPT itself, measured earlier on a quiet machine: ${readFileSync(baseline, 'utf8').match(/median (\d+) ms\/iter/)?.[1] ?? '?'} ms/iter — see ${baseline})`);
}

if (!speedOnly) {
  console.log(`\n## quality: ${iters} iterations, eval every 250 (val loss per character; nanoGPT reports 1.88 at 2000)`);
  const model = new TransformerLM({ ...MODEL, seed, ...(unscaled ? { scaleResidualInit: false } : {}) });
  console.log(`  model: ${summarize(model)} · ${vocab} vocabulary (${tok.tokenizer.vocabSize}) · seed ${seed}${unscaled ? ' · unscaled residual init' : ''}`);
  const t0 = performance.now();
  const runDir = join(outDir, `run-${vocab}${seed === 1337 ? '' : `-seed${seed}`}${unscaled ? '-unscaled' : ''}`);
  const res = await train(model, samplers(seed), { ...CONFIG, maxIters: iters, evalInterval: 250, outDir: runDir }, {
    onEval: (e) => console.log(`  step ${String(e.step).padStart(4)}: train ${e.trainLoss?.toFixed(4)} · val ${e.valLoss?.toFixed(4)} · ${((performance.now() - t0) / 60000).toFixed(1)} min`),
  });
  const wall = (performance.now() - t0) / 1000;
  const full = rangePerplexity(model, splitTokens(shard, 0.1).val, { batchSize: 32 }).loss;
  results.quality = { seed, iters, finalValLoss: res.lastValLoss, bestValLoss: res.bestValLoss, fullValLoss: full, wallSeconds: wall, msPerIter: (wall * 1000) / iters };
  console.log(`  val loss over the whole val split (every one of its ${(shard.count - Math.floor(shard.count * 0.9)).toLocaleString('en-US')} characters predicted once, 64-char windows): ${full.toFixed(4)}`);
  console.log(`  final val ${res.lastValLoss.toFixed(4)} (best ${res.bestValLoss.toFixed(4)}) · wall ${(wall / 60).toFixed(1)} min (${((wall * 1000) / iters).toFixed(0)} ms/iter incl. evals) · target ≤ 1.88: ${res.lastValLoss <= 1.88 ? 'met' : 'NOT met'}`);
  console.log(`  metrics: ${join(runDir, 'metrics.jsonl')}, plot: ${join(runDir, 'loss.svg')}`);
  model.dispose();
}
writeFileSync(join(here, `../results/train${qualityOnly ? `-${vocab}-seed${seed}${unscaled ? '-unscaled' : ''}` : ''}.json`), JSON.stringify(results, null, 2) + '\n');
