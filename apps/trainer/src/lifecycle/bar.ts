/**
 * A progress bar for the stages that are not training runs (tokenizer merges, quantization): a
 * live cli-progress bar on a TTY, a plain line at each quarter otherwise (CI logs). Training stages
 * use the trainer's own bar (progress.ts: loss, tokens/s, ETA).
 *
 *   const bar = stageBar('tokenizer', 768, { tty: false });
 *   bar.update(384, 'merges');   // "tokenizer: 384/768 merges (50%)"
 *   bar.stop();
 */
import cliProgress from 'cli-progress';

export interface StageBar {
  update(value: number, unit?: string): void;
  stop(): void;
}

export function stageBar(label: string, total: number, opts: { tty?: boolean; out?: NodeJS.WritableStream } = {}): StageBar {
  const out = opts.out ?? process.stderr;
  const tty = opts.tty ?? Boolean((out as NodeJS.WriteStream).isTTY);
  if (!tty) {
    let shown = -1;
    return {
      update(value, unit = '') {
        const quarter = total > 0 ? Math.floor((4 * Math.min(value, total)) / total) : 4;
        if (quarter === shown) return;
        shown = quarter;
        out.write(`${label}: ${value}/${total}${unit ? ` ${unit}` : ''} (${Math.round((100 * value) / Math.max(total, 1))}%)\n`);
      },
      stop: () => undefined,
    };
  }
  const bar = new cliProgress.SingleBar(
    { format: `${label} |{bar}| {value}/{total} {unit} · eta {eta_formatted}`, hideCursor: true, clearOnComplete: false, stream: out as NodeJS.WriteStream },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { unit: '' });
  return {
    update: (value, unit = '') => bar.update(Math.min(value, total), { unit }),
    stop: () => bar.stop(),
  };
}
