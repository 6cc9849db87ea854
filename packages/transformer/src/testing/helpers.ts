/** Test helpers (not part of the public API). */
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { tf, initBackend, readSafetensors, rawToTensor } from '@llm/tensor-gpu';
import { TransformerError, type TransformerErrorCode } from '../errors.js';

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

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
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

/** mulberry32 floats in [0, 1). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** B×T random ids in [lo, V). */
export function randomIds(B: number, T: number, V: number, seed: number, lo = 0): tf.Tensor2D {
  const r = rng(seed);
  return tf.tensor2d(Int32Array.from({ length: B * T }, () => lo + Math.floor(r() * (V - lo))), [B, T], 'int32');
}
