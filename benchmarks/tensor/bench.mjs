// Tensor benchmark: matMul GFLOP/s at transformer shapes per backend, and one training step of
// the nanoGPT CPU config (n_layer 4, n_head 4, n_embd 128, block 64, batch 12, vocab 65),
// stock tfjs vs @llm/tensor-gpu, side by side in this one process. Medians throughout.
//
//   node benchmarks/tensor/bench.mjs            full run (≈ 3–5 min on 2 cores)
//   node benchmarks/tensor/bench.mjs --quick    short run (npm start)
//   node benchmarks/tensor/bench.mjs --json out.json
import { writeFileSync } from 'node:fs';
import { machineLine, median, timeRuns } from '@llm/kit';
import { tf, initBackend, installKernels, uninstallKernels, registerMissingKernels } from '@llm/tensor-gpu';
import { initWeights, makeTrainer } from './gpt.mjs';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const jsonPath = args.includes('--json') ? args[args.indexOf('--json') + 1] : null;
const REPS = quick ? 5 : 21;
const STEPS = quick ? 3 : 12;

const SHAPES = [
  { name: '2-D A·B   [768,128]·[128,384] (linear fwd)', a: [768, 128], b: [128, 384], tA: false, tB: false },
  { name: '2-D A·Bᵀ  [768,384]·[128,384]ᵀ (linear dX)', a: [768, 384], b: [128, 384], tA: false, tB: true },
  { name: '2-D Aᵀ·B  [768,128]ᵀ·[768,384] (linear dW)', a: [768, 128], b: [768, 384], tA: true, tB: false },
  { name: 'batched A·B  [48,64,32]·[48,32,64]', a: [48, 64, 32], b: [48, 32, 64], tA: false, tB: false },
  { name: 'batched A·Bᵀ [48,64,32]·[48,64,32]ᵀ (q·kᵀ, dP)', a: [48, 64, 32], b: [48, 64, 32], tA: false, tB: true },
  { name: 'batched A·B  [48,64,64]·[48,64,32] (p·v, dQ)', a: [48, 64, 64], b: [48, 64, 32], tA: false, tB: false },
  { name: 'batched Aᵀ·B [48,64,64]ᵀ·[48,64,32] (dV, dK)', a: [48, 64, 64], b: [48, 64, 32], tA: true, tB: false },
];

function flops({ a, b, tA, tB }) {
  const batch = a.length === 3 ? a[0] : 1;
  const [m, k] = tA ? [a.at(-1), a.at(-2)] : [a.at(-2), a.at(-1)];
  const n = tB ? b.at(-2) : b.at(-1);
  return 2 * batch * m * n * k;
}

/**
 * Median seconds of one matMul, in GFLOP/s. cpu and wasm run ops synchronously, so the op is done
 * when the call returns; the result stays on the backend (no readback), as inside a training step.
 */
function timeMatMul(shape, reps, warmup) {
  const a = tf.randomUniform(shape.a, -1, 1, 'float32', 1);
  const b = tf.randomUniform(shape.b, -1, 1, 'float32', 2);
  const { median: ms } = timeRuns(() => tf.matMul(a, b, shape.tA, shape.tB), { reps, warmup, after: (c) => c.dispose() });
  tf.dispose([a, b]);
  return flops(shape) / (ms * 1e6); // GFLOP/s
}

async function matmulTable() {
  const variants = [
    { label: 'cpu (stock)', backend: 'cpu', fast: false, reps: quick ? 1 : 3, warmup: 1 },
    { label: 'wasm (stock tfjs)', backend: 'wasm', fast: false, reps: REPS, warmup: 10 },
    { label: 'wasm + tensor-gpu', backend: 'wasm', fast: true, reps: REPS, warmup: 10 }, // V8 tiers the JS glue up over the first calls: time the steady state
  ];
  const rows = SHAPES.map((s) => ({ shape: s.name, gflops: {} }));
  for (const v of variants) {
    await initBackend({ backend: v.backend, fastKernels: v.fast, log: false });
    if (!v.fast) uninstallKernels(v.backend);
    SHAPES.forEach((s, i) => (rows[i].gflops[v.label] = timeMatMul(s, v.reps, v.warmup)));
  }
  return { variants: variants.map((v) => v.label), rows };
}

