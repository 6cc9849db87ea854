/**
 * @llm/sample's test model (../sample/src/testing/lm.ts) on the engine: vitest.sample.config.ts
 * swaps that module for this one, so sample's own suite samples from an InferenceModel (a CausalLM)
 * compiled from the TransformerLM it would have used. The tfjs model is disposed once packed.
 *
 *   const m = testLM({ family: 'gpt2', vocabSize: 64, nLayer: 1, nHead: 2, nEmbd: 16, blockSize: 32 });
 *   m instanceof InferenceModel   // true
 */
import { TransformerLM, type ModelConfigInput } from '@llm/transformer';
import { compileForInference } from '../compile.js';
import type { InferenceModel } from '../engine/model.js';

/**
 * KV room for what sample's tests ask of one model at once (36 beams that each copy a partial
 * block, a 2 × 1000-token batch, a speculative draft of 64): at least 8 contexts, at least 8192.
 */
const kvTokens = (blockSize: number): number => Math.max(8192, 8 * blockSize);

/** A fresh engine model of `config` (the TransformerLM of the same seed, packed in f32, one thread). */
export function testLM(config: ModelConfigInput): InferenceModel {
  return asTestLM(new TransformerLM(config));
}

/** `model` compiled for the engine; `model` itself is disposed (ownership moves to the result). */
export function asTestLM(model: TransformerLM): InferenceModel {
  try {
    return compileForInference(model, { maxTokens: kvTokens(model.config.blockSize), blockTokens: 4, threads: 1 });
  } finally {
    model.dispose();
  }
}
