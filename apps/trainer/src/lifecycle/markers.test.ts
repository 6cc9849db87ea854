// Stage markers: done only when present, current (after + settings) and its outputs exist.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { clearMarker, doneMarker, markerPath, readMarker, settingsHash, writeMarker } from './markers.js';

let out: string;
beforeEach(async () => {
  out = await mkdtemp(join(tmpdir(), 'llm-markers-'));
});
afterEach(() => rm(out, { recursive: true, force: true }));

it('a stage is done when its marker follows the previous one, has the same settings and its outputs exist', async () => {
  expect(await doneMarker(out, 'sft', 'p1', { iters: 3 })).toBeNull(); // no marker
  await mkdir(join(out, 'sft', 'best'), { recursive: true });
  const m = await writeMarker(out, { stage: 'sft', after: 'p1', settings: { iters: 3 }, outputs: ['sft/best'], seconds: 1.234 });
  expect(m).toMatchObject({ stage: 'sft', after: 'p1', settings: settingsHash({ iters: 3 }), seconds: 1.2 });
  expect((await doneMarker(out, 'sft', 'p1', { iters: 3 }))?.id).toBe(m.id);
  expect(await doneMarker(out, 'sft', 'p2', { iters: 3 })).toBeNull(); // the stage before was redone
  expect(await doneMarker(out, 'sft', 'p1', { iters: 4 })).toBeNull(); // other settings
  await rm(join(out, 'sft', 'best'), { recursive: true });
  expect(await doneMarker(out, 'sft', 'p1', { iters: 3 })).toBeNull(); // its result is gone
});

it('every completion gets a new id; clearMarker removes it; a damaged marker counts as none', async () => {
  const a = await writeMarker(out, { stage: 'tokenizer', after: null, settings: 1, outputs: [], seconds: 0 });
  const b = await writeMarker(out, { stage: 'tokenizer', after: null, settings: 1, outputs: [], seconds: 0 });
  expect(a.id).not.toBe(b.id);
  expect((await doneMarker(out, 'tokenizer', null, 1))?.id).toBe(b.id);
  await clearMarker(out, 'tokenizer');
  expect(await readMarker(out, 'tokenizer')).toBeNull();
  await writeFile(markerPath(out, 'tokenizer'), '{"stage": "tokenizer", "id": ');
  expect(await readMarker(out, 'tokenizer')).toBeNull();
  await writeFile(markerPath(out, 'tokenizer'), JSON.stringify({ ...b, stage: 'sft' }));
  expect(await readMarker(out, 'tokenizer')).toBeNull();
});
