// Sampling benchmark: decode tokens/s of @llm/sample's generation loop for the nanoGPT CPU shape at
// batch 1 and batch 8 — on @llm/infer's engine (what llm-chat and llm-train sample use) and on the
// tfjs TransformerLM, with PyTorch's cached greedy loop from benchmarks/transformer/torch_peer.py side
// by side at batch 1 — and speculative decoding with a 1-layer draft vs plain decoding of the target
// (both on the engine; `--engine tfjs` runs them on the tfjs models as before).
//
// Speculation needs models that agree: the target is the Tiny Shakespeare model of
// benchmarks/train (benchmarks/results/train-shakespeare/run-byte/best) when it exists, else one trained
// here for a few minutes; the 1-layer draft (same width and vocabulary) is trained here on the same
// data. Without ../shared/data both are random and the speculative figures are only a smoke test.
//
//   node benchmarks/sample/bench.mjs [--quick] [--engine tfjs]
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { machineLine, sharedDataDir, sharedDataPath, timeRuns } from '@llm/kit';
import { findTorchPython } from '../lib/torch.mjs';
import { tf, initBackend } from '@llm/tensor-gpu';
import { TransformerLM, loadModel, summarize } from '@llm/transformer';
import { resolveTokenizer, writeTokenShard, TokenShard, splitTokens, WindowSampler, train } from '@llm/train';
import { generate, speculativeGenerate } from '@llm/sample';
import { compileForInference } from '@llm/infer';

const quick = process.argv.includes('--quick');
const onTfjs = process.argv.includes('--engine') && process.argv[process.argv.indexOf('--engine') + 1] === 'tfjs';
const here = fileURLToPath(new URL('.', import.meta.url));
const corpus = sharedDataPath('tinyshakespeare.txt');
const info = await initBackend({ log: false });
const machine = machineLine(`backend ${info.backend}`);
console.log(`# @llm/sample benchmark — ${machine}${quick ? ' (quick)' : ''}\n`);
const results = { machine, decode: {}, speculative: null };

const NEW = quick ? 64 : 200;
const SHAPE = { family: 'gpt2', vocabSize: 256, nLayer: 4, nHead: 4, nEmbd: 128, blockSize: 320, bias: false };

// ---- decode throughput -------------------------------------------------------------------
console.log(`## decode: ${NEW} new tokens after a 64-token prompt, nanoGPT CPU shape (0.8M params), median of 3`);
const decodeModel = new TransformerLM(SHAPE);
const decodeEngine = compileForInference(decodeModel);
const prompt = Array.from({ length: 64 }, (_, i) => (i * 37) % 256);
for (const B of [1, 8]) {
  const prompts = Array.from({ length: B }, (_, b) => prompt.map((x) => (x + b) % 256));
  for (const [name, lm] of [['engine', decodeEngine], ['tfjs', decodeModel]]) {
    const { median: ms } = timeRuns((r) => generate(lm, prompts, { maxNewTokens: NEW, temperature: 0.8, topK: 40, seed: r, eosTokenId: null }), { reps: 3 });
    const tps = (B * NEW * 1000) / ms;
    results.decode[name === 'engine' ? `batch${B}` : `tfjsBatch${B}`] = tps;
    console.log(`  batch ${B}, ${name.padEnd(6)}: ${tps.toFixed(0)} tok/s (${(ms / NEW).toFixed(2)} ms per step)`);
  }
}
decodeEngine.dispose();
decodeModel.dispose();
const PY = findTorchPython();
if (PY) {
  const spec = { threads: 2, decode: { vocab: 256, n_embd: 128, n_layer: 4, n_head: 4, prompt: 64, new: NEW } };
  const pt = JSON.parse(execFileSync(PY, [join(here, '../transformer/torch_peer.py'), JSON.stringify(spec)], { encoding: 'utf8' }));
  results.decode.torchBatch1 = pt.decode.cached.tokens_per_s;
  console.log(`  PyTorch (cached greedy loop, batch 1, 2 threads): ${pt.decode.cached.tokens_per_s.toFixed(0)} tok/s → ours ÷ PyTorch ${(results.decode.batch1 / pt.decode.cached.tokens_per_s).toFixed(2)} (higher is better)`);
}

