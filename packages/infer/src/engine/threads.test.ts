// Worker threads: a step split over 2 or 3 threads (rows of every product, tokens, attention
// heads; MoE routing on thread 0) gives bit-identical logits to one thread, for prefill, batch
// decode and a mix; dispose stops the workers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TransformerLM } from '@llm/transformer';
import { compileForInference } from '../compile.js';
import type { InferenceModel } from './model.js';
import { CONFIGS, expectInferError, randomIdRows, randomModel, useWasm } from '../testing/helpers.js';

beforeAll(useWasm);

const run = (m: InferenceModel, prompts: number[][]): Float32Array => {
  const seqs = prompts.map(() => m.newSequence());
  const out: Float32Array[] = [];
  out.push(...m.step([{ seq: seqs[0]!, tokens: prompts[0]! }], { allLogits: true }));
  out.push(...m.step(prompts.map((p, i) => ({ seq: seqs[i]!, tokens: i === 0 ? [3] : p })), { allLogits: true }));
  for (let s = 0; s < 3; s++) out.push(...m.step(seqs.map((seq, i) => ({ seq, tokens: [(s * 5 + i) % 30] }))));
  seqs.forEach((s) => s.free());
  return Float32Array.from(out.flatMap((r) => Array.from(r)));
};

describe.each(['gpt2', 'llama', 'moe'] as const)('%s', (name) => {
  let ref: TransformerLM;
  beforeAll(() => {
    ref = randomModel(CONFIGS[name]);
  });
  afterAll(() => ref.dispose());

  it.each([2, 3])('%i threads = 1 thread, bit for bit', (threads) => {
    const prompts = randomIdRows(3, 11, 30, 8);
    const one = compileForInference(ref, { maxTokens: 128, blockTokens: 4, maxBatchTokens: 16 });
    const many = compileForInference(ref, { maxTokens: 128, blockTokens: 4, maxBatchTokens: 16, threads });
    expect(many.threads).toBe(threads);
    const a = run(one, prompts);
    const b = run(many, prompts);
    expect(b.length).toBe(a.length);
    expect(Buffer.from(b.buffer).equals(Buffer.from(a.buffer))).toBe(true);
    one.dispose();
    many.dispose();
  });
});

it('threads must be an integer in [1, 64]', async () => {
  const ref = randomModel(CONFIGS.gpt2);
  await expectInferError(() => compileForInference(ref, { threads: 0 }), 'INVALID_ARGUMENT', /threads must be an integer in \[1, 64\], got 0/);
  ref.dispose();
});

it('a dead worker → WORKER_FAILED, and the step gives back the blocks it took', async () => {
  const ref = randomModel(CONFIGS.llama);
  const eng = compileForInference(ref, { maxTokens: 64, blockTokens: 4, threads: 2 });
  const s = eng.newSequence();
  eng.step([{ seq: s, tokens: [1, 2, 3] }]);
  const before = eng.cacheStats();
  const pool = (eng as unknown as { workers: { workers: Array<{ terminate(): Promise<number> }> } }).workers;
  await pool.workers[0]!.terminate();
  await new Promise((r) => setTimeout(r, 50)); // let the exit event arrive
  await expectInferError(() => eng.step([{ seq: s, tokens: [4, 5, 6, 7, 8] }]), 'WORKER_FAILED', /worker 1 exited.*threads: 1/);
  expect(eng.cacheStats()).toEqual(before);
  expect(s.length).toBe(3);
  eng.dispose();
  ref.dispose();
});
