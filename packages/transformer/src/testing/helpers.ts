/** Test helpers (not part of the public API). */
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { tf, initBackend, readSafetensors, rawToTensor } from '@llm/tensor-gpu';
import { TransformerError, type TransformerErrorCode } from '../errors.js';
// The seeded PRNG and array comparison tensor-gpu's tests use (test-only source, no tfjs import).
import { rng, maxAbsDiff } from '../../../tensor-gpu/src/testing/rng.js';

export { rng, maxAbsDiff };

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

/** Assert fn throws (or rejects with) a TransformerError with `code` and a message matching `fragment`. */
export async function expectError(fn: () => unknown, code: TransformerErrorCode, fragment: string | RegExp): Promise<void> {
  let err: unknown;
  try {
    await fn();
  } catch (e) {
    err = e;
  }
  expect(err, 'expected a TransformerError').toBeInstanceOf(TransformerError);
  expect((err as TransformerError).code).toBe(code);
  expect((err as Error).message).toMatch(fragment);
}

/** B×T random ids in [lo, V). */
export function randomIds(B: number, T: number, V: number, seed: number, lo = 0): tf.Tensor2D {
  const r = rng(seed);
  return tf.tensor2d(Int32Array.from({ length: B * T }, () => lo + Math.floor(r() * (V - lo))), [B, T], 'int32');
}
