/**
 * Atomic text file writes: temp file in the target's directory, fsync, rename over the target,
 * fsync of the directory (so the rename itself survives a power cut). Readers see the old file or
 * the new one, never a torn one; on error the temp file is removed.
 *
 * The same durability as @llm/tensor-gpu's `writeFileAtomic`; kept as a small local copy because
 * this package must not depend on the tensor layer.
 *
 *   await writeTextAtomic('out/tokenizer.json', text);
 */
import { randomBytes } from 'node:crypto';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export async function writeTextAtomic(path: string, text: string): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  let fh: FileHandle | undefined;
  try {
    fh = await open(tmp, 'wx');
    await fh.writeFile(text, 'utf8');
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

/** Best effort: some platforms (Windows) cannot open or fsync a directory. */
async function syncDirectory(dir: string): Promise<void> {
  const fh = await open(dir, 'r').catch(() => undefined);
  await fh?.sync().catch(() => undefined);
  await fh?.close().catch(() => undefined);
}
