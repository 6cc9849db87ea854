/** Test helpers (not part of the public API): backends, tiny models, comparisons. */
import { expectErrorAsync, rng } from '@llm/kit';
import { tf, initBackend } from '@llm/tensor-gpu';
import { TransformerLM, type ModelConfigInput } from '@llm/transformer';
import { InferError, type InferErrorCode } from '../errors.js';

export { rng, maxAbsDiff } from '@llm/kit';

/** The wasm backend (what users get by default here). */
export async function useWasm(): Promise<void> {
  await initBackend({ backend: 'wasm', log: false });
}

export const expectInferError = (fn: () => unknown, code: InferErrorCode, fragment?: string | RegExp): Promise<InferError> => expectErrorAsync(fn, code, fragment, InferError);

/** Random-weight test configs: GPT-2 (untied head off by default: tied), Llama with GQA, MoE, odd head dims. */
export const CONFIGS = {
  gpt2: { family: 'gpt2', vocabSize: 50, nLayer: 2, nHead: 2, nEmbd: 32, blockSize: 48, initStd: 0.2, seed: 3 },
  llama: { family: 'llama', vocabSize: 60, nLayer: 2, nHead: 4, nKvHead: 2, nEmbd: 32, intermediateSize: 64, blockSize: 48, initStd: 0.2, seed: 5 },
  moe: { family: 'llama', vocabSize: 40, nLayer: 2, nHead: 4, nKvHead: 1, nEmbd: 32, intermediateSize: 32, blockSize: 48, nExperts: 4, nExpertsPerTok: 2, initStd: 0.2, seed: 7 },
  // head dim 18 / 20: attention's 16-wide SIMD steps plus a scalar / a 4-wide tail
  llamaOddHead: { family: 'llama', vocabSize: 50, nLayer: 1, nHead: 2, nKvHead: 1, nEmbd: 36, intermediateSize: 40, blockSize: 48, initStd: 0.2, seed: 13 },
  gpt2OddHead: { family: 'gpt2', vocabSize: 50, nLayer: 1, nHead: 2, nEmbd: 40, blockSize: 48, initStd: 0.2, seed: 17 },
  gpt2moe: { family: 'gpt2', vocabSize: 40, nLayer: 1, nHead: 2, nEmbd: 32, blockSize: 32, nExperts: 3, nExpertsPerTok: 2, activation: 'gelu', tieWordEmbeddings: false, initStd: 0.2, seed: 9 },
} satisfies Record<string, ModelConfigInput>;

/** A TransformerLM whose norms and biases are random too (init makes them 1 and 0). */
export function randomModel(cfg: ModelConfigInput): TransformerLM {
  const base = new TransformerLM(cfg);
  const r = rng(cfg.seed ?? 1);
  const weights = new Map<string, tf.Tensor>();
  for (const [name, v] of base.namedParameters()) {
    if (/(norm|ln_\w+)\.weight$|\.bias$/.test(name)) weights.set(name, tf.tensor(Float32Array.from({ length: v.size }, () => (name.endsWith('.bias') ? 0.2 : 1) * (name.endsWith('.bias') ? r() - 0.5 : 0.5 + r())), v.shape));
  }
  const model = new TransformerLM(cfg, weights);
  base.dispose();
  for (const t of weights.values()) t.dispose();
  return model;
}

/** B×T random ids in [0, V). */
export function randomIdRows(B: number, T: number, V: number, seed: number): number[][] {
  const r = rng(seed);
  return Array.from({ length: B }, () => Array.from({ length: T }, () => Math.floor(r() * V)));
}

