import { describe, expect, it } from 'vitest';
import { runIsolated } from './isolated.js';

describe('runIsolated', () => {
  it('reports a finished snippet, and a thrown error with its name, code and message', async () => {
    const ok = await runIsolated(`console.log(6 * 7);`);
    expect(ok).toMatchObject({ outcome: 'exit', code: 0, error: null });
    expect(ok.stdout.trim()).toBe('42');
    const bad = await runIsolated(`import { readFileSync } from 'node:fs'; readFileSync('/nonexistent/x');`);
    expect(bad).toMatchObject({ outcome: 'exit', code: 1, error: { name: 'Error', code: 'ENOENT' } });
    const late = await runIsolated(`await new Promise((r) => setTimeout(r, 10)); throw Object.assign(new RangeError('too big'), { code: 'X' });`);
    expect(late.error).toEqual({ name: 'RangeError', code: 'X', message: 'too big' });
  });

  it('kills a hang at the time budget and a runaway allocation at the memory budget', async () => {
    const hang = await runIsolated(`for (;;) {}`, { timeoutMs: 500 });
    expect(hang.outcome).toBe('timeout');
    expect(hang.ms).toBeLessThan(5_000);
    const hog = await runIsolated(`const keep = []; for (;;) keep.push(new Float64Array(1 << 20).fill(1));`, { memoryMb: 200, timeoutMs: 10_000 });
    expect(hog.outcome).toBe('memory');
    expect(hog.peakRssMb).toBeGreaterThan(200);
  });
});
