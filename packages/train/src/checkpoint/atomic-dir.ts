/**
 * Directory-level atomic replace: a checkpoint is several files (weights, optimizer moments,
 * trainer state) that must change together. We write a complete new directory beside the old one,
 * then swap with two renames:
 *
 *   dir.tmp-<pid>  (written, fsynced)  →  dir moves to dir.old  →  dir.tmp-<pid> moves to dir  →  rm dir.old
 *
 * A crash (even kill -9) at any point leaves either `dir` or `dir.old` complete; `resolveCheckpointDir`
 * finds it.
 *
 *   await replaceDirAtomic('out/checkpoint', async (tmp) => { await model.save(tmp); ... });
 */
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';

export async function replaceDirAtomic(dir: string, write: (tmp: string) => Promise<void>): Promise<void> {
  const tmp = `${dir}.tmp-${process.pid}`;
  const old = `${dir}.old`;
  await mkdir(dirname(dir), { recursive: true });
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  try {
    await write(tmp);
    await syncDir(tmp);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
  if (await exists(dir)) {
    // keep the complete old copy until the new one is in place
    if (await exists(old)) await rm(old, { recursive: true, force: true });
    await rename(dir, old);
  }
  await rename(tmp, dir);
  await rm(old, { recursive: true, force: true });
}

/** `dir` if it exists, else `dir.old` left by a crash mid-swap, else null. */
export async function resolveCheckpointDir(dir: string): Promise<string | null> {
  if (await exists(dir)) return dir;
  if (await exists(`${dir}.old`)) return `${dir}.old`;
  return null;
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

/** fsync every file in dir and the dir itself, so the rename publishes complete data. */
async function syncDir(dir: string): Promise<void> {
  for (const name of await readdir(dir)) {
    const fh = await open(`${dir}/${name}`, 'r');
    await fh.sync().finally(() => fh.close());
  }
  const dh = await open(dir, 'r');
  await dh.sync().catch(() => undefined).finally(() => dh.close());
}
