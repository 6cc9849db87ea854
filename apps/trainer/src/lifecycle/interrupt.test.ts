// Ctrl-C in the middle of a training stage, through the built bin as a user runs it: the stage
// saves its checkpoint and stops (exit 0, no marker), the stage before keeps its result, and the
// attempt is recorded so the next `npm start` continues it (lifecycle.test.ts runs that part).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../../dist/bin.js', import.meta.url));
let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'llm-interrupt-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

it('SIGINT during pretrain: checkpoint saved, exit 0, no pretrain marker, the tokenizer stage intact', async () => {
  const child = spawn(process.execPath, [BIN, 'start', '--quick', '--no-serve', '--vocab-size', '300', '--pretrain-iters', '2000', '--out', 'out'], { cwd: root });
  let stderr = '';
  let sent = false;
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    if (!sent && /^step 20\/2000/m.test(stderr)) {
      sent = true;
      child.kill('SIGINT');
    }
  });
  const code = await new Promise<number | null>((ok) => child.on('exit', ok));
  expect(sent, stderr).toBe(true);
  expect(code, stderr).toBe(0);
  expect(stderr).toMatch(/pretrain stopped before its last step; its checkpoint is saved — run npm start again to continue/);
  const out = join(root, 'out');
  expect(existsSync(join(out, 'stages', 'pretrain.json'))).toBe(false);
  expect(existsSync(join(out, 'stages', 'pretrain.partial.json'))).toBe(true);
  expect(JSON.parse(await readFile(join(out, 'stages', 'tokenizer.json'), 'utf8'))).toMatchObject({ stage: 'tokenizer', outputs: ['corpus.txt', 'tokenizer.json', 'chat_template.jinja'] });
  const state = JSON.parse(await readFile(join(out, 'checkpoint', 'trainer_state.json'), 'utf8')) as { step: number };
  expect(state.step).toBeGreaterThanOrEqual(20);
  expect(state.step).toBeLessThan(2000);
  const events = (await readFile(join(out, 'lifecycle.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { event: string; stage: string });
  expect(events.at(-1)).toMatchObject({ event: 'interrupted', stage: 'pretrain' });
}, 120_000);
