// Data-parallel training benchmark: ms per optimizer step of nanoGPT's CPU configuration on Tiny
// Shakespeare (../shared/data) — the same global batch of 12 sequences × 64 tokens every time:
//   in-process   train() on the main thread (today's `llm-train pretrain`)
//   1 worker     trainParallel, one replica, micro-batch 12
//   2 workers    trainParallel, two replicas, micro-batch 6 each, gradients summed through shared memory
//   PyTorch      benchmarks/train/torch_train.py, same model and optimizer, 2 BLAS threads
// alternating in rounds; medians per configuration, scaling efficiency t(1 worker) / (2 · t(2 workers)).
// Writes benchmarks/results/train-parallel.json.
//
//   node benchmarks/train/parallel.mjs                 2 rounds of 30 timed steps (≈ 4 min here)
//   node benchmarks/train/parallel.mjs --rounds 3 --iters 40
//   node benchmarks/train/parallel.mjs --quality       2000 iterations with 2 workers vs the one-process runs (val loss)
//
// Needs a fresh build of @llm/train (npx tsup in packages/train: dist/parallel-worker.js).
// The workers' setup module is ./nanogpt.mjs (the shared nanoGPT CPU config).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TransformerLM } from '@llm/transformer';
import { TokenShard, splitTokens, WindowSampler, writeTokenShard, resolveTokenizer, train, trainParallel } from '@llm/train';
import { BATCH as GLOBAL_BATCH, BLOCK, CONFIG as NANOGPT, modelConfig } from './nanogpt.mjs';

const CONFIG = { ...NANOGPT, evalInterval: 0, evalTrain: false, evalIters: 1, outDir: null };

/** Median ms between consecutive onStep calls, the first `warm` steps dropped. */
function stepTimer(warm) {
  const times = [];
  let last = performance.now();
  return {
    onStep: (s) => {
      const now = performance.now();
      if (s.step > warm) times.push(now - last);
      last = now;
    },
    times,
  };
}

async function main() {
  const { median, machineLine, sharedDataDir, sharedDataPath } = await import('@llm/kit');
  const { findTorchPython } = await import('../lib/torch.mjs');
  const { initBackend } = await import('@llm/tensor-gpu');
  const args = process.argv.slice(2);
  const rounds = args.includes('--rounds') ? Number(args[args.indexOf('--rounds') + 1]) : 2;
  const iters = args.includes('--iters') ? Number(args[args.indexOf('--iters') + 1]) : 30;
  const warm = 5;
  const here = fileURLToPath(new URL('.', import.meta.url));
  const corpus = sharedDataPath('tinyshakespeare.txt');
  if (corpus === null) {
    console.log(`Tiny Shakespeare not found in ${sharedDataDir()}: this benchmark needs ../shared/data (LLM_SHARED_DATA names another folder). Nothing measured.`);
    return;
  }
  const info = await initBackend({ backend: 'wasm', log: false });
  const load = loadavg()[0];
  const machine = machineLine(`backend ${info.backend}`);
  console.log(`# @llm/train data-parallel benchmark — ${machine}`);
  console.log(`load average at start: ${load.toFixed(2)}${load > 1.5 ? ' — the machine is busy: figures are noisy, rerun on a quiet machine' : ''}\n`);
  const tok = await resolveTokenizer('char', [corpus]);
  const dir = join(here, '../results/train-shakespeare');
  const prefix = join(dir, 'tokens-char');
  mkdirSync(dir, { recursive: true });
  if (!existsSync(`${prefix}.bin`)) await writeTokenShard(prefix, [corpus], tok);
  const shard = await TokenShard.open(prefix);
  const model = modelConfig(tok.tokenizer.vocabSize);
  const setupModule = fileURLToPath(new URL('./nanogpt.mjs', import.meta.url));
  const n = iters + warm;

  const inProcess = async () => {
    const t = stepTimer(warm);
    const m = new TransformerLM(model);
    await train(m, { train: new WindowSampler(splitTokens(shard, 0.1).train, { batchSize: GLOBAL_BATCH, blockSize: BLOCK, seed: 7 }) }, { ...CONFIG, maxIters: n }, { onStep: t.onStep });
    m.dispose();
    return median(t.times);
  };
  const phases = { 1: [], 2: [] }; // per-step phase times of every replica (after the warm-up steps)
  const parallel = async (workers) => {
    const t = stepTimer(warm);
    const onPhases = (p) => p.step > warm && phases[workers].push(p);
    await trainParallel({ setup: setupModule, args: { shard: prefix, model, batchSize: GLOBAL_BATCH / workers }, workers, config: { ...CONFIG, maxIters: n }, onStep: t.onStep, onPhases });
    return median(t.times);
  };
  if (args.includes('--quality')) return quality({ shard, prefix, vocabSize: tok.tokenizer.vocabSize, machine, median, here });
  const PY = findTorchPython();
  const torch = () => (PY ? JSON.parse(execFileSync(PY, [join(here, 'torch_train.py'), JSON.stringify({ iters: n, threads: 2 })], { encoding: 'utf8' })).ms_per_iter : null);
  if (!PY) console.log('(PyTorch peer skipped: apt-get install python3-torch libopenblas0-pthread)');

  console.log(`## ms per step, nanoGPT CPU config (global batch ${GLOBAL_BATCH}×${BLOCK}), median of ${iters} steps after ${warm}`);
  const rows = [];
  for (let r = 0; r < rounds; r++) {
    const row = { inProcess: await inProcess(), workers1: await parallel(1), workers2: await parallel(2), torch: torch() };
    rows.push(row);
    console.log(`  round ${r + 1}: in-process ${row.inProcess.toFixed(0)} · 1 worker ${row.workers1.toFixed(0)} · 2 workers ${row.workers2.toFixed(0)}${row.torch !== null ? ` · PyTorch (2 threads) ${row.torch.toFixed(0)}` : ''} ms`);
  }
  const med = (k) => (rows[0][k] === null ? null : median(rows.map((x) => x[k])));
  const summary = { inProcessMs: med('inProcess'), workers1Ms: med('workers1'), workers2Ms: med('workers2'), torchMs: med('torch') };
  const speedup = summary.workers1Ms / summary.workers2Ms;
  const efficiency = speedup / 2;
  const ratio = summary.torchMs ? summary.workers2Ms / summary.torchMs : null;
  console.log(`  median: in-process ${summary.inProcessMs.toFixed(0)} · 1 worker ${summary.workers1Ms.toFixed(0)} · 2 workers ${summary.workers2Ms.toFixed(0)}${summary.torchMs ? ` · PyTorch ${summary.torchMs.toFixed(0)}` : ''} ms/step`);
  console.log(`  1 → 2 workers: speedup ${speedup.toFixed(2)}×, scaling efficiency ${(efficiency * 100).toFixed(0)}%${ratio !== null ? ` · 2 workers ÷ PyTorch ${ratio.toFixed(2)} (goal ≤ 1.0)` : ''}`);
  const breakdown = {};
  for (const w of [1, 2]) {
    breakdown[`workers${w}`] = Object.fromEntries(['computeMs', 'waitMs', 'reduceMs', 'updateMs'].map((k) => [k, median(phases[w].map((p) => p[k]))]));
    const b = breakdown[`workers${w}`];
    console.log(`  ${w} worker${w > 1 ? 's' : ''}, median per replica-step: forward+backward ${b.computeMs.toFixed(0)} · waiting ${b.waitMs.toFixed(1)} · reduce ${b.reduceMs.toFixed(1)} · clip+AdamW ${b.updateMs.toFixed(1)} ms`);
  }
  const results = { machine, phases: breakdown, loadAverageAtStart: load, noisy: load > 1.5, config: { model, globalBatch: GLOBAL_BATCH, ...CONFIG, timedSteps: iters, warmupStepsDropped: warm }, rounds: rows, ...summary, speedup, scalingEfficiency: efficiency, ratioToTorch: ratio };
  writeFileSync(join(here, '../results/train-parallel.json'), JSON.stringify(results, null, 2) + '\n');
  console.log(`\nwrote ${join(here, '../results/train-parallel.json')}`);
}

