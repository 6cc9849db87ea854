/**
 * Atomic file writes: the data goes to a temp file in the target's directory, is fsynced, then
 * renamed over the target. Readers see the old file or the new one, never a torn one; a throw
 * (or a crash) mid-write leaves any existing file untouched, and a throw removes the temp file.
 *
 *   await writeFileAtomic('model.safetensors', [header, ...tensorBytes]);
 */
import { randomBytes } from 'node:crypto';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** One buffer, or chunks written back to back (sync or async iterables are consumed lazily). */
export type AtomicWriteData = Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>;

/** Largest single write() call; Node rejects lengths above 2 GiB. */
const MAX_WRITE = 1 << 30;

/**
 * Writes `data` to `path` atomically (temp file + fsync + rename + directory fsync). Errors are
 * Node's own (ENOENT, EACCES, ...) or whatever the data iterable throws; the temp file is removed.
 *
 *   await writeFileAtomic('/tmp/out.bin', new Uint8Array([1, 2, 3]));
 *   await writeFileAtomic('/tmp/out.bin', [new Uint8Array([1]), new Uint8Array([2, 3])]);
 */
export async function writeFileAtomic(path: string, data: AtomicWriteData): Promise<void> {
  const tmp = tempPathFor(path);
  let fh: FileHandle | undefined;
  try {
    fh = await open(tmp, 'wx');
    for await (const chunk of data instanceof Uint8Array ? [data] : data) await writeChunk(fh, chunk);
    await fh.sync();
    await fh.close();
    fh = undefined;
    await rename(tmp, path);
  } catch (err) {
    await fh?.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await syncDirectory(dirname(path));
}

/**
 * A fresh temp path beside `path` (same directory, so the final rename cannot cross devices).
 *
 *   tempPathFor('/m/a.safetensors')  // '/m/.a.safetensors.3f9c1a2b7d4e.tmp'
 */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
}

async function writeChunk(fh: FileHandle, chunk: Uint8Array): Promise<void> {
  if (!(chunk instanceof Uint8Array)) throw new TypeError('writeFileAtomic: every chunk must be a Uint8Array');
  let off = 0;
  while (off < chunk.byteLength) {
    const { bytesWritten } = await fh.write(chunk, off, Math.min(chunk.byteLength - off, MAX_WRITE));
    off += bytesWritten;
  }
}

/** Makes the rename durable. Best effort: some platforms (Windows) cannot fsync a directory. */
async function syncDirectory(dir: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch {
    // Not supported here; the data itself is already synced.
  } finally {
    await fh?.close().catch(() => undefined);
  }
}
