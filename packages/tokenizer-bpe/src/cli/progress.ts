/**
 * Training progress on stderr: merges done, rate and ETA. On a terminal one line is rewritten in
 * place; otherwise a line is printed at most every `everyMs` (and at the end).
 *
 *   const onProgress = progressPrinter(process.stderr, process.stderr.isTTY === true);
 *   // merges 1200/7936 (15.1%) · 2400 merges/s · ETA 2.8 s
 */
import type { TrainProgress } from '../train/options.js';

export interface TextSink {
  write(chunk: string | Uint8Array): unknown;
}

export function progressPrinter(
  out: TextSink,
  tty: boolean,
  now: () => number = () => performance.now(),
  everyMs = tty ? 100 : 2000,
): (p: TrainProgress) => void {
  let mergeStart = -1;
  let last = -Infinity;
  return (p) => {
    const t = now();
    if (p.phase === 'merge' && mergeStart < 0) mergeStart = t;
    const final = p.phase === 'merge' && p.merges === p.total;
    if (!final && t - last < everyMs) return;
    last = t;
    const line =
      p.phase === 'count'
        ? `reading and pre-tokenizing: ${p.chunks ?? 0} chunks`
        : mergeLine(p, (t - mergeStart) / 1000);
    out.write(tty ? `\r${line.padEnd(72)}${final ? '\n' : ''}` : `${line}\n`);
  };
}

/**
 * One progress line for the merge phase.
 *
 *   mergeLine({ merges: 500, total: 1000, phase: 'merge' }, 2)
 *   // 'merges 500/1000 (50.0%) · 250 merges/s · ETA 2.0 s'
 */
export function mergeLine(p: TrainProgress, seconds: number): string {
  const pct = p.total > 0 ? ((100 * p.merges) / p.total).toFixed(1) : '100.0';
  const rate = seconds > 0 ? p.merges / seconds : 0;
  const eta = rate > 0 ? `${((p.total - p.merges) / rate).toFixed(1)} s` : '?';
  return `merges ${p.merges}/${p.total} (${pct}%) · ${Math.round(rate)} merges/s · ETA ${eta}`;
}
