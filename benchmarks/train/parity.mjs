// Step-for-step parity with PyTorch: the same initial weights and the same batches, trained by
// @llm/train here and by plain PyTorch (benchmarks/train/parity.py: torch.optim.AdamW,
// clip_grad_norm_, the same schedule) — the per-step losses must agree to float precision.
//
//   node benchmarks/train/parity.mjs [steps=200]     (needs ../shared/data and Debian's python3-torch)
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { sharedDataDir, sharedDataPath } from '@llm/kit';
import { findTorchPython } from '../lib/torch.mjs';
import { tf, initBackend, writeSafetensors } from '@llm/tensor-gpu';
import { TransformerLM } from '@llm/transformer';
import { resolveTokenizer, writeTokenShard, TokenShard, splitTokens, train } from '@llm/train';
import { Rng } from '@llm/tensor-gpu';
const here = fileURLToPath(new URL('.', import.meta.url));
const corpus = sharedDataPath('tinyshakespeare.txt');
if (corpus === null) {
  console.log(`Tiny Shakespeare not found in ${sharedDataDir()} (../shared/data, or LLM_SHARED_DATA): nothing to compare.`);
  process.exit(0);
}
const PY = findTorchPython();
if (!PY) {
  console.log('PyTorch not installed (apt-get install python3-torch libopenblas0-pthread): nothing to compare.');
  process.exit(0);
}
const work = join(here, '../results/parity');
mkdirSync(work, { recursive: true });
await initBackend({ log: false });
const tok = await resolveTokenizer('char', [corpus]);
await writeTokenShard(join(work, 'tokens'), [corpus], tok);
const shard = await TokenShard.open(join(work, 'tokens'));
const { train: tr } = splitTokens(shard, 0.1);
const N = Number(process.argv[2] ?? 200);
const r = new Rng(99);
const starts = Array.from({ length: N * 12 }, () => Math.floor(r.next() * (tr.end - 64)));
writeFileSync(join(work, 'starts.json'), JSON.stringify(starts));
const model = new TransformerLM({ family: 'gpt2', vocabSize: 65, nLayer: 4, nHead: 4, nEmbd: 128, blockSize: 64, bias: false, activation: 'gelu_tanh', seed: 1337 });
await writeSafetensors(join(work, 'init.safetensors'), new Map(model.namedParameters()));
let k = 0;
const src = { next() { const inputs = new Int32Array(12 * 64), targets = new Int32Array(12 * 64); for (let b = 0; b < 12; b++) { const w = shard.read(starts[k++], 65); inputs.set(w.subarray(0, 64), b * 64); targets.set(w.subarray(1), b * 64); } return { inputs, targets, batch: 12, length: 64 }; }, getState: () => k, setState: (s) => { k = s; } };
const losses = [];
await train(model, { train: src }, { maxIters: N, lr: 1e-3, minLr: 1e-4, warmupIters: 100, lrDecayIters: 2000, weightDecay: 0.1, decayRule: 'all-2d', beta1: 0.9, beta2: 0.99, gradClip: 1, evalInterval: 0 }, { onStep: (s) => losses.push(s.loss) });
writeFileSync(join(work, 'js.json'), JSON.stringify(losses));
console.log(`@llm/train ${losses.filter((_, i) => i % 20 === 0 || i === N - 1).map((x) => x.toFixed(4)).join(' ')}`);
process.stdout.write(execFileSync(PY, [join(here, 'parity.py'), work, corpus], { encoding: 'utf8' }));
