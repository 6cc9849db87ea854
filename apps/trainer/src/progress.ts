/**
 * Training progress: a live bar (step, loss, tokens/s, ETA) on a TTY via cli-progress; plain log
 * lines every `every` steps otherwise (CI logs, pipes, files).
 *
 *   const p = createProgress(2000, { tty: process.stderr.isTTY, every: 50 });
 *   p.step({ step, loss, tokensPerSec, elapsedMs }); p.note('eval: val 1.92'); p.stop();
 */
import cliProgress from 'cli-progress';

export interface ProgressStep {
  step: number;
  loss: number;
  lr: number;
  tokensPerSec: number;
  elapsedMs: number;
}

export interface Progress {
  step(s: ProgressStep): void;
  /** A line above the bar (eval results, saves). */
  note(line: string): void;
  stop(): void;
}

export interface ProgressOptions {
  tty: boolean;
  every: number;
  out?: NodeJS.WritableStream;
  /** Step the run starts from (resume), so ETA counts only the remaining steps. */
  startStep?: number;
  /** A wall-clock budget (ms from the first step): the ETA never exceeds what is left of it. */
  budgetMs?: number;
}

/**
 * A duration as the bar shows it, rounded to whole seconds first (so never "2m60s").
 *
 *   formatEta(59_600)   // '1m00s'
 *   formatEta(4_200)    // '4s'
 */
export function formatEta(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

/**
 * The step a run will end at: max-iters, or — under a wall-clock budget — the step the current
 * pace reaches when the budget runs out, whichever comes first. The bar counts to this, so a
 * time-limited run fills its bar.
 *
 *   projectedTotal(2000, 100, 250, 60_000)   // 100 + 60 s / 0.25 s = 340
 */
export function projectedTotal(maxIters: number, step: number, msPerStep: number, budgetLeftMs: number | undefined): number {
  if (budgetLeftMs === undefined || !Number.isFinite(msPerStep) || msPerStep <= 0) return maxIters;
  return Math.min(maxIters, step + Math.floor(budgetLeftMs / msPerStep));
}

export function createProgress(total: number, opts: ProgressOptions): Progress {
  const out = opts.out ?? process.stderr;
  const start = opts.startStep ?? 0;
  let firstMs: number | null = null;
  const msPerStep = (s: ProgressStep) => {
    firstMs ??= s.elapsedMs;
    const done = s.step - start;
    return done > 1 ? (s.elapsedMs - firstMs) / (done - 1) : NaN;
  };
  const budgetLeft = (s: ProgressStep) => (opts.budgetMs === undefined ? undefined : Math.max(0, opts.budgetMs - (s.elapsedMs - (firstMs ?? s.elapsedMs))));
  /** [ms left, the step the run ends at] */
  const remaining = (s: ProgressStep): [number, number] => {
    const per = msPerStep(s);
    const end = projectedTotal(total, s.step, per, budgetLeft(s));
    return [per * (end - s.step), end];
  };
  if (!opts.tty) {
    return {
      step(s) {
        const [r, end] = remaining(s);
        if (s.step % opts.every === 0 || s.step === total) {
          out.write(`step ${s.step}/${Math.max(end, s.step)} loss ${s.loss.toFixed(4)} lr ${s.lr.toExponential(2)} ${Math.round(s.tokensPerSec)} tok/s${Number.isFinite(r) ? ` eta ${formatEta(r)}` : ''}\n`);
        }
      },
      note: (line) => void out.write(`${line}\n`),
      stop: () => undefined,
    };
  }
  const bar = new cliProgress.SingleBar(
    { format: 'step {value}/{total} |{bar}| loss {loss} · {tps} tok/s · eta {etaText}', hideCursor: true, clearOnComplete: false, stream: out as NodeJS.WriteStream },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, start, { loss: '-', tps: '-', etaText: '-' });
  let last = start;
  return {
    step(s) {
      const [r, end] = remaining(s);
      last = s.step;
      bar.setTotal(Math.max(end, s.step));
      bar.update(s.step, { loss: s.loss.toFixed(4), tps: Math.round(s.tokensPerSec), etaText: Number.isFinite(r) ? formatEta(r) : '-' });
    },
    note(line) {
      out.write(`\r\x1b[2K${line}\n`);
      bar.render();
    },
    stop: () => {
      bar.setTotal(last); // the run ended here (max iters, early stop, time limit or Ctrl-C): a full bar
      bar.update(last, { etaText: '0s' });
      bar.stop();
    },
  };
}

export interface CountProgress {
  /** `done` of the total units (log-likelihood requests, generated items). */
  update(done: number): void;
  stop(): void;
}

/**
 * A bar for work counted in units (llm-train eval): "label |████░░| 120/400 · 35/s · eta 8s" on a
 * TTY; otherwise a line at each tenth of the way and at the end.
 *
 *   const p = createCountProgress('arithmetic-mc', 400, { tty: process.stderr.isTTY });
 *   p.update(120); p.stop();
 */
export function createCountProgress(label: string, total: number, opts: { tty: boolean; out?: NodeJS.WritableStream }): CountProgress {
  const out = opts.out ?? process.stderr;
  const t0 = performance.now();
  const rate = (done: number) => (done * 1000) / Math.max(1, performance.now() - t0);
  const eta = (done: number) => (done > 0 ? formatEta(((total - done) * 1000) / rate(done)) : '-');
  if (!opts.tty) {
    let shown = 0;
    return {
      update(done) {
        const tenth = Math.floor((done * 10) / total);
        if (tenth > shown || done === total) {
          shown = tenth;
          out.write(`${label}: ${done}/${total} · ${rate(done).toFixed(1)}/s${done < total ? ` · eta ${eta(done)}` : ''}\n`);
          if (done === total) shown = 11; // the end is reported once
        }
      },
      stop: () => undefined,
    };
  }
  const bar = new cliProgress.SingleBar({ format: `${label} |{bar}| {value}/{total} · {rate}/s · eta {etaText}`, hideCursor: true, clearOnComplete: false, stream: out as NodeJS.WriteStream }, cliProgress.Presets.shades_classic);
  bar.start(total, 0, { rate: '-', etaText: '-' });
  return {
    update: (done) => bar.update(done, { rate: rate(done).toFixed(1), etaText: eta(done) }),
    stop: () => bar.stop(),
  };
}