async function trainingSteps() {
  const cfg = { nLayer: 4, nHead: 4, nEmbd: 128, block: 64, batch: 12, vocab: 65 };
  const ids = tf.randomUniform([cfg.batch, cfg.block], 0, cfg.vocab, 'int32', 7);
  const targets = tf.randomUniform([cfg.batch, cfg.block], 0, cfg.vocab, 'int32', 8);
  const result = {};
  const flavours = [
    { label: 'stock tfjs (wasm)', flavour: 'stock', setup: () => { uninstallKernels('wasm'); registerMissingKernels('wasm'); } },
    { label: 'tensor-gpu (wasm)', flavour: 'tensor-gpu', setup: () => installKernels('wasm') },
  ];
  await initBackend({ backend: 'wasm', log: false });
  for (const round of [0, 1]) { // two interleaved rounds against drift on a noisy machine
    for (const f of flavours) {
      f.setup();
      const w = initWeights(cfg, 1);
      const step = makeTrainer(w, cfg, f.flavour);
      const times = [];
      const losses = [];
      for (let s = 0; s < STEPS + 1; s++) {
        const t0 = performance.now();
        losses.push(step(ids, targets));
        if (s >= 1) times.push(performance.now() - t0);
      }
      const r = (result[f.label] ??= { times: [], firstLoss: losses[0], lastLoss: 0 });
      r.times.push(...times);
      r.lastLoss = losses.at(-1);
      tf.dispose(Object.values(w));
      void round;
    }
  }
  tf.dispose([ids, targets]);
  installKernels('wasm');
  return Object.fromEntries(Object.entries(result).map(([k, v]) => [k, { msPerStep: median(v.times), steps: v.times.length, firstLoss: v.firstLoss, lastLoss: v.lastLoss }]));
}

function print(mm, steps) {
  const fmt = (x) => x.toFixed(x < 10 ? 2 : 1);
  console.log(`\nmatMul GFLOP/s (median of ${REPS} calls on wasm after 10 warm-up calls; result left on the backend)`);
  console.log(`| shape | ${mm.variants.join(' | ')} | tensor-gpu / stock |`);
  console.log(`|---|${mm.variants.map(() => '---:').join('|')}|---:|`);
  for (const r of mm.rows) {
    const g = mm.variants.map((v) => r.gflops[v]);
    console.log(`| ${r.shape} | ${g.map(fmt).join(' | ')} | ${fmt(g[2] / g[1])}× |`);
  }
  const base = mm.rows[0].gflops['wasm + tensor-gpu'];
  const worst = Math.min(...mm.rows.slice(1).map((r) => r.gflops['wasm + tensor-gpu']));
  console.log(`tensor-gpu: slowest transposed/batched case runs at ${fmt(worst)} GFLOP/s = ${fmt(base / worst)}× below the 2-D A·B rate (${fmt(base)}).`);
  console.log(`\nTraining step, nanoGPT CPU config (4 layers, 4 heads, 128 wide, block 64, batch 12, vocab 65), AdamW`);
  console.log('| variant | ms/step (median) | tokens/s | loss after steps |');
  console.log('|---|---:|---:|---:|');
  for (const [k, v] of Object.entries(steps)) {
    console.log(`| ${k} | ${v.msPerStep.toFixed(0)} | ${Math.round((12 * 64 * 1000) / v.msPerStep)} | ${v.firstLoss.toFixed(4)} → ${v.lastLoss.toFixed(4)} |`);
  }
  const [stock, ours] = Object.values(steps);
  console.log(`speed-up per training step: ${(stock.msPerStep / ours.msPerStep).toFixed(2)}× (target ≥ 3×)`);
}

const info = await initBackend();
console.log(`machine: ${machineLine(`tfjs-core ${tf.version_core}`, `mode ${quick ? 'quick' : 'full'}`)}`);
const mm = await matmulTable();
const steps = await trainingSteps();
print(mm, steps);
if (jsonPath) {
  const tmp = `${jsonPath}.tmp`;
  writeFileSync(tmp, JSON.stringify({ date: new Date().toISOString(), backend: info, quick, matmul: mm, steps }, null, 2));
  (await import('node:fs')).renameSync(tmp, jsonPath);
}
