/**
 * The JSONL metrics log: one object per line, appended as training goes (a crash loses at most the
 * line being written). Keys: step, loss, val_loss, lr, grad_norm, tokens_per_sec, elapsed_ms
 * (+ val_ppl, train_eval_loss on eval lines).
 *
 * One file holds one run: `MetricsLog.open(path)` starts a fresh log (an older run's lines are
 * dropped), and `MetricsLog.open(path, { resumeAt: 400 })` keeps the lines up to step 400 — what
 * the resumed checkpoint had seen — and drops any logged after it, so a plot never shows two runs
 * or a step twice.
 *
 *   const log = await MetricsLog.open('out/metrics.jsonl');
 *   await log.append({ step: 10, loss: 2.31, val_loss: null, lr: 1e-3, grad_norm: 0.8, tokens_per_sec: 1700, elapsed_ms: 5200 });
 */
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { writeFileAtomic } from '@llm/tensor-gpu';
import { dirname } from 'node:path';

export interface MetricsLine {
  step: number;
  loss: number | null;
  val_loss: number | null;
  lr: number;
  grad_norm: number | null;
  tokens_per_sec: number | null;
  elapsed_ms: number;
  [extra: string]: number | null | string;
}

export class MetricsLog {
  private constructor(readonly path: string) {}

  /** A log at `path` for a fresh run, or for a run resumed at step `resumeAt` (lines after it are dropped). */
  static async open(path: string, opts: { resumeAt?: number } = {}): Promise<MetricsLog> {
    await mkdir(dirname(path), { recursive: true });
    const kept = opts.resumeAt === undefined ? [] : linesThrough(await readFile(path, 'utf8').catch(() => ''), opts.resumeAt);
    await writeFileAtomic(path, new TextEncoder().encode(kept.map((l) => `${l}\n`).join('')));
    return new MetricsLog(path);
  }

  async append(line: MetricsLine): Promise<void> {
    await appendFile(this.path, JSON.stringify(line, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v)) + '\n');
  }
}

/** The JSONL lines whose step is ≤ `step` (unparsable lines, e.g. a torn last line, are dropped). */
function linesThrough(text: string, step: number): string[] {
  return text.split('\n').filter((l) => {
    try {
      return (JSON.parse(l) as { step?: unknown }).step as number <= step;
    } catch {
      return false;
    }
  });
}
