// Does the engine decode what llama.cpp decodes? The same GGUF files (benchmarks/inference's) through
// llama.cpp (node-llama-cpp 3.21.1, CPU, 1 thread, greedy) and through @llm/infer
// (loadGgufForInference, 1 thread, greedy argmax) with activations 'auto' (Q8 / Q8_K for the block
// formats, as llama.cpp) and 'f32' (exact dequantize-then-f32): how many of the first N generated
// tokens agree. The real stories260K model is the meaningful case (random-weight models have
// near-flat logits, where any rounding difference flips an argmax; reported too, for scale).
//
//   node benchmarks/inference/agree.mjs [--tokens 64] [--models stories260K,stories15M-shape]
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '@llm/tensor-gpu';
import { loadGgufForInference } from '@llm/infer';
import { loadNodeLlamaCpp, machineLine } from '@llm/kit';
import { MODELS, ggufFiles } from './models.mjs';

const args = process.argv.slice(2);
const opt = (name, def) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : def);
const N = Number(opt('tokens', 64));
const only = opt('models', 'stories260K,stories15M-shape').split(',');
const work = join(tmpdir(), 'llm-ts-inference-bench');
mkdirSync(work, { recursive: true });

await initBackend({ backend: 'wasm', log: false });
console.log(machineLine('backend wasm'));
const ll = await loadNodeLlamaCpp();
if (!ll.lib) {
  console.log(`llama.cpp not available: ${ll.reason}`);
  process.exit(0);
}
const llama = await ll.lib.getLlama({ gpu: false, build: 'never', logLevel: 'error' });

const argmax = (v) => v.reduce((b, x, i) => (x > v[b] ? i : b), 0);
const agreeing = (a, b) => {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
};

async function llamaCppGreedy(file, prompt) {
  const model = await llama.loadModel({ modelPath: file });
  const ctx = await model.createContext({ contextSize: 512, threads: 1 });
  const out = [];
  for await (const t of ctx.getSequence().evaluate(prompt, { temperature: 0 })) {
    out.push(t);
    if (out.length >= N) break;
  }
  await ctx.dispose();
  await model.dispose();
  return out;
}

async function oursGreedy(file, prompt, activations) {
  const engine = await loadGgufForInference(file, { threads: 1, maxTokens: 1024, activations });
  const seq = engine.newSequence();
  let [logits] = engine.step([{ seq, tokens: prompt }]);
  const out = [];
  while (out.length < N) {
    out.push(argmax(logits));
    [logits] = engine.step([{ seq, tokens: [out.at(-1)] }]);
  }
  engine.dispose();
  return out;
}

for (const spec of MODELS.filter((m) => only.includes(m.name))) {
  const model = spec.build();
  if (!model) {
    console.log(`${spec.name}: not in ../shared/data — skipped`);
    continue;
  }
  const prompt = [1, ...Array.from({ length: 7 }, (_, i) => (i * 37 + 5) % model.config.vocabSize)];
  const files = await ggufFiles(model, spec.name, spec.types, work);
  model.dispose();
  for (const type of spec.types) {
    const ref = await llamaCppGreedy(files[type], prompt);
    const cells = [];
    for (const act of ['auto', 'f32']) cells.push(`${act}: ${agreeing(ref, await oursGreedy(files[type], prompt, act))}/${ref.length}`);
    console.log(`${spec.name} ${type}: tokens agreeing with llama.cpp's greedy run — ${cells.join(' · ')}`);
  }
}
await llama.dispose?.();