/**
 * Quality with 2 workers: the 2000-iteration nanoGPT run of shakespeare.mjs (seed 1337, eval every
 * 250) through trainParallel, next to the one-process runs in results/train-char-seed1337.json and
 * -seed2.json (their difference is the seed noise).
 */
async function quality({ shard, prefix, vocabSize, machine, here }) {
  const { readFileSync } = await import('node:fs');
  const { rangePerplexity } = await import('@llm/train');
  const { loadModel } = await import('@llm/transformer');
  const argv = process.argv.slice(2);
  const iters = argv.includes('--quality-iters') ? Number(argv[argv.indexOf('--quality-iters') + 1]) : 2000;
  const runDir = join(here, '../results/train-shakespeare/run-char-workers2');
  const t0 = performance.now();
  console.log(`## quality: ${iters} iterations with 2 workers (micro-batch 6 each), eval every 250`);
  const res = await trainParallel({
    setup: fileURLToPath(new URL('./nanogpt.mjs', import.meta.url)),
    args: { shard: prefix, model: modelConfig(vocabSize, 1337), batchSize: GLOBAL_BATCH / 2, seed: 1337, evals: true },
    workers: 2,
    config: { ...NANOGPT, maxIters: iters, evalInterval: 250, outDir: runDir },
    force: true,
    onEval: (e) => console.log(`  step ${String(e.step).padStart(4)}: train ${e.trainLoss?.toFixed(4)} · val ${e.valLoss?.toFixed(4)} · ${((performance.now() - t0) / 60000).toFixed(1)} min`),
  });
  const wall = (performance.now() - t0) / 1000;
  const model = await loadModel(join(runDir, 'checkpoint'));
  const full = rangePerplexity(model, splitTokens(shard, 0.1).val, { batchSize: 32 }).loss;
  model.dispose();
  const one = (seed) => JSON.parse(readFileSync(join(here, `../results/train-char-seed${seed}.json`), 'utf8')).quality;
  const [a, b] = [one(1337), one(2)];
  const noise = Math.abs(a.finalValLoss - b.finalValLoss);
  const delta = Math.abs(res.lastValLoss - a.finalValLoss);
  const out = { machine, iters, workers: 2, finalValLoss: res.lastValLoss, bestValLoss: res.bestValLoss, fullValLoss: full, wallSeconds: wall, oneProcessSeed1337: a, oneProcessSeed2: b, seedNoise: noise, deltaToOneProcess: delta, withinSeedNoise: delta <= noise };
  console.log(`  2 workers: final val ${res.lastValLoss.toFixed(4)} (best ${res.bestValLoss.toFixed(4)}, whole val split ${full.toFixed(4)}) · wall ${(wall / 60).toFixed(1)} min`);
  console.log(`  one process: seed 1337 final ${a.finalValLoss.toFixed(4)}, seed 2 final ${b.finalValLoss.toFixed(4)} → seed noise ${noise.toFixed(4)}; |2 workers − seed 1337| = ${delta.toFixed(4)}: ${delta <= noise ? 'within' : 'NOT within'} seed noise`);
  writeFileSync(join(here, '../results/train-parallel-quality.json'), JSON.stringify(out, null, 2) + '\n');
}

await main();
