// The planner against this machine: (1) the wall-time estimate from a short probe (the real
// training loop, a few steps after warm-up) against a real 200-step run of the same config;
// (2) the memory formula (weights + gradients + AdamW m, v + activations, Korthikanti et al.
// without recomputation, float32) against the tfjs engine's measured peak during training steps.
// Both on the `npm start` model (gpt2, 4 layers, width 128, context 64, vocab 1024, batch 12).
//
//   node benchmarks/train/plan-check.mjs [steps=200]     → benchmarks/results/plan-check.json
//
// The machine may be shared with other jobs: the JSON records the load average before and after.
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg, cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { initBackend } from '@llm/tensor-gpu';
import { TransformerLM } from '@llm/transformer';
import { TokenShard, WindowSampler, train, trainingMemory, probeThroughput, measureTrainingPeak, makePlan, formatBytes } from '@llm/train';

const here = fileURLToPath(new URL('.', import.meta.url));
const STEPS = Number(process.argv[2] ?? 200);
const CONFIG = { family: 'gpt2', vocabSize: 1024, nLayer: 4, nHead: 4, nEmbd: 128, blockSize: 64, bias: false, seed: 1337 };
const BATCH = 12;
await initBackend({ backend: 'wasm', log: false });
const load0 = loadavg();

// (1) probe → estimate for STEPS steps, then the real run, then a second probe (the machine's load
// changes: the two probes bracket the run)
async function probeOnce() {
  const m = new TransformerLM(CONFIG);
  const p = await probeThroughput(m, { batchSize: BATCH });
  m.dispose();
  return p;
}
const probe = await probeOnce();
// the wall time llm-train plan gives this config for STEPS steps' tokens: 6·N·D over the probe's 6·N·tokens/s
const plan = makePlan({ minutes: 1, model: { config: CONFIG, batchSize: BATCH }, probe });
const estimateS = (6 * plan.params * STEPS * BATCH * CONFIG.blockSize) / plan.throughput.flopsPerSec;
const ids = Array.from({ length: 200_000 }, (_, i) => (Math.imul(i + 1, 2654435761) >>> 0) % CONFIG.vocabSize);
const shard = TokenShard.fromIds(ids, { vocabSize: CONFIG.vocabSize, tokenizer: { name: 'plan-check', hash: 'plan-check' }, documents: 1, sources: [] });
const model = new TransformerLM(CONFIG);
const run = await train(model, { train: new WindowSampler({ shard, start: 0, end: shard.count }, { batchSize: BATCH, blockSize: CONFIG.blockSize, seed: 1 }) }, { maxIters: STEPS, warmupIters: 10, evalInterval: 0, outDir: null });
model.dispose();
const realS = run.elapsedMs / 1000;
const probeAfter = await probeOnce();
const estimateAfterS = (STEPS * probeAfter.msPerStep) / 1000;
const err = (e) => `${(((e - realS) / realS) * 100).toFixed(1)}%`;
console.log(`probe before: ${probe.msPerStep.toFixed(1)} ms/step (median of 10 after 5 warm-up; ${Math.round(probe.tokensPerSec)} tok/s) → ${STEPS} steps estimated ${estimateS.toFixed(1)} s`);
console.log(`real:         ${STEPS} steps in ${realS.toFixed(1)} s (${((realS * 1000) / STEPS).toFixed(1)} ms/step)`);
console.log(`probe after:  ${probeAfter.msPerStep.toFixed(1)} ms/step → ${estimateAfterS.toFixed(1)} s`);
console.log(`estimate error: ${err(estimateS)} (probe before, what llm-train plan does) · ${err(estimateAfterS)} (probe after)`);

// (2) memory: formula vs measured peak, at a few batch sizes
const memory = [];
for (const b of [1, 4, BATCH]) {
  const m = new TransformerLM(CONFIG);
  const f = trainingMemory(CONFIG, b);
  const { peakBytes, startBytes } = await measureTrainingPeak(m, b);
  m.dispose();
  const row = { batchSize: b, formulaTotal: f.total, formulaActivations: f.activations, weights: f.weights, measuredPeak: peakBytes, measuredStart: startBytes, error: f.total / peakBytes - 1 };
  memory.push(row);
  console.log(`memory @ batch ${b}: formula ${formatBytes(f.total)} (activations ${formatBytes(f.activations)}) · measured peak ${formatBytes(peakBytes)} (${startBytes} B live before) · formula/measured − 1 = ${(row.error * 100).toFixed(1)}%`);
}
const load1 = loadavg();
mkdirSync(join(here, '../results'), { recursive: true });
const out = {
  config: CONFIG,
  batchSize: BATCH,
  steps: STEPS,
  probe,
  estimateSeconds: estimateS,
  realSeconds: realS,
  estimateError: (estimateS - realS) / realS,
  probeAfter,
  estimateAfterSeconds: estimateAfterS,
  estimateAfterError: (estimateAfterS - realS) / realS,
  plan: { params: plan.params, flops: 6 * plan.params * STEPS * BATCH * CONFIG.blockSize, memoryTotal: plan.memory.total },
  memory,
  machine: { cpus: cpus().length, loadavgBefore: load0, loadavgAfter: load1, note: 'shared machine: other agents were running jobs at the same time; the load average is recorded to judge it' },
  date: new Date().toISOString(),
};
writeFileSync(join(here, '../results/plan-check.json'), `${JSON.stringify(out, null, 2)}\n`);
console.log('wrote benchmarks/results/plan-check.json');
