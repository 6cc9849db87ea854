// Decode step time at batch 1 (nanoGPT CPU shape, 0.8M params): the raw cached forward of one token
// and a greedy `generate` step, medians over rounds. Prints one JSON line, so two builds can be
// compared side by side (e.g. before/after a change, alternating runs):
//
//   node benchmarks/sample/decode-step.mjs [--rounds 5] [--tokens 200]
import { tf, initBackend } from '@llm/tensor-gpu';
import { TransformerLM } from '@llm/transformer';
import { generate } from '@llm/sample';
import { machineLine, median } from '@llm/kit';

const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const ROUNDS = arg('rounds', 5);
const NEW = arg('tokens', 200);
const info = await initBackend({ log: false });
const model = new TransformerLM({ family: 'gpt2', vocabSize: 256, nLayer: 4, nHead: 4, nEmbd: 128, blockSize: 320, bias: false, seed: 1 });
const prompt = Array.from({ length: 64 }, (_, i) => (i * 37) % 256);

/** ms per cached forward of one token after the 64-token prompt (the model's own decode step). */
function forwardStep() {
  const cache = model.createCache(1, 64 + NEW);
  tf.dispose(model.forward(tf.tensor2d([prompt], [1, 64], 'int32'), { cache }));
  const t0 = performance.now();
  for (let i = 0; i < NEW; i++) {
    tf.tidy(() => {
      const logits = model.forward(tf.tensor2d([[i % 256]], [1, 1], 'int32'), { cache });
      logits.dataSync(); // the logits reach the host every step, as in generation
    });
  }
  const ms = (performance.now() - t0) / NEW;
  cache.dispose?.();
  return ms;
}

/** ms per step of greedy generation (prefill excluded by subtracting a 1-token run). */
function generateStep() {
  const t = (n) => {
    const t0 = performance.now();
    generate(model, [prompt], { maxNewTokens: n, temperature: 0, eosTokenId: null });
    return performance.now() - t0;
  };
  return (t(NEW + 1) - t(1)) / NEW;
}

forwardStep(); // warm-up
const fwd = [];
const gen = [];
for (let r = 0; r < ROUNDS; r++) {
  fwd.push(forwardStep());
  gen.push(generateStep());
}
console.log(JSON.stringify({ machine: machineLine(`backend ${info.backend}`), tokens: NEW, rounds: ROUNDS, forwardStepMs: +median(fwd).toFixed(3), generateStepMs: +median(gen).toFixed(3) }));
model.dispose();
