/**
 * The JSONL metrics log: one object per line, appended as training goes (a crash loses at most the
 * line being written). Keys: step, loss, val_loss, lr, grad_norm, tokens_per_sec, elapsed_ms
 * (+ val_ppl, train_eval_loss on eval lines).
 *
 *   const log = new MetricsLog('out/metrics.jsonl');
 *   await log.append({ step: 10, loss: 2.31, val_loss: null, lr: 1e-3, grad_norm: 0.8, tokens_per_sec: 1700, elapsed_ms: 5200 });
 */
import { appendFile, mkdir } from 'node:fs/promises';
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
  private ready: Promise<unknown>;
  constructor(readonly path: string) {
    this.ready = mkdir(dirname(path), { recursive: true });
  }

  async append(line: MetricsLine): Promise<void> {
    await this.ready;
    await appendFile(this.path, JSON.stringify(line, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v)) + '\n');
  }
}
