// The batch layout [left-padded prompt | right-padded completion] gives each completion token the
// log-prob @llm/sample's scoreContinuation gives it alone (positions and masks are right).
import { beforeAll, describe, expect, it } from 'vitest';
import { tf, initBackend } from '@llm/tensor-gpu';
import { scoreContinuation } from '@llm/sample';
import { batchRows, completionForward, layout, rollout } from './rollout.js';
import { tinyPolicy } from './testing.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm', log: false });
});

describe('rollout layout', () => {
  it('per-token log-probs of ragged prompts and completions = scoring each row alone', () => {
    const model = tinyPolicy();
    const prompts = [[1, 2, 3], [4], [5, 6]];
    const completions = [[7, 8], [9, 10, 11, 2], [3]];
    const batch = layout(prompts, completions, [false, false, false]);
    expect([batch.P, batch.R]).toEqual([3, 4]);
    expect(Array.from(batch.mask)).toEqual([1, 1, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0]);
    const lp = tf.tidy(() => Array.from(completionForward(model, batchRows(batch, [0, 1, 2]), batch.P, { temperature: 1 }).logps.dataSync()));
    prompts.forEach((p, b) => {
      const want = scoreContinuation(model, p, completions[b]!).logProbs;
      want.forEach((w, t) => expect(Math.abs(lp[b * 4 + t]! - w), `row ${b} token ${t}`).toBeLessThan(1e-4));
      for (let t = want.length; t < 4; t++) expect(Math.abs(lp[b * 4 + t]!)).toBe(0);
    });
    // a subset of rows, in another order
    const sub = tf.tidy(() => Array.from(completionForward(model, batchRows(batch, [2, 0]), batch.P, { temperature: 1 }).logps.dataSync()));
    expect(sub[0]).toBeCloseTo(lp[8]!, 5);
    expect(sub[4]).toBeCloseTo(lp[0]!, 5);
    model.dispose();
  });

  it('rollout samples seeded completions and stops rows at EOS', () => {
    const model = tinyPolicy();
    const a = rollout(model, [[1, 2], [3, 4]], { maxNewTokens: 5, temperature: 1, seed: 4, eosTokenId: 0 })!;
    const b = rollout(model, [[1, 2], [3, 4]], { maxNewTokens: 5, temperature: 1, seed: 4, eosTokenId: 0 })!;
    expect(a.completions).toEqual(b.completions);
    a.completions.forEach((c, r) => {
      expect(c.length).toBeLessThanOrEqual(5);
      expect(a.endedWithEos[r]).toBe(c.at(-1) === 0);
      expect(c.slice(0, -1)).not.toContain(0);
    });
    model.dispose();
  });
});
