/**
 * Directory-level atomic replace: a checkpoint is several files (weights, optimizer moments,
 * trainer state) that must change together. We write a complete new directory beside the old one,
 * then swap with two renames:
 *
 *   dir.tmp-<pid>  (written, fsynced)  →  dir moves to dir.old  →  dir.tmp-<pid> moves to dir  →  rm dir.old
 *
 * A crash (even kill -9) at any point leaves either `dir` or `dir.old` complete; `resolveCheckpointDir`
 * finds it. What a killed run leaves behind is cleaned on the next save or load of the same `dir`
 * (`removeStaleSiblings`): `dir.tmp-<pid>` folders whose process is gone, and `dir.old` once `dir`
 * is complete again — only names of exactly that form, nothing else.
 *
 *   await replaceDirAtomic('out/checkpoint', async (tmp) => { await model.save(tmp); ... });
 */
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export async function replaceDirAtomic(dir: string, write: (tmp: string) => Promise<void>): Promise<void> {
  const tmp = `${dir}.tmp-${process.pid}`;
  const old = `${dir}.old`;
  await mkdir(dirname(dir), { recursive: true });
  await removeStaleSiblings(dir);
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

/** `dir` if it exists, else `dir.old` left by a crash mid-swap, else null. Stale siblings of dead runs are removed on the way. */
export async function resolveCheckpointDir(dir: string): Promise<string | null> {
  await removeStaleSiblings(dir);
  if (await exists(dir)) return dir;
  if (await exists(`${dir}.old`)) return `${dir}.old`;
  return null;
}

/**
 * Removes what interrupted saves of `dir` left beside it: `<dir>.tmp-<pid>` whose process is no
 * longer alive (a live one may be another run writing right now, so it is left alone), and
 * `<dir>.old` when `dir` itself exists (then `.old` is the previous copy, or a half-deleted one;
 * without `dir` it is the complete copy a resume needs and is kept). Nothing else is touched.
 * Returns the paths removed.
 *
 *   await removeStaleSiblings('out/checkpoint');   // ['out/checkpoint.tmp-4711'] after a kill -9
 */
export async function removeStaleSiblings(dir: string): Promise<string[]> {
  const parent = dirname(dir);
  const base = basename(dir);
  const names = await readdir(parent).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const name of names) {
    if (!name.startsWith(`${base}.tmp-`)) continue;
    const pid = name.slice(base.length + 5);
    if (!/^[1-9]\d{0,9}$/.test(pid) || Number(pid) === process.pid || isAlive(Number(pid))) continue;
    await rm(join(parent, name), { recursive: true, force: true });
    removed.push(join(parent, name));
  }
  if (names.includes(`${base}.old`) && names.includes(base)) {
    await rm(join(parent, `${base}.old`), { recursive: true, force: true });
    removed.push(join(parent, `${base}.old`));
  }
  return removed;
}

/** Whether a process with this id exists (EPERM: it does, but is not ours). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
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
