// Transformer benchmark: forward+backward tokens/s of @llm/transformer at the nanoGPT CPU shape
// and a GPT-2-small-width shape, and greedy decode tokens/s with and without the KV cache.
// Peers run side by side: the minimal hand-written nanoGPT of benchmarks/tensor/gpt.mjs (same
// tensor-gpu ops, no generality) in this process, and PyTorch (benchmarks/transformer/torch_peer.py,
// same architecture in plain torch, 2 threads) when Debian's python3-torch is installed.
// Medians throughout.
//
//   node benchmarks/transformer/bench.mjs            full run (≈ 5 min on 2 cores)
//   node benchmarks/transformer/bench.mjs --quick    short run
//   node benchmarks/transformer/bench.mjs --json out.json
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { machineLine, median, timeRuns } from '@llm/kit';
import { findTorchPython } from '../lib/torch.mjs';
import { tf, initBackend, crossEntropy } from '@llm/tensor-gpu';
import { TransformerLM, countParameters, formatCount } from '@llm/transformer';
import { initWeights, lossFn } from '../tensor/gpt.mjs';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const jsonPath = args.includes('--json') ? args[args.indexOf('--json') + 1] : null;
const REPS = quick ? 3 : 9;

const TRAIN_SHAPES = [
  { name: 'nanoGPT CPU (L4 H4 C128, T64, B12, V65)', vocab: 65, n_layer: 4, n_head: 4, n_embd: 128, block: 64, batch: 12 },
  { name: 'GPT-2-small width (L2 H12 C768, T128, B4, V50257)', vocab: 50257, n_layer: 2, n_head: 12, n_embd: 768, block: 128, batch: 4, reps: quick ? 1 : 3 },
];
const DECODE = { vocab: 65, n_layer: 4, n_head: 4, n_embd: 128, prompt: 64, new: quick ? 96 : 256 };

const info = await initBackend({ log: false });
const machine = machineLine(`backend ${info.backend}`);
console.log(`# @llm/transformer benchmark — ${machine}${quick ? ' (quick)' : ''}\n`);

const ids = (B, T, V, seed) => tf.tidy(() => tf.randomUniform([B, T], 0, V, 'float32', seed).floor().cast('int32'));

/** One forward + backward of `loss` over `vars`, read back; returns the tensors to dispose. */
function fwdBwd(loss, vars) {
  const { value, grads } = tf.variableGrads(loss, vars);
  value.dataSync();
  return [value, ...Object.values(grads)];
}

/** Median ms of one forward+backward (all weights) of @llm/transformer (GPT-2 family, bias=False as nanoGPT). */
function timeOurs(s) {
  const reps = s.reps ?? REPS;
  const model = new TransformerLM({ family: 'gpt2', vocabSize: s.vocab, nLayer: s.n_layer, nHead: s.n_head, nEmbd: s.n_embd, blockSize: s.block, bias: false });
  const x = ids(s.batch, s.block + 1, s.vocab, 1);
  const inp = x.slice([0, 0], [s.batch, s.block]);
  const tgt = x.slice([0, 1], [s.batch, s.block]);
  const vars = model.trainableParameters().map(([, v]) => v);
  const { median: ms } = timeRuns(() => fwdBwd(() => crossEntropy(model.forward(inp), tgt), vars), { reps, warmup: 2, after: tf.dispose });
  const params = countParameters(model);
  tf.dispose([x, inp, tgt]);
  model.dispose();
  return { ms, params };
}

/** The same with benchmarks/tensor/gpt.mjs (hand-written minimal nanoGPT on the same ops). */
function timeMinimal(s) {
  const reps = s.reps ?? REPS;
  const cfg = { nLayer: s.n_layer, nHead: s.n_head, nEmbd: s.n_embd, vocab: s.vocab, block: s.block };
  const w = initWeights(cfg, 1);
  const x = ids(s.batch, s.block + 1, s.vocab, 1);
  const inp = x.slice([0, 0], [s.batch, s.block]);
  const tgt = x.slice([0, 1], [s.batch, s.block]);
  const vars = Object.values(w);
  const { median: ms } = timeRuns(() => fwdBwd(() => lossFn(w, cfg, inp, tgt, 'tensor-gpu'), vars), { reps, warmup: 2, after: tf.dispose });
  tf.dispose([x, inp, tgt, ...vars]);
  return ms;
}