// ---- speculative decoding ---------------------------------------------------------------------
console.log(`\n## speculative decoding, 1-layer draft (k = 4), on ${onTfjs ? 'the tfjs models' : '@llm/infer engines'}`);
const trained = corpus !== null;
let target;
let draft;
if (trained) {
  const tok = await resolveTokenizer('byte');
  const dir = join(here, '../results/sample-shakespeare');
  await writeTokenShard(join(dir, 'tokens'), [corpus], tok);
  const { train: tr } = splitTokens(await TokenShard.open(join(dir, 'tokens')), 0.1);
  const fit = async (cfg, iters, seed) => {
    const m = new TransformerLM(cfg);
    await train(m, { train: new WindowSampler(tr, { batchSize: 12, blockSize: 64, seed }) }, { maxIters: iters, lr: 2e-3, minLr: 2e-4, warmupIters: 50, beta2: 0.99, evalInterval: 0, decayRule: 'all-2d' });
    return m;
  };
  const best = join(here, '../results/train-shakespeare/run-byte/best');
  target = existsSync(join(best, 'model.safetensors')) ? await loadModel(best) : await fit({ ...SHAPE, blockSize: 64 }, quick ? 150 : 600, 1);
  const t0 = performance.now();
  draft = await fit({ ...SHAPE, blockSize: target.config.blockSize, nLayer: 1 }, quick ? 150 : 600, 2);
  console.log(`  target: ${summarize(target)}${existsSync(join(best, 'model.safetensors')) ? ' (benchmarks/train run)' : ' (trained here)'}`);
  console.log(`  draft:  ${summarize(draft)} (trained here in ${((performance.now() - t0) / 1000).toFixed(0)} s)`);
} else {
  console.log(`  (tinyshakespeare.txt absent from ${sharedDataDir()}: random target and draft, expect no speed-up)`);
  target = new TransformerLM({ ...SHAPE, blockSize: 64 });
  draft = new TransformerLM({ ...SHAPE, blockSize: 64, nLayer: 1 });
}
const [targetLm, draftLm] = onTfjs ? [target, draft] : [compileForInference(target), compileForInference(draft)];
const enc = (s) => Array.from(Buffer.from(s));
const prompts = ['ROMEO:\nWhat light', 'First Citizen:\nBefore we', 'KING HENRY:\nNow'].map(enc);
const NEW_SPEC = quick ? 24 : 40; // the context is 64 bytes
const spec = { greedy: {}, sampled: {} };
for (const [mode, opts] of [['greedy', { temperature: 0 }], ['sampled', { temperature: 0.8, topK: 40 }]]) {
  let plainMs = 0;
  let specMs = 0;
  let acc = 0;
  let drafted = 0;
  let same = true;
  for (const [i, p] of prompts.entries()) {
    const t0 = performance.now();
    const plain = generate(targetLm, p, { maxNewTokens: NEW_SPEC, eosTokenId: null, seed: i, ...opts }).sequences[0];
    const t1 = performance.now();
    const s = speculativeGenerate(targetLm, draftLm, p, { maxNewTokens: NEW_SPEC, numDraftTokens: 4, eosTokenId: null, seed: i, ...opts });
    const t2 = performance.now();
    plainMs += t1 - t0;
    specMs += t2 - t1;
    acc += s.stats.accepted;
    drafted += s.stats.drafted;
    if (mode === 'greedy' && s.sequence.join() !== plain.join()) same = false;
  }
  spec[mode] = { acceptanceRate: acc / drafted, speedup: plainMs / specMs, ...(mode === 'greedy' ? { identicalToPlainGreedy: same } : {}) };
  console.log(`  ${mode.padEnd(7)} acceptance ${(acc / drafted).toFixed(2)} · speed-up ${(plainMs / specMs).toFixed(2)}× (plain ${(plainMs / prompts.length).toFixed(0)} ms vs speculative ${(specMs / prompts.length).toFixed(0)} ms per ${NEW_SPEC} tokens)${mode === 'greedy' ? ` · output identical to plain greedy: ${same}` : ''}`);
}
results.speculative = { trained, engine: onTfjs ? 'tfjs' : 'infer', ...spec };
if (!onTfjs) for (const e of [targetLm, draftLm]) e.dispose();
target.dispose();
draft.dispose();
writeFileSync(join(here, '../results/sample.json'), JSON.stringify(results, null, 2) + '\n');
void tf;
