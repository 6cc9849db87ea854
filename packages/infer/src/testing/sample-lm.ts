/**
 * @llm/sample's test model (its src/testing/lm.ts; same exports, same signatures) on the engine: vitest.sample.config.ts
 * swaps that module for this one, so sample's own suite samples from an InferenceModel (a CausalLM)
 * compiled from the TransformerLM it would have used. The tfjs model is disposed once packed.
 * Sample's leak checks count tf tensors; the engine's own resource is KV blocks, so dispose()
 * throws if a cache or sequence still holds any (sample or the engine leaked one).
 *
 *   const m = testLM({ family: 'gpt2', vocabSize: 64, nLayer: 1, nHead: 2, nEmbd: 16, blockSize: 32 });
 *   m instanceof InferenceModel   // true
 */
import { TransformerLM, type ModelConfigInput } from '@llm/transformer';
import { compileForInference } from '../compile.js';
import type { InferenceModel } from '../engine/model.js';

/**
 * KV room: the engine's default (4 contexts of blockSize) but at least 64 blocks of 16 positions.
 * Sample's brute-force beam test runs 36 beams on a blockSize-32 model: 36 rows, each its own
 * (partial) block, more than the default 128 positions hold (the engine then says CACHE_FULL —
 * a pool sized at compile time, where tfjs allocates per cache).
 */
const kvTokens = (blockSize: number): number => Math.max(4 * blockSize, 64 * 16);

/** A fresh engine model of `config` (the TransformerLM of the same seed, packed in f32, one thread, 16-position blocks). */
export function testLM(config: ModelConfigInput): InferenceModel {
  return asTestLM(new TransformerLM(config));
}

/** `model` compiled for the engine; `model` itself is disposed (ownership moves to the result). */
export function asTestLM(model: TransformerLM): InferenceModel {
  let engine: InferenceModel;
  try {
    engine = compileForInference(model, { maxTokens: kvTokens(model.config.blockSize), threads: 1 });
  } finally {
    model.dispose();
  }
  const dispose = engine.dispose.bind(engine);
  engine.dispose = () => {
    const { blocksInUse } = engine.cacheStats();
    dispose();
    if (blocksInUse > 0) throw new Error(`disposed with ${blocksInUse} KV blocks in use: a cache or sequence was never freed`);
  };
  return engine;
}

