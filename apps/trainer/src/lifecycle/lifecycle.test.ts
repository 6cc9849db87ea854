// The lifecycle on a tiny config, up to and excluding serve: every stage runs and writes its
// result; a second run skips them all; a stage whose result is damaged (as after a crash) is redone
// with the stages after it while the earlier ones stay as they were; an interrupted training stage
// continues from its checkpoint.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readGguf } from '@llm/quant';
import { CHAT_TEMPLATE } from '../corpus/chat-format.js';
import { CliError } from '../options.js';
import { lifecycleConfig, stageSettings, type LifecycleConfig } from './config.js';
import { readMarker, settingsHash } from './markers.js';
import { runLifecycle } from './run.js';

let root: string;
let cfg: LifecycleConfig;
const lines: string[] = [];
const log = (s: string) => void lines.push(s);
const mtime = async (p: string) => (await stat(join(cfg.out, p))).mtimeMs;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'llm-lifecycle-'));
  cfg = {
    ...lifecycleConfig({ out: join(root, 'out'), quick: true }),
    corpusBytes: 40_000,
    vocabSize: 400,
    model: { nLayer: 1, nHead: 2, nEmbd: 32, blockSize: 128 },
    pretrain: { iters: 4, batchSize: 2, lr: 3e-3, warmupIters: 1, evalInterval: 0, evalIters: 1 },
    sft: { examples: 40, iters: 2, batchSize: 2, lr: 1e-3, warmupIters: 1, evalInterval: 0, evalIters: 1 },
    dpo: { rows: 20, iters: 2, batchSize: 2, lr: 5e-5, warmupIters: 1, evalInterval: 0, evalIters: 1, beta: 0.1 },
    serve: false,
  };
});
afterAll(() => rm(root, { recursive: true, force: true }));

it('runs every stage, then skips them all', async () => {
  const first = await runLifecycle(cfg, { log });
  expect(first).toMatchObject({ code: 0, ran: ['tokenizer', 'pretrain', 'sft', 'dpo', 'quantize'], skipped: [], interrupted: null });
  const gguf = await readGguf(join(cfg.out, 'quant', 'model-q8_0.gguf'));
  expect(gguf.metadata.get('tokenizer.chat_template')?.value).toBe(CHAT_TEMPLATE);
  expect(await readFile(join(cfg.out, 'dpo', 'best', 'chat_template.jinja'), 'utf8')).toBe(CHAT_TEMPLATE);
  const tok = JSON.parse(await readFile(join(cfg.out, 'tokenizer.json'), 'utf8')) as { added_tokens: Array<{ content: string }> };
  expect(tok.added_tokens.map((t) => t.content)).toEqual(expect.arrayContaining(['<|im_start|>', '<|im_end|>']));
  const events = (await readFile(join(cfg.out, 'lifecycle.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { event: string; stage: string });
  expect(events.filter((e) => e.event === 'done').map((e) => e.stage)).toEqual(['tokenizer', 'pretrain', 'sft', 'dpo', 'quantize']);
  const before = await mtime('sft/best/model.safetensors');
  const second = await runLifecycle(cfg, { log });
  expect(second).toMatchObject({ ran: [], skipped: ['tokenizer', 'pretrain', 'sft', 'dpo', 'quantize'] });
  expect(await mtime('sft/best/model.safetensors')).toBe(before);
}, 120_000);

it('a stage left half done is redone, with the stages after it; the ones before keep their output', async () => {
  const sft = await readFile(join(cfg.out, 'sft', 'best', 'model.safetensors'));
  const sftId = (await readMarker(cfg.out, 'sft'))!.id;
  const ggufTime = await mtime('quant/model-q8_0.gguf');
  // a crash in the dpo stage: its marker was removed when it started, its best/ never written
  await rm(join(cfg.out, 'stages', 'dpo.json'));
  await rm(join(cfg.out, 'dpo', 'best'), { recursive: true });
  const r = await runLifecycle(cfg, { log });
  expect(r).toMatchObject({ ran: ['dpo', 'quantize'], skipped: ['tokenizer', 'pretrain', 'sft'] });
  expect(await readFile(join(cfg.out, 'sft', 'best', 'model.safetensors'))).toEqual(sft);
  expect((await readMarker(cfg.out, 'sft'))!.id).toBe(sftId);
  expect((await readMarker(cfg.out, 'dpo'))!.after).toBe(sftId);
  expect(await mtime('quant/model-q8_0.gguf')).toBeGreaterThan(ggufTime);
}, 120_000);

it('an interrupted training stage continues from its checkpoint; changed settings redo a stage', async () => {
  // sft stopped at step 2 of 4: no marker, the attempt's record and a checkpoint at step 2
  const longer = { ...cfg, sft: { ...cfg.sft, iters: 4 } };
  const pretrainId = (await readMarker(cfg.out, 'pretrain'))!.id;
  await rm(join(cfg.out, 'stages', 'sft.json'));
  await writeFile(join(cfg.out, 'stages', 'sft.partial.json'), JSON.stringify({ after: pretrainId, settings: settingsHash(stageSettings(longer, 'sft')) }));
  lines.length = 0;
  // a fresh sft run rewrites its run.json; a resumed one keeps it
  const runJson = join(cfg.out, 'sft', 'run.json');
  const saved = JSON.parse(await readFile(runJson, 'utf8')) as { options: Record<string, unknown> };
  await writeFile(runJson, JSON.stringify({ ...saved, options: { ...saved.options, marker: 'the first attempt' } }));
  const r = await runLifecycle(longer, { log });
  expect(r).toMatchObject({ ran: ['sft', 'dpo', 'quantize'], skipped: ['tokenizer', 'pretrain'] });
  expect(lines).toContain('[3/6] sft: continuing from its checkpoint');
  expect((JSON.parse(await readFile(runJson, 'utf8')) as typeof saved).options.marker).toBe('the first attempt');
  const state = JSON.parse(await readFile(join(cfg.out, 'sft', 'checkpoint', 'trainer_state.json'), 'utf8')) as { step: number };
  expect(state.step).toBe(4);
  // a setting of the quantize stage changed: only it is redone
  const q4 = await runLifecycle({ ...longer, quantType: 'q4_0' }, { log });
  expect(q4).toMatchObject({ ran: ['quantize'], skipped: ['tokenizer', 'pretrain', 'sft', 'dpo'] });
  expect((await stat(join(cfg.out, 'quant', 'model-q4_0.gguf'))).size).toBeGreaterThan(0);
}, 120_000);

it('an --out holding a run npm start did not make is refused before anything is written (unless force)', async () => {
  const other = join(root, 'pretrained');
  await mkdir(join(other, 'checkpoint'), { recursive: true });
  await writeFile(join(other, 'checkpoint', 'config.json'), '{}');
  const err = await runLifecycle({ ...cfg, out: other }, { log }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(CliError);
  expect((err as Error).message).toMatch(/pretrained already holds a training run that npm start did not make .* add --force to start over in it$/);
  expect(existsSync(join(other, 'stages'))).toBe(false);
  expect(await readFile(join(other, 'checkpoint', 'config.json'), 'utf8')).toBe('{}');
});
