// Inference speed, side by side with llama.cpp on the same GGUF files: decode tok/s at batch 1,
// prefill tok/s of a 128-token prompt and batch-8 decode throughput, medians over rounds, each
// side at its best thread count (1 and 2 tried). Ours = @llm/infer's engine on the GGUF's own
// blocks (loadGgufForInference); llama.cpp = node-llama-cpp 3.21.1 (CPU prebuilt), installed on
// demand outside the workspace. Also checks the real stories260K model: engine logits vs the tfjs
// TransformerLM (max |Δ|) and identical greedy continuations.
//
//   node benchmarks/inference/decode.mjs [--rounds 3] [--decode 128] [--models a,b] [--threads 1,2] [--no-llamacpp]
//     [--activations auto|f32|q8]   ours: the engine's activations option (default auto: quantized
//                                   activations for the block formats, as llama.cpp; f32: the exact path)
import { mkdirSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend, tf } from '@llm/tensor-gpu';
import { compileForInference, loadGgufForInference } from '@llm/infer';
import { generate } from '@llm/sample';
import { machineLine, median, loadNodeLlamaCpp, maxAbsDiff } from '@llm/kit';
import { MODELS, ggufFiles } from './models.mjs';
import { llamaCppRates } from './llamacpp.mjs';
import { oursRates } from './ours.mjs';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const ROUNDS = Number(opt('rounds', 3));
const DECODE = Number(opt('decode', 128));
const THREADS = opt('threads', '1,2').split(',').map(Number);
const only = opt('models', null)?.split(',');
const ACTIVATIONS = opt('activations', 'auto');
const BATCH = 8;
const here = dirname(fileURLToPath(import.meta.url));
const work = join(tmpdir(), 'llm-ts-inference-bench');
mkdirSync(work, { recursive: true });

const info = await initBackend({ backend: 'wasm', log: false });
const machine = machineLine(`backend ${info.backend}`);
console.log(machine);
const ll = args.includes('--no-llamacpp') ? { lib: null, reason: '--no-llamacpp' } : await loadNodeLlamaCpp();
if (!ll.lib) console.log(`llama.cpp side skipped: ${ll.reason}`);
const llama = ll.lib ? await ll.lib.getLlama({ gpu: false, build: 'never', logLevel: 'error' }) : null;

const rows = [];
const checks = {};
for (const spec of MODELS.filter((m) => !only || only.includes(m.name))) {
  const model = spec.build();
  if (!model) {
    console.log(`${spec.name}: not in ../shared/data — skipped`);
    continue;
  }
  if (spec.name === 'stories260K') checks.stories260K = checkAgainstTfjs(model);
  const V = model.config.vocabSize;
  const prompt = Array.from({ length: 128 }, (_, i) => (i * 7919 + 13) % V);
  const files = await ggufFiles(model, spec.name, spec.types, work);
  model.dispose();
  const decodeTokens = spec.name.startsWith('gpt2') ? Math.min(DECODE, 32) : DECODE;
  for (const type of spec.types) {
    const row = { model: spec.name, weights: type, fileMiB: statSync(files[type]).size / 2 ** 20, ours: {}, llamacpp: {} };
    for (const threads of THREADS) {
      const engine = await loadGgufForInference(files[type], { threads, maxTokens: 2048, activations: ACTIVATIONS });
      row.memoryMiB = engine.memoryBytes / 2 ** 20;
      row.activations = engine.activations;
      row.ours[threads] = summarize(oursRates(engine, { prompt, decodeTokens, rounds: ROUNDS, batch: BATCH }));
      engine.dispose();
      if (llama) row.llamacpp[threads] = summarize(await llamaCppRates(llama, files[type], { threads, prompt, decodeTokens, rounds: ROUNDS, batch: BATCH }));
      console.log(`${spec.name} ${type} threads ${threads}: ours ${fmt(row.ours[threads])}${llama ? ` · llama.cpp ${fmt(row.llamacpp[threads])}` : ''}`);
    }
    rows.push(row);
  }
}
await llama?.dispose?.();

function summarize(r) {
  return { decode: median(r.decode), prefill: median(r.prefill), batch8: median(r.batched) };
}
function fmt(s) {
  return `decode ${s.decode.toFixed(0)} · prefill ${s.prefill.toFixed(0)} · batch-8 ${s.batch8.toFixed(0)} tok/s`;
}
const best = (byThreads, key) => Object.entries(byThreads).reduce((b, [t, s]) => (s[key] > (b?.v ?? -1) ? { v: s[key], t: Number(t) } : b), null);

/** Engine (f32, packed from the TransformerLM) vs the tfjs model on the real weights. */
function checkAgainstTfjs(model) {
  const engine = compileForInference(model, { maxTokens: 1024 });
  const ids = tf.tensor2d([Array.from({ length: 24 }, (_, i) => (i * 37 + 1) % model.config.vocabSize)], [1, 24], 'int32');
  const a = model.forward(ids);
  const b = engine.forward(ids);
  const diff = maxAbsDiff(a.dataSync(), b.dataSync());
  tf.dispose([ids, a, b]);
  const g1 = generate(model, [[1]], { maxNewTokens: 64, temperature: 0 }).sequences;
  const g2 = generate(engine, [[1]], { maxNewTokens: 64, temperature: 0 }).sequences;
  engine.dispose();
  const same = JSON.stringify(g1) === JSON.stringify(g2);
  console.log(`stories260K: engine vs tfjs max |Δlogit| ${diff.toExponential(2)} over 24 positions; 64 greedy tokens ${same ? 'identical' : 'DIFFER'}`);
  return { maxAbsDiff: diff, greedyIdentical: same };
}

// ---- report -----------------------------------------------------------------------------------
const command = `node benchmarks/inference/decode.mjs${args.length ? ' ' + args.join(' ') : ''}`;
const lines = [
  '| model | weights | decode tok/s ours (thr) | llama.cpp (thr) | ratio | prefill-128 tok/s ours | llama.cpp | ratio | batch-8 tok/s ours | llama.cpp | ratio | engine MiB |',
  '|---|---|---|---|---|---|---|---|---|---|---|---|',
];
for (const r of rows) {
  const cells = ['decode', 'prefill', 'batch8'].map((k) => {
    const o = best(r.ours, k);
    const l = best(r.llamacpp, k);
    return l ? `${o.v.toFixed(0)} (${o.t}) | ${l.v.toFixed(0)} (${l.t}) | **${(o.v / l.v).toFixed(2)}**` : `${o.v.toFixed(0)} (${o.t}) | — | —`;
  });
  lines.push(`| ${r.model} | ${r.weights} | ${cells.join(' | ')} | ${r.memoryMiB.toFixed(1)} |`);
}
console.log(`\n## inference — ${command}\n\n${machine} · ${new Date().toISOString().slice(0, 10)} · medians of ${ROUNDS} rounds · ${DECODE} decode tokens (GPT-2 shape: ${Math.min(DECODE, 32)})\n`);
console.log(lines.join('\n'));
mkdirSync(join(here, '../results'), { recursive: true });
writeFileSync(join(here, '../results/inference.json'), JSON.stringify({ command, machine, date: new Date().toISOString(), rounds: ROUNDS, decodeTokens: DECODE, checks, rows }, null, 2) + '\n');
