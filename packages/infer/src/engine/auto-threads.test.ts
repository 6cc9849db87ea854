import { beforeAll, describe, expect, it } from 'vitest';
import { AUTO_THREADS_MIN_BYTES, autoThreads } from './build.js';
import { compileForInference } from '../compile.js';
import { CONFIGS, randomModel, useWasm } from '../testing/helpers.js';

beforeAll(useWasm);

describe("threads: 'auto'", () => {
  it('one thread below the size threshold, every core (at most 4) above it', () => {
    expect(autoThreads(AUTO_THREADS_MIN_BYTES - 1, 2)).toBe(1);
    expect(autoThreads(AUTO_THREADS_MIN_BYTES, 2)).toBe(2);
    expect(autoThreads(5e8, 1)).toBe(1);
    expect(autoThreads(5e8, 16)).toBe(4);
  });

  it('is the default: a tiny model runs on one thread; an explicit count overrides it', () => {
    const m = randomModel(CONFIGS.gpt2);
    const a = compileForInference(m, { maxTokens: 32 });
    expect(a.threads).toBe(1);
    a.dispose();
    const b = compileForInference(m, { maxTokens: 32, threads: 2 });
    expect(b.threads).toBe(2);
    b.dispose();
    m.dispose();
  });
});
