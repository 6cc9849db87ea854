/**
 * loss.svg beside metrics.jsonl: the train and val loss curves of the run so far.
 *
 *   await writeLossPlot('out');   // reads out/metrics.jsonl (nothing when it is absent), writes out/loss.svg
 */
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '@llm/tensor-gpu';
import { renderLossCurve, readMetricsJsonl } from '../metrics/svg.js';

export async function writeLossPlot(outDir: string): Promise<void> {
  try {
    const { train, val } = readMetricsJsonl(await readFile(join(outDir, 'metrics.jsonl'), 'utf8'));
    const svg = renderLossCurve([{ name: 'train', points: train }, { name: 'val', points: val }], { title: 'loss' });
    await writeFileAtomic(join(outDir, 'loss.svg'), new TextEncoder().encode(svg));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}
