/**
 * The model behind every @llm/sample test that samples from a real transformer (not part of the
 * package surface). Here it is @llm/transformer's TransformerLM on tfjs; @llm/infer's
 * vitest.sample.config.ts swaps this module for one returning its WebAssembly engine, so the same
 * tests check that any CausalLM runs unchanged.
 *
 *   const m = testLM({ family: 'gpt2', vocabSize: 64, nLayer: 1, nHead: 2, nEmbd: 16, blockSize: 32 });
 *   generate(m, [1, 2], { maxNewTokens: 5 }); m.dispose();
 *   const b = asTestLM(await loadModel(dir));   // a model built elsewhere (ownership moves to b)
 */
import { TransformerLM, type ModelConfigInput } from '@llm/transformer';
import type { CausalLMLike } from '../model.js';

/** What the tests use: the CausalLM contract plus dispose. */
export type TestLM = CausalLMLike & { dispose(): void };

/** A fresh model of `config` (random weights from config.seed). */
export function testLM(config: ModelConfigInput): TestLM {
  return asTestLM(new TransformerLM(config));
}

/** `model` as the tests' model (here: itself). */
export function asTestLM(model: TransformerLM): TestLM {
  return model;
}
