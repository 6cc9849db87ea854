/**
 * The lifecycle `npm start` runs: tokenizer → pretrain → sft → dpo → quantize → serve. A stage whose
 * marker says it is done (markers.ts) is skipped; one that was interrupted continues from its
 * checkpoint (training stages) or is redone; redoing a stage redoes every stage after it. Each
 * stage start and end is a line of `<out>/lifecycle.jsonl`.
 *
 *   const code = await runLifecycle(lifecycleConfig({ out: 'out', quick: true }), { log });
 *   // a second call skips every stage up to serve
 */
import { appendFile, mkdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { STAGES, stageSettings, type LifecycleConfig, type Stage } from './config.js';
import { clearMarker, doneMarker, settingsHash, writeMarker, type StageMarker } from './markers.js';
import { tokenizerStage } from './tokenizer-stage.js';
import { DPO_DIR, SFT_DIR, dpoStage, hasCheckpoint, pretrainStage, sftStage, type TrainStageContext, type TrainStageResult } from './train-stages.js';
import { ggufPath, quantizeStage } from './quantize-stage.js';
import { serveStage } from './serve-stage.js';
import { findModelDir } from '@llm/transformer';
import { CliError } from '../options.js';
import { writeFileAtomic } from '@llm/tensor-gpu';

export interface LifecycleHooks {
  log?: (line: string) => void;
  /** Stop after this stage (tests); default: run everything the config asks for. */
  stopAfter?: Stage;
  /** Redo every stage (the markers are removed first); also allowed over a run npm start did not make. */
  force?: boolean;
}

export interface LifecycleResult {
  /** Exit code: 0 done (or interrupted with checkpoints saved), else the server's. */
  code: number;
  /** Stages run now and stages skipped as done. */
  ran: Stage[];
  skipped: Stage[];
  /** The stage that stopped early (Ctrl-C), if any. */
  interrupted: Stage | null;
}

const TRAINING: Partial<Record<Stage, { dir: string; run: (cfg: LifecycleConfig, ctx: TrainStageContext) => Promise<TrainStageResult> }>> = {
  pretrain: { dir: '', run: pretrainStage },
  sft: { dir: SFT_DIR, run: sftStage },
  dpo: { dir: DPO_DIR, run: dpoStage },
};

const partialPath = (out: string, stage: Stage) => join(out, 'stages', `${stage}.partial.json`);

/** A training stage continues its checkpoint when the same attempt (same predecessor and settings) left one. */
async function canResume(out: string, stage: Stage, after: string | null, settings: unknown, dir: string): Promise<boolean> {
  const text = await readFile(partialPath(out, stage), 'utf8').catch(() => null);
  if (text === null) return false;
  try {
    const p = JSON.parse(text) as { after?: unknown; settings?: unknown };
    return p.after === after && p.settings === settingsHash(settings) && (await hasCheckpoint(dir));
  } catch {
    return false;
  }
}

/** A run folder with a checkpoint but no stage markers was made by something else (llm-train pretrain, an older npm start): never replaced silently. */
async function checkForeignRun(out: string, force: boolean): Promise<void> {
  if (force || (await stat(join(out, 'stages')).catch(() => null))) return;
  if (!(await stat(join(out, 'checkpoint')).catch(() => null))) return;
  throw new CliError(`${out} already holds a training run that npm start did not make (${join(out, 'checkpoint')}, no ${join(out, 'stages')}): choose another --out, or add --force to start over in it`);
}

async function checkData(files: readonly string[] | undefined): Promise<void> {
  for (const f of files ?? []) {
    const st = await stat(f).catch(() => null);
    if (!st?.isFile()) throw new CliError(`data file ${f} does not exist`);
    if (st.size === 0) throw new CliError(`data file ${f} is empty`);
  }
}

export async function runLifecycle(cfg: LifecycleConfig, hooks: LifecycleHooks = {}): Promise<LifecycleResult> {
  const log = hooks.log ?? ((s: string) => void process.stderr.write(`${s}\n`));
  const out = cfg.out;
  await checkData(cfg.data); // before anything is touched: a bad --data must not cost a finished run its markers
  await checkForeignRun(out, hooks.force === true);
  if (hooks.force) await rm(join(out, 'stages'), { recursive: true, force: true });
  await mkdir(join(out, 'stages'), { recursive: true });
  const journal = (e: Record<string, unknown>) => appendFile(join(out, 'lifecycle.jsonl'), JSON.stringify({ time: new Date().toISOString(), ...e }) + '\n');
  const result: LifecycleResult = { code: 0, ran: [], skipped: [], interrupted: null };
  let interrupted = false;
  let training = false;
  const onSignal = () => {
    interrupted = true;
    if (!training) process.exit(130); // nothing to save: every file is written atomically, no marker for the stage
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const work = STAGES.filter((s) => s !== 'serve');
  let prev: StageMarker | null = null;
  try {
    for (const [i, stage] of work.entries()) {
      const settings = stageSettings(cfg, stage);
      const after: string | null = prev?.id ?? null;
      const head = `[${i + 1}/${STAGES.length}] ${stage}`;
      const done = await doneMarker(out, stage, after, settings);
      if (done) {
        log(`${head}: done (${done.finishedAt}, ${done.seconds} s) — skipped`);
        await journal({ event: 'skip', stage, id: done.id });
        result.skipped.push(stage);
        prev = done;
      } else {
        const t0 = performance.now();
        const cpu0 = process.cpuUsage();
        const train = TRAINING[stage];
        const resume = train ? await canResume(out, stage, after, settings, join(out, train.dir)) : false;
        log(`${head}: ${resume ? 'continuing from its checkpoint' : 'running'}`);
        await clearMarker(out, stage);
        await journal({ event: 'start', stage, resume });
        let outputs: string[];
        if (train) {
          if (!resume) await writeFileAtomic(partialPath(out, stage), new TextEncoder().encode(JSON.stringify({ after, settings: settingsHash(settings) }) + '\n'));
          training = true;
          let r: TrainStageResult;
          try {
            r = await train.run(cfg, { log, resume });
          } finally {
            training = false;
          }
          if (!r.complete || interrupted) {
            log(`${stage} stopped before its last step; its checkpoint is saved — run npm start again to continue`);
            await journal({ event: 'interrupted', stage });
            result.interrupted = stage;
            return result;
          }
          outputs = r.outputs;
        } else if (stage === 'tokenizer') {
          outputs = await tokenizerStage(cfg, log);
        } else {
          outputs = await quantizeStage(cfg, log);
        }
        const seconds = (performance.now() - t0) / 1000;
        const cpu = process.cpuUsage(cpu0);
        prev = await writeMarker(out, { stage, after, settings, outputs, seconds });
        await rm(partialPath(out, stage), { force: true });
        // cpuSeconds: this process's CPU time (the tfjs wasm backend runs one thread: ≈ the wall time on an idle machine)
        await journal({ event: 'done', stage, id: prev.id, seconds: prev.seconds, cpuSeconds: Math.round((cpu.user + cpu.system) / 1e5) / 10, outputs });
        log(`${head}: done in ${seconds.toFixed(1)} s`);
        result.ran.push(stage);
      }
      if (hooks.stopAfter === stage) return result;
    }
    const model = cfg.serveModel === 'gguf' ? join(out, ggufPath(cfg)) : await findModelDir(join(out, DPO_DIR), { nested: false });
    if (!cfg.serve) {
      log(`[${STAGES.length}/${STAGES.length}] serve: skipped (--no-serve); serve the model with: llm-chat serve --model ${model}`);
      return result;
    }
    log(`[${STAGES.length}/${STAGES.length}] serve`);
    await journal({ event: 'start', stage: 'serve' });
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    result.code = await serveStage({ model, port: cfg.quick ? 0 : cfg.port, quick: cfg.quick, log });
    await journal({ event: 'done', stage: 'serve', code: result.code });
    result.ran.push('serve');
    return result;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
