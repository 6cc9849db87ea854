import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createProgress, formatEta, projectedTotal } from './progress.js';

describe('progress', () => {
  it('formats durations rounded to whole seconds, never "m60s"', () => {
    expect(formatEta(4_200)).toBe('4s');
    expect(formatEta(59_600)).toBe('1m00s');
    expect(formatEta(179_700)).toBe('3m00s');
    expect(formatEta(125_000)).toBe('2m05s');
  });

  it('projects the final step from the pace and the time left, capped at max-iters', () => {
    expect(projectedTotal(2000, 100, 250, 60_000)).toBe(340);
    expect(projectedTotal(200, 100, 250, 60_000)).toBe(200);
    expect(projectedTotal(2000, 100, 250, undefined)).toBe(2000);
    expect(projectedTotal(2000, 1, NaN, 60_000)).toBe(2000);
  });

  it('plain lines (no TTY) count to the projected end too', () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (d: Buffer) => (text += d.toString()));
    const p = createProgress(2000, { tty: false, every: 5, out, budgetMs: 1_000 });
    for (let step = 1; step <= 5; step++) p.step({ step, loss: 1, lr: 1e-3, tokensPerSec: 100, elapsedMs: step * 100 });
    expect(text).toMatch(/^step 5\/11 loss 1\.0000 .* eta 1s\n$/);
  });

  it('a time-limited run counts to what fits in its budget and ends with a full bar', () => {
    const out = Object.assign(new PassThrough(), { isTTY: true, columns: 120, cursorTo: () => true, clearLine: () => true, moveCursor: () => true });
    let text = '';
    out.on('data', (d: Buffer) => (text += d.toString()));
    const p = createProgress(2000, { tty: true, every: 1, out, budgetMs: 1_000 });
    for (let step = 1; step <= 5; step++) p.step({ step, loss: 1, lr: 1e-3, tokensPerSec: 100, elapsedMs: step * 100 });
    p.note('eval'); // renders the bar now
    // 100 ms per step, 600 ms of the budget left at step 5 → the bar's total is 11, not 2000
    expect(text.split('eval').at(-1)).toMatch(/step 5\/11 /);
    p.stop();
    expect(text).toMatch(/step 5\/5 \|█+\|/);
  });
});