/** Greedy decode of `new` tokens after a `prompt`-token prompt; per-step ms, with or without cache. */
function decode(useCache) {
  const d = DECODE;
  const model = new TransformerLM({ family: 'gpt2', vocabSize: d.vocab, nLayer: d.n_layer, nHead: d.n_head, nEmbd: d.n_embd, blockSize: d.prompt + d.new, bias: false });
  const prompt = ids(1, d.prompt, d.vocab, 2);
  const seq = Array.from(prompt.dataSync());
  const cache = useCache ? model.createCache(1, d.prompt + d.new) : undefined;
  const stepMs = [];
  const t0 = performance.now();
  let logits = model.forward(prompt, { cache, logitsToKeep: 1 });
  for (let s = 0; s < d.new; s++) {
    const next = tf.tidy(() => logits.argMax(-1)).dataSync()[0];
    logits.dispose();
    seq.push(next);
    const t1 = performance.now();
    const input = useCache ? tf.tensor2d([[next]], [1, 1], 'int32') : tf.tensor2d([seq], [1, seq.length], 'int32');
    logits = model.forward(input, { cache, logitsToKeep: 1 });
    logits.dataSync();
    stepMs.push(performance.now() - t1);
    input.dispose();
  }
  const total = performance.now() - t0;
  logits.dispose();
  cache?.dispose();
  prompt.dispose();
  model.dispose();
  return { tokensPerSec: (d.new * 1000) / total, stepMs };
}

/** The Python that has torch (Debian python3-torch), or null. */
const PY = findTorchPython();

/** Run benchmarks/transformer/torch_peer.py on a spec (2 threads); null without PyTorch. */
function torchPeer(spec) {
  if (!PY) return null;
  const script = fileURLToPath(new URL('./torch_peer.py', import.meta.url));
  return JSON.parse(execFileSync(PY, [script, JSON.stringify({ threads: 2, ...spec })], { encoding: 'utf8', maxBuffer: 1 << 24 }));
}

const window = (xs, at) => median(xs.slice(Math.max(0, at - 8), at + 8));
const results = { machine, quick, train: [], decode: {} };

console.log('## forward + backward (all weights), median ms per batch → tokens/s');
if (!PY) console.log('(PyTorch peer skipped: not installed; apt-get install python3-torch libopenblas0-pthread)');
// Peers alternate with ours in rounds and ratios are taken per round, so machine noise that comes
// and goes hits both sides of each ratio.
for (const s of TRAIN_SHAPES) {
  const rounds = quick || s.reps ? 1 : 3;
  const r = { ours: [], minimal: [], torch: [], vsMinimal: [], vsTorch: [] };
  let params = 0;
  for (let k = 0; k < rounds; k++) {
    const pt = torchPeer({ reps: s.reps ?? REPS, train: [s] })?.train[0].ms ?? null;
    const ours = timeOurs(s);
    const minimal = timeMinimal(s);
    params = ours.params;
    r.ours.push(ours.ms);
    r.minimal.push(minimal);
    r.vsMinimal.push(ours.ms / minimal);
    if (pt) {
      r.torch.push(pt);
      r.vsTorch.push(ours.ms / pt);
    }
  }
  const tokens = s.batch * s.block;
  const row = { name: s.name, params, rounds, oursMs: median(r.ours), minimalMs: median(r.minimal), torchMs: PY ? median(r.torch) : null, oursVsMinimal: median(r.vsMinimal), oursVsTorch: PY ? median(r.vsTorch) : null };
  row.oursTokS = (tokens * 1000) / row.oursMs;
  results.train.push(row);
  console.log(`${s.name}  (${formatCount(params)} params, ${rounds} round${rounds > 1 ? 's' : ''})`);
  console.log(`  @llm/transformer ${row.oursMs.toFixed(0)} ms (${row.oursTokS.toFixed(0)} tok/s) · minimal nanoGPT on tensor-gpu ${row.minimalMs.toFixed(0)} ms (ours ÷ minimal ${row.oursVsMinimal.toFixed(2)})` +
    (PY ? ` · PyTorch ${row.torchMs.toFixed(0)} ms (ours ÷ PyTorch ${row.oursVsTorch.toFixed(2)})` : ''));
}

console.log(`\n## greedy decode, ${DECODE.new} new tokens after a ${DECODE.prompt}-token prompt (nanoGPT CPU shape, batch 1)`);
const torchDecode = torchPeer({ decode: DECODE })?.decode ?? null;
for (const mode of ['cached', 'uncached']) {
  const r = decode(mode === 'cached');
  const at32 = window(r.stepMs, 32);
  const atEnd = window(r.stepMs, DECODE.new - 8);
  const ptd = torchDecode?.[mode];
  results.decode[mode] = { tokensPerSec: r.tokensPerSec, msAt32: at32, msAtEnd: atEnd, torchTokensPerSec: ptd?.tokens_per_s ?? null };
  console.log(`  ${mode.padEnd(8)} ${r.tokensPerSec.toFixed(1)} tok/s · step ms at token 32: ${at32.toFixed(2)}, at token ${DECODE.new - 8}: ${atEnd.toFixed(2)} (ratio ${(atEnd / at32).toFixed(2)})` +
    (ptd ? ` · PyTorch ${ptd.tokens_per_s.toFixed(1)} tok/s` : ''));
}
const tv = torchPeer({});
if (tv) console.log(`\nPyTorch ${tv.torch}, ${tv.threads} threads (torch_peer.py).`);
results.torch = tv ? { version: tv.torch, threads: tv.threads } : null;
if (jsonPath) writeFileSync(jsonPath, JSON.stringify(results, null, 2) + '\n');
