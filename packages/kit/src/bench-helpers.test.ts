// The benchmark helpers: median, timeRuns, machineLine, sharedDataPath.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { machineLine } from './machine-line.js';
import { median } from './median.js';
import { repoRoot } from './repo-root.js';
import { sharedDataDir, sharedDataPath } from './shared-data.js';
import { timeRuns } from './time-runs.js';

describe('median', () => {
  it('is the middle value, the upper middle for an even count', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(3);
    expect(median([5])).toBe(5);
    expect(() => median([])).toThrow(RangeError);
  });
});

describe('timeRuns', () => {
  it('calls warmup + reps times, times only the reps, and hands each result to after', () => {
    const calls: number[] = [];
    const after: number[] = [];
    const r = timeRuns((call) => (calls.push(call), call * 10), { reps: 3, warmup: 2, after: (x) => after.push(x) });
    expect(calls).toEqual([0, 1, 2, 3, 4]);
    expect(after).toEqual([0, 10, 20, 30, 40]);
    expect(r.times).toHaveLength(3);
    expect(r.median).toBe(median(r.times));
    expect(() => timeRuns(() => 0, { reps: 0 })).toThrow(RangeError);
  });
});

describe('machineLine', () => {
  it('names cores, CPU and Node on one line, then the extras', () => {
    const line = machineLine('backend wasm');
    expect(line).toMatch(/^\d+× .+, Node v\d+\.\d+\.\d+, backend wasm$/);
    expect(line).not.toContain('\n');
  });
});

describe('sharedDataPath', () => {
  const saved = process.env.LLM_SHARED_DATA;
  afterEach(() => {
    if (saved === undefined) delete process.env.LLM_SHARED_DATA;
    else process.env.LLM_SHARED_DATA = saved;
  });

  it('is ../shared/data beside the repo root by default', () => {
    delete process.env.LLM_SHARED_DATA;
    expect(sharedDataDir()).toBe(resolve(repoRoot(), '../shared/data'));
  });

  it('honours LLM_SHARED_DATA, and is null for a missing file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kit-shared-'));
    try {
      writeFileSync(join(dir, 'x.txt'), 'x');
      process.env.LLM_SHARED_DATA = dir;
      expect(sharedDataPath('x.txt')).toBe(join(dir, 'x.txt'));
      expect(sharedDataPath('absent.txt')).toBeNull();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('finds the repo root from its own place', () => {
    expect(existsSync(join(repoRoot(), 'packages/kit/src/repo-root.ts'))).toBe(true);
  });
});
