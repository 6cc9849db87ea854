/** Test helpers (not part of the public API). */
import { fileURLToPath } from 'node:url';
import { expectErrorAsync, rng } from '@llm/kit';
import { tf, initBackend, readSafetensors, rawToTensor } from '@llm/tensor-gpu';
import { TransformerError, type TransformerErrorCode } from '../errors.js';

// The shared seeded PRNG and array comparison, for the tests that import them from here.
export { rng, maxAbsDiff } from '@llm/kit';

/** The wasm backend with llm-ts kernels (what users get by default here). */
export async function useWasm(): Promise<void> {
  await initBackend({ backend: 'wasm', log: false });
}

/** Absolute path of a committed PyTorch fixture directory (fixtures/make_fixtures.py). */
export const fixtureDir = (name: string): string => fileURLToPath(new URL(`../../fixtures/${name}`, import.meta.url));

/** fixtures/<name>/expected.safetensors as tensors (int32 ids, float32 values). */
export async function readExpected(name: string): Promise<Map<string, tf.Tensor>> {
  const { tensors } = await readSafetensors(`${fixtureDir(name)}/expected.safetensors`);
  return new Map([...tensors].map(([k, raw]) => [k, rawToTensor(raw)]));
}

/** Assert fn throws (or rejects with) a TransformerError with `code` and a message matching `fragment` (the kit's expectErrorAsync, typed). */
export const expectError = (fn: () => unknown, code: TransformerErrorCode, fragment?: string | RegExp): Promise<TransformerError> => expectErrorAsync(fn, code, fragment, TransformerError);

/** B×T random ids in [lo, V). */
export function randomIds(B: number, T: number, V: number, seed: number, lo = 0): tf.Tensor2D {
  const r = rng(seed);
  return tf.tensor2d(Int32Array.from({ length: B * T }, () => lo + Math.floor(r() * (V - lo))), [B, T], 'int32');
}
