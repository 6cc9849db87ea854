import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findModelDir } from './model-dir.js';
import { TransformerError } from './errors.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'model-dir-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

/** A fake model dir whose config.json was written `secondsAgo` ago. */
async function model(dir: string, secondsAgo: number): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'config.json'), '{}');
  const t = new Date(Date.now() - secondsAgo * 1000);
  await utimes(join(dir, 'config.json'), t, t);
}

describe('findModelDir', () => {
  it('a checkpoint directory is itself', async () => {
    await model(join(root, 'a'), 0);
    expect(await findModelDir(join(root, 'a'))).toBe(join(root, 'a'));
  });

  it('a run folder gives best/ over checkpoint/, and the newest run one level down', async () => {
    const out = join(root, 'out');
    await model(join(out, 'best'), 100);
    await model(join(out, 'checkpoint'), 50); // the latest step is newer than best, best still wins
    expect(await findModelDir(out)).toBe(join(out, 'best'));
    await model(join(out, 'sft', 'checkpoint'), 10); // a later fine-tuning run without a best/ yet
    expect(await findModelDir(out)).toBe(join(out, 'sft', 'checkpoint'));
    await model(join(out, 'sft', 'best'), 20);
    expect(await findModelDir(out)).toBe(join(out, 'sft', 'best'));
    expect(await findModelDir(out, { nested: false })).toBe(join(out, 'best')); // the run in out/ itself
    await model(join(out, 'best'), 0); // pretraining resumed after the fine-tune
    expect(await findModelDir(out)).toBe(join(out, 'best'));
  });

  it('nothing there: a typed error that says what to do', async () => {
    await mkdir(join(root, 'empty', 'data'), { recursive: true });
    for (const p of [join(root, 'empty'), join(root, 'missing')]) {
      const e = await findModelDir(p).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(TransformerError);
      expect((e as TransformerError).code).toBe('CHECKPOINT_INVALID');
      expect((e as TransformerError).message).toMatch(/no model in .*(npm start|llm-train pretrain)/);
    }
  });
});
