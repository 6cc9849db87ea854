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

const eta = (ms: number) => (ms < 60_000 ? `${Math.round(ms / 1000)}s` : `${Math.floor(ms / 60_000)}m${String(Math.round((ms % 60_000) / 1000)).padStart(2, '0')}s`);

export function createProgress(total: number, opts: ProgressOptions): Progress {
  const out = opts.out ?? process.stderr;
  const start = opts.startStep ?? 0;
  let firstMs: number | null = null;
  const remaining = (s: ProgressStep) => {
    firstMs ??= s.elapsedMs;
    const done = s.step - start;
    const bySteps = done > 1 ? ((s.elapsedMs - firstMs) / (done - 1)) * (total - s.step) : NaN;
    return opts.budgetMs === undefined ? bySteps : Math.min(bySteps, Math.max(0, opts.budgetMs - (s.elapsedMs - firstMs)));
  };
  if (!opts.tty) {
    return {
      step(s) {
        const r = remaining(s);
        if (s.step % opts.every === 0 || s.step === total) {
          out.write(`step ${s.step}/${total} loss ${s.loss.toFixed(4)} lr ${s.lr.toExponential(2)} ${Math.round(s.tokensPerSec)} tok/s${Number.isFinite(r) ? ` eta ${eta(r)}` : ''}\n`);
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
  return {
    step(s) {
      const r = remaining(s);
      bar.update(s.step, { loss: s.loss.toFixed(4), tps: Math.round(s.tokensPerSec), etaText: Number.isFinite(r) ? eta(r) : '-' });
    },
    note(line) {
      out.write(`\r\x1b[2K${line}\n`);
      bar.render();
    },
    stop: () => bar.stop(),
  };
}
