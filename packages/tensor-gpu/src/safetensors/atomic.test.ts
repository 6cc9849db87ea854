// Atomic writes: a failed write must leave an existing file byte-for-byte intact and no temp files.
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { tempPathFor, writeFileAtomic } from '../atomic-write.js';
import { TensorGpuError } from '../errors.js';
import { tf } from '../tf.js';
import { readSafetensors, serializeSafetensors, writeSafetensors, type RawTensor } from './index.js';

let dir: string;
let path: string;
const good = serializeSafetensors({ w: { dtype: 'U8', shape: [3], data: new Uint8Array([1, 2, 3]) } });

beforeAll(async () => {
  await tf.setBackend('cpu');
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'safetensors-atomic-'));
  path = join(dir, 'model.safetensors');
  await writeFile(path, good);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function expectUntouched(): Promise<void> {
  expect(new Uint8Array(await readFile(path))).toEqual(good);
  expect(await readdir(dir)).toEqual(['model.safetensors']);
}

describe('writeSafetensors atomicity', () => {
  it('leaves the old file intact when the input fails validation', async () => {
    const bad = { w: { dtype: 'F32', shape: [2], data: new Uint8Array(3) } as RawTensor };
    const err = await writeSafetensors(path, bad).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TensorGpuError);
    expect((err as TensorGpuError).code).toBe('SAFETENSORS_WRITE');
    expect((err as Error).message).toMatch(/tensor "w": shape \[2\] of F32 needs 8 bytes, data has 3/);
    await expectUntouched();
  });

  it('leaves the old file intact when a tensor is disposed or metadata is bad', async () => {
    const t = tf.tensor([1, 2]);
    t.dispose();
    await expect(writeSafetensors(path, new Map([['t', t]]))).rejects.toThrow(/disposed/);
    const ok = { w: { dtype: 'U8', shape: [0], data: new Uint8Array(0) } as RawTensor };
    await expect(writeSafetensors(path, ok, { k: 5 as unknown as string })).rejects.toThrow(/metadata "k"/);
    await expectUntouched();
  });

  it('replaces the file when the write succeeds', async () => {
    const next = { v: { dtype: 'I8', shape: [1], data: new Uint8Array([0xff]) } as RawTensor };
    await writeSafetensors(path, next, { v: '2' });
    const file = await readSafetensors(path);
    expect([...file.tensors.keys()]).toEqual(['v']);
    expect(file.metadata).toEqual({ v: '2' });
    expect(await readdir(dir)).toEqual(['model.safetensors']);
  });
});

describe('writeFileAtomic', () => {
  it('removes the temp file and keeps the old file when the data source throws mid-write', async () => {
    function* chunks(): Generator<Uint8Array> {
      yield new Uint8Array(1000).fill(7);
      throw new Error('source failed');
    }
    await expect(writeFileAtomic(path, chunks())).rejects.toThrow('source failed');
    await expectUntouched();
  });

  it('rejects chunks that are not bytes, cleaning up', async () => {
    await expect(writeFileAtomic(path, ['text' as unknown as Uint8Array])).rejects.toThrow(TypeError);
    await expectUntouched();
  });

  it('fails cleanly when the directory does not exist', async () => {
    const err = await writeFileAtomic(join(dir, 'missing', 'x.bin'), new Uint8Array(1)).catch((e: unknown) => e);
    expect((err as NodeJS.ErrnoException).code).toBe('ENOENT');
    await expectUntouched();
  });

  it('writes single buffers and async chunk streams', async () => {
    await writeFileAtomic(path, new Uint8Array([9]));
    expect(Array.from(await readFile(path))).toEqual([9]);
    async function* stream(): AsyncGenerator<Uint8Array> {
      yield new Uint8Array([1, 2]);
      yield new Uint8Array(0);
      yield new Uint8Array([3]);
    }
    await writeFileAtomic(path, stream());
    expect(Array.from(await readFile(path))).toEqual([1, 2, 3]);
    expect(await readdir(dir)).toEqual(['model.safetensors']);
  });

  it('puts temp files beside the target, hidden and unique', () => {
    const a = tempPathFor(path);
    expect(a.startsWith(join(dir, '.model.safetensors.'))).toBe(true);
    expect(a.endsWith('.tmp')).toBe(true);
    expect(tempPathFor(path)).not.toBe(a);
  });
});
