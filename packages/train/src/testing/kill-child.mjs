// Child process for the crash-safety test: saves checkpoints in a loop, each one with every weight
// equal to the save number i and trainer_state.step = i, until it is killed (kill -9).
//   node kill-child.mjs <dir>
import { tf, initBackend } from '@llm/tensor-gpu';
import { TransformerLM } from '@llm/transformer';
import { saveTrainingCheckpoint } from '@llm/train';

await initBackend({ backend: 'wasm', log: false });
const dir = process.argv[2];
const model = new TransformerLM({ family: 'gpt2', vocabSize: 256, nLayer: 2, nHead: 4, nEmbd: 128, blockSize: 64 });
const start = Number(process.argv[3] ?? 1);
for (let i = start; ; i++) {
  for (const [, v] of model.namedParameters()) v.assign(tf.fill(v.shape, i));
  const state = { format: 'llm-ts-trainer-state', version: 1, step: i, bestValLoss: null, evalsWithoutImprovement: 0, data: {}, dropout: 0, tokensSeen: 0, elapsedMs: 0, config: {} };
  await saveTrainingCheckpoint(dir, { model, state });
  process.stdout.write(`saved ${i}\n`);
}
