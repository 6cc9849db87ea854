// Speculative decoding: greedy output is exactly the target's greedy output; sampled tokens follow
// the target distribution (chi-square on a toy pair with known distributions).
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@llm/tensor-gpu';
import { generate } from './generate.js';
import { speculativeGenerate, sampleResidual } from './speculative.js';
import { FunctionLM } from './function-lm.js';
import { chiSquareSf } from './testing/stats.js';
import { testLM } from './testing/lm.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm', log: false });
});

const lm = (nLayer: number, seed: number) => testLM({ family: 'gpt2', vocabSize: 40, nLayer, nHead: 2, nEmbd: 32, blockSize: 128, initStd: 0.3, seed });

describe('speculative decoding', () => {
  it('greedy: output == the target model\'s plain greedy output (unrelated draft, and draft = target)', () => {
    const target = lm(2, 1);
    const draft = lm(1, 2);
    for (const prompt of [[1, 2, 3], [7], [5, 9, 11, 13, 2]]) {
      const plain = generate(target, prompt, { maxNewTokens: 30, temperature: 0, eosTokenId: null }).sequences[0];
      for (const k of [1, 3, 5]) {
        const spec = speculativeGenerate(target, draft, prompt, { maxNewTokens: 30, temperature: 0, numDraftTokens: k, eosTokenId: null });
        expect(spec.sequence, `k=${k}`).toEqual(plain);
      }
      const self = speculativeGenerate(target, target, prompt, { maxNewTokens: 30, temperature: 0, numDraftTokens: 4, eosTokenId: null });
      expect(self.sequence).toEqual(plain);
      expect(self.stats.acceptanceRate).toBe(1);
      expect(self.stats.tokensPerTargetForward).toBeGreaterThan(4);
    }
    target.dispose();
    draft.dispose();
  });

  it('sampling: emitted tokens follow the target distribution p, not the draft q (χ², 6,000 tokens)', () => {
    const p = Float32Array.of(0.05, 0.3, 0.15, 0.4, 0.1);
    const q = Float32Array.of(0.3, 0.05, 0.3, 0.05, 0.3);
    const logits = (d: Float32Array) => Float32Array.from(d, Math.log);
    const target = new FunctionLM(5, 10_000, () => logits(p));
    const draft = new FunctionLM(5, 10_000, () => logits(q));
    const counts = new Array<number>(5).fill(0);
    let accepted = 0;
    let drafted = 0;
    for (let seed = 0; seed < 60; seed++) {
      const r = speculativeGenerate(target, draft, [0], { maxNewTokens: 100, numDraftTokens: 3, seed, eosTokenId: null });
      for (const t of r.sequence) counts[t]!++;
      accepted += r.stats.accepted;
      drafted += r.stats.drafted;
    }
    const n = counts.reduce((a, b) => a + b, 0);
    expect(n).toBe(6000);
    const expected = Array.from(p, (x) => x * n);
    const chi2 = counts.reduce((a, c, i) => a + (c - expected[i]!) ** 2 / expected[i]!, 0);
    expect(chiSquareSf(chi2, 4)).toBeGreaterThan(0.001);
    // and the test has power: the draft's own distribution is rejected
    const chi2q = counts.reduce((a, c, i) => a + (c - q[i]! * n) ** 2 / (q[i]! * n), 0);
    expect(chiSquareSf(chi2q, 4)).toBeLessThan(1e-6);
    // each evaluated draft token is accepted with α = Σ min(p, q) = 0.05 + 0.05 + 0.15 + 0.05 + 0.1 = 0.4;
    // a round of k = 3 accepts α + α² + α³ = 0.624 of its 3 drafted tokens on average → 0.208
    expect(Math.abs(accepted / drafted - 0.208)).toBeLessThan(0.03);
  });

  it('sampleResidual draws from norm(max(0, p − q))', () => {
    const p = Float32Array.of(0.5, 0.3, 0.2);
    const q = Float32Array.of(0.2, 0.5, 0.3);
    // residual = [0.3, 0, 0] → always token 0
    for (const u of [0, 0.3, 0.99]) expect(sampleResidual(p, q, () => u)).toBe(0);
    const p2 = Float32Array.of(0.6, 0.4, 0);
    const q2 = Float32Array.of(0.2, 0.2, 0.6);
    // residual = [0.4, 0.2, 0] / 0.6 → token 0 for u < 2/3
    expect(sampleResidual(p2, q2, () => 0.6)).toBe(0);
    expect(sampleResidual(p2, q2, () => 0.7)).toBe(1);
  });

  it('rejects mismatched vocabularies', () => {
    const a = new FunctionLM(5, 100, () => new Float32Array(5));
    const b = new FunctionLM(6, 100, () => new Float32Array(6));
    expect(() => speculativeGenerate(a, b, [0])).toThrow(/draft vocabulary \(6\) differs from the target's \(5\)/);
  });
});
