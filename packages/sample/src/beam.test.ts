// Beam search against brute force (wide beams are exact), against greedy (one beam), and its EOS
// bookkeeping; scoreContinuation against a plain log-softmax of a full forward.
import { beforeAll, describe, expect, it } from 'vitest';
import { tf, initBackend } from '@llm/tensor-gpu';
import { beamSearch } from './beam.js';
import { generate } from './generate.js';
import { scoreContinuation } from './score.js';
import { FunctionLM } from './function-lm.js';
import { testLM } from './testing/lm.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm', log: false });
});

const lm = () => testLM({ family: 'llama', vocabSize: 6, nLayer: 2, nHead: 2, nEmbd: 16, intermediateSize: 24, blockSize: 32, initStd: 0.6, seed: 4 });

describe('beamSearch', () => {
  it('with beams ≥ V² it finds the most likely 3-token continuation (brute force over all 216)', () => {
    const m = lm();
    const prompt = [1, 2];
    let best = { seq: [] as number[], total: -Infinity };
    for (let a = 0; a < 6; a++) for (let b = 0; b < 6; b++) for (let c = 0; c < 6; c++) {
      const s = scoreContinuation(m, prompt, [a, b, c]);
      if (s.total > best.total) best = { seq: [a, b, c], total: s.total };
    }
    const r = beamSearch(m, prompt, { numBeams: 36, maxNewTokens: 3, lengthPenalty: 0, eosTokenId: null });
    expect(r.sequences[0]).toEqual(best.seq);
    expect(Math.abs(r.scores[0]! - best.total)).toBeLessThan(1e-4);
    m.dispose();
  });

  it('one beam is greedy; scores are sorted; numReturnSequences distinct hypotheses', () => {
    const m = lm();
    const greedy = generate(m, [3], { maxNewTokens: 6, temperature: 0, eosTokenId: null }).sequences[0];
    expect(beamSearch(m, [3], { numBeams: 1, maxNewTokens: 6, eosTokenId: null }).sequences[0]).toEqual(greedy);
    const r = beamSearch(m, [3], { numBeams: 4, maxNewTokens: 6, numReturnSequences: 3, eosTokenId: null });
    expect(r.sequences).toHaveLength(3);
    expect(new Set(r.sequences.map((s) => s.join())).size).toBe(3);
    expect([...r.scores].sort((a, b) => b - a)).toEqual(r.scores);
    m.dispose();
  });

  it('finished hypotheses end with EOS and are scored sum / len^lengthPenalty', () => {
    // token 0 = EOS; from the start, EOS has p = 0.5 (log 0.5); otherwise token 1 dominates
    const lmEos = new FunctionLM(3, 64, (ctx) => (ctx.length === 1 ? Float32Array.of(Math.log(0.5), Math.log(0.3), Math.log(0.2)) : Float32Array.of(Math.log(0.1), Math.log(0.8), Math.log(0.1))));
    // lengthPenalty 0 (plain sums): EOS at step 1 has log 0.5 = −0.693; any longer path is below log 0.3
    const sums = beamSearch(lmEos, [2], { numBeams: 2, maxNewTokens: 4, eosTokenId: 0, lengthPenalty: 0 });
    expect(sums.sequences[0]).toEqual([0]);
    expect(sums.scores[0]).toBeCloseTo(Math.log(0.5), 5);
    // lengthPenalty 1 (per-token average): [1, 1, 1, 1] scores (log 0.3 + 3 log 0.8) / 4 = −0.468 > −0.693
    const avg = beamSearch(lmEos, [2], { numBeams: 2, maxNewTokens: 4, eosTokenId: 0, lengthPenalty: 1, numReturnSequences: 2 });
    expect(avg.sequences[0]).toEqual([1, 1, 1, 1]);
    expect(avg.scores[0]).toBeCloseTo((Math.log(0.3) + 3 * Math.log(0.8)) / 4, 5);
    expect(avg.sequences[1]).toEqual([2, 1, 1, 1]); // (log 0.2 + 3 log 0.8) / 4 = −0.570, still above EOS's −0.693
    expect(avg.scores[1]).toBeCloseTo((Math.log(0.2) + 3 * Math.log(0.8)) / 4, 5);
    expect(() => beamSearch(lmEos, [2], { numBeams: 2, numReturnSequences: 3 })).toThrow(/numReturnSequences must be in \[1, numBeams = 2\]/);
  });
});

describe('scoreContinuation', () => {
  it('equals log-softmax of a full forward, read by hand', () => {
    const m = lm();
    const prompt = [1, 4];
    const cont = [2, 5, 0];
    const s = scoreContinuation(m, prompt, cont);
    const ids = [...prompt, ...cont];
    const logits = tf.tidy(() => m.forward(tf.tensor2d([ids], [1, ids.length], 'int32')).arraySync() as number[][][]);
    const ref = cont.map((id, i) => {
      const row = logits[0]![prompt.length - 1 + i]!;
      const max = Math.max(...row);
      return row[id]! - max - Math.log(row.reduce((a, x) => a + Math.exp(x - max), 0));
    });
    ref.forEach((r, i) => expect(s.logProbs[i]).toBeCloseTo(r, 5));
    expect(s.total).toBeCloseTo(ref.reduce((a, b) => a + b, 0), 5);
    expect(s.perplexity).toBeCloseTo(Math.exp(-s.total / 3), 6);
    expect(() => scoreContinuation(m, [], [1])).toThrow(/at least one token/);
    m.dispose();
  });
});
