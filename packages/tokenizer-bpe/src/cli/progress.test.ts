import { describe, expect, it } from 'vitest';
import { mergeLine, progressPrinter } from './progress.js';

describe('progressPrinter', () => {
  it('formats merges done, rate and ETA', () => {
    expect(mergeLine({ merges: 500, total: 1000, phase: 'merge' }, 2)).toBe(
      'merges 500/1000 (50.0%) · 250 merges/s · ETA 2.0 s',
    );
    expect(mergeLine({ merges: 0, total: 1000, phase: 'merge' }, 0)).toBe(
      'merges 0/1000 (0.0%) · 0 merges/s · ETA ?',
    );
  });

  it('throttles lines when not on a terminal, always printing the last', () => {
    const lines: string[] = [];
    let t = 0;
    const p = progressPrinter({ write: (s) => lines.push(String(s)) }, false, () => t, 1000);
    p({ merges: 0, total: 10, phase: 'count', chunks: 1 });
    t = 500;
    p({ merges: 0, total: 10, phase: 'merge' });
    t = 1500;
    p({ merges: 5, total: 10, phase: 'merge' });
    t = 1600;
    p({ merges: 6, total: 10, phase: 'merge' });
    t = 2500;
    p({ merges: 10, total: 10, phase: 'merge' });
    expect(lines).toEqual([
      'reading and pre-tokenizing: 1 chunks\n',
      'merges 5/10 (50.0%) · 5 merges/s · ETA 1.0 s\n',
      'merges 10/10 (100.0%) · 5 merges/s · ETA 0.0 s\n',
    ]);
  });

  it('rewrites one line on a terminal', () => {
    const out: string[] = [];
    const p = progressPrinter({ write: (s) => out.push(String(s)) }, true, () => 1000);
    p({ merges: 3, total: 3, phase: 'merge' });
    expect(out[0]!.startsWith('\rmerges 3/3')).toBe(true);
    expect(out[0]!.endsWith('\n')).toBe(true);
  });
});
