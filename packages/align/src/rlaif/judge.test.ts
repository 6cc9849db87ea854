import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectErrorAsync } from '@llm/kit';
import { scoreContinuation } from '@llm/sample';
import { initBackend } from '@llm/tensor-gpu';
import { encodeChat } from '@llm/tokenizer-bpe';
import { TransformerLM } from '@llm/transformer';
import { AlignError, type AlignErrorCode } from '../errors.js';
import { defaultJudgePrompt, judgePairs, labelPreferences, type JudgeRow } from './judge.js';
import { byteTokenizer, fakeJudge, scriptedChatLM, tempDir } from './testing.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm', log: false });
});

const tok = byteTokenizer();
const sig = (x: number) => 1 / (1 + Math.exp(-x));
const alignError = (p: Promise<unknown>, code: AlignErrorCode, ...fragments: string[]) => expectErrorAsync(p, code, fragments, AlignError);

/** The true preference Q(x ≻ y) of the test pairs (Q(y, x) = 1 − Q(x, y)). */
const Q: Record<string, number> = { 'alpha|beta': 0.7, 'gamma|delta': 0.2, 'tie1|tie2': 0.5 };
const q = (x: string, y: string) => Q[`${x}|${y}`] ?? 1 - Q[`${y}|${x}`]!;
const ROWS: JudgeRow[] = [
  { prompt: 'p1', a: 'alpha', b: 'beta' },
  { prompt: 'p2', a: 'gamma', b: 'delta' },
  { prompt: 'p3', a: 'tie1', b: 'tie2' },
];

describe('judgePairs', () => {
  it('cancels an additive first-slot bonus exactly (probability average) and reports it as the position bias', async () => {
    const beta = 0.15;
    const judge = fakeJudge(tok, (first, second) => q(first, second) + beta); // P(A) = truth + β
    const r = await judgePairs(judge, tok, { rows: ROWS });
    expect(judge.calls).toBe(2 * ROWS.length); // one scoring forward per order, no sampling
    const [j1, j2, j3] = r.judgements;
    // row 1, by hand: P1 = 0.7 + 0.15 = 0.85; with b first P(A) = 0.3 + 0.15 = 0.45, so P2 = P(B) = 0.55
    expect(j1!.pAFirst).toBeCloseTo(0.85, 6);
    expect(j1!.pASecond).toBeCloseTo(0.55, 6);
    expect(j1!.pA).toBeCloseTo(0.7, 6); // (0.85 + 0.55) / 2: the truth
    expect(j1!.firstSlot).toBeCloseTo((0.85 + 0.45) / 2, 6);
    // row 2: P1 = 0.35, P2 = 1 − (0.8 + 0.15) = 0.05 → p(a) = 0.2: b is chosen with confidence 0.8
    expect(j2!.pA).toBeCloseTo(0.2, 6);
    // row 3: the judge's single order says a (0.65); both orders say tie
    expect(j3!.pAFirst).toBeCloseTo(0.65, 6);
    expect(j3!.pA).toBeCloseTo(0.5, 6);
    expect([j1!.consistent, j2!.consistent, j3!.consistent]).toEqual([true, true, false]);
    expect(r.positionBias).toBeCloseTo(beta, 6);
    expect(r.consistency).toBeCloseTo(2 / 3, 12);
    expect(r.ties).toBe(1);
    expect(r.meanLabelMass).toBeCloseTo(1, 6);
    expect(r.preferences).toHaveLength(2);
    expect(r.preferences[0]).toMatchObject({ prompt: 'p1', chosen: 'alpha', rejected: 'beta' });
    expect(r.preferences[0]!.confidence).toBeCloseTo(0.7, 6);
    expect(r.preferences[1]).toMatchObject({ prompt: 'p2', chosen: 'delta', rejected: 'gamma' });
    expect(r.preferences[1]!.confidence).toBeCloseTo(0.8, 6);
  });

  it('cancels a log-odds bonus exactly with combine "logit"; the probability average is off by the hand-computed amount', async () => {
    const S: Record<string, number> = { alpha: 0.5, beta: 0, gamma: -1, delta: 0.25, tie1: 0, tie2: 0 };
    const delta = 1;
    const judge = fakeJudge(tok, (first, second) => sig(S[first]! - S[second]! + delta), 0.8);
    const rows = ROWS.slice(0, 2);
    const prob = await judgePairs(judge, tok, { rows });
    const lgt = await judgePairs(judge, tok, { rows, combine: 'logit' });
    // row 1: s = 0.5; d1 = s + δ = 1.5, d2 = s − δ = −0.5
    expect(prob.judgements[0]!.logOdds[0]).toBeCloseTo(1.5, 5);
    expect(prob.judgements[0]!.logOdds[1]).toBeCloseTo(-0.5, 5);
    expect(prob.judgements[0]!.pA).toBeCloseTo((sig(1.5) + sig(-0.5)) / 2, 6); // 0.59756, not σ(0.5) = 0.62246
    expect(lgt.judgements[0]!.pA).toBeCloseTo(sig(0.5), 6);
    // row 2: s = −1.25
    expect(lgt.judgements[1]!.pA).toBeCloseTo(sig(-1.25), 6);
    expect(prob.judgements[1]!.pA).toBeCloseTo((sig(-0.25) + sig(-2.25)) / 2, 6);
    expect(lgt.positionBiasLogit).toBeCloseTo(delta, 5);
    expect(prob.positionBias).toBeCloseTo(((sig(1.5) + 1 - sig(-0.5)) / 2 + (sig(-0.25) + 1 - sig(-2.25)) / 2) / 2 - 0.5, 6);
    expect(prob.judgements[0]!.labelMass[0]).toBeCloseTo(0.8, 5); // the labels hold 80% of the next-token mass
    expect(prob.meanLabelMass).toBeCloseTo(0.8, 5);
  });

  it('skips ties below the margin, or flags them; writes the preference JSONL atomically', async () => {
    const judge = fakeJudge(tok, (first, second) => q(first, second));
    const dir = tempDir();
    const outPath = join(dir, 'prefs.jsonl');
    const flagged = await judgePairs(judge, tok, { rows: ROWS, ties: 'flag', outPath });
    expect(flagged.preferences.map((p) => p.tie ?? false)).toEqual([false, false, true]);
    expect(flagged.written).toBe(3);
    const lines = readFileSync(outPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toEqual(JSON.parse(JSON.stringify(flagged.preferences)));
    for (const l of lines) for (const k of ['prompt', 'chosen', 'rejected']) expect(typeof l[k]).toBe('string');
    expect(readdirSync(dir)).toEqual(['prefs.jsonl']);
    // a wide margin makes row 1 (p = 0.7) a tie too; margin 0 keeps only exact 0.5 as a tie
    expect((await judgePairs(judge, tok, { rows: ROWS, margin: 0.25 })).preferences.map((p) => p.prompt)).toEqual(['p2']);
    expect((await judgePairs(judge, tok, { rows: ROWS, margin: 0 })).ties).toBe(1);
  });

  it('reads the same label probabilities as scoreContinuation on a real model (single- and multi-token labels)', async () => {
    const model = new TransformerLM({ family: 'llama', vocabSize: 258, nLayer: 1, nHead: 2, nEmbd: 16, intermediateSize: 24, blockSize: 512, initStd: 0.5, seed: 9 });
    const row = { prompt: 'Say hi.', a: 'hi!', b: 'go away' };
    for (const labels of [['A', 'B'], ['AA', 'BB']] as [string, string][]) {
      const r = await judgePairs(model, tok, { rows: [row], labels, combine: 'logit' });
      const ids = (first: string, second: string) =>
        encodeChat(tok, [{ role: 'user', content: defaultJudgePrompt({ prompt: row.prompt, first, second, principle: null, labels }) }], { template: 'chatml', addGenerationPrompt: true });
      const score = (x: number[], label: string) => scoreContinuation(model, x, tok.encodeOrdinary(label)).total;
      const d1 = score(ids(row.a, row.b), labels[0]) - score(ids(row.a, row.b), labels[1]);
      const d2 = score(ids(row.b, row.a), labels[1]) - score(ids(row.b, row.a), labels[0]);
      expect(r.judgements[0]!.logOdds[0]).toBeCloseTo(d1, 4);
      expect(r.judgements[0]!.logOdds[1]).toBeCloseTo(d2, 4);
      expect(r.judgements[0]!.pA).toBeCloseTo(sig((d1 + d2) / 2), 5);
    }
    model.dispose();
  });

  it('refuses bad rows and options with typed errors', async () => {
    const judge = fakeJudge(tok, () => 0.6);
    await alignError(judgePairs(judge, tok, { rows: [] }), 'INVALID_ARGUMENT', 'rows');
    await alignError(judgePairs(judge, tok, { rows: [ROWS[0]!, { prompt: 'p', a: 'same', b: 'same' }] }), 'DATA_INVALID', 'rows[1]', 'identical');
    await alignError(judgePairs(judge, tok, { rows: [{ prompt: 'p', a: 'x' } as JudgeRow] }), 'DATA_INVALID', 'rows[0]', 'field "b"');
    await alignError(judgePairs(judge, tok, { rows: ROWS, labels: ['A', 'A'] }), 'CONFIG_INVALID', 'same tokens');
    await alignError(judgePairs(judge, tok, { rows: ROWS, labels: ['A', 'AB'] }), 'CONFIG_INVALID', 'begin the other');
    await alignError(judgePairs(judge, tok, { rows: ROWS, margin: 0.5 }), 'CONFIG_INVALID', 'margin');
    await alignError(judgePairs(judge, tok, { rows: ROWS, ties: 'drop' as 'skip' }), 'CONFIG_INVALID', 'ties');
    await alignError(judgePairs(judge, tok, { rows: ROWS, outPath: join(tempDir(), 'no', 'x.jsonl') }), 'INVALID_ARGUMENT', 'outPath');
    expect(judge.calls).toBe(0);
    (judge.config as { blockSize: number }).blockSize = 100;
    await alignError(judgePairs(judge, tok, { rows: ROWS }), 'SEQUENCE_TOO_LONG', 'row 0, a first', 'context is 100');
  });
});

describe('labelPreferences', () => {
  const prompts = ['Tell me a joke.', 'Name a colour.', 'Count to three.', 'Say something nice.'];
  const codeSum = (s: string) => [...s].reduce((t, c) => t + c.charCodeAt(0), 0);

  it('samples two responses per prompt (seeded), judges them both ways and writes DPO rows', async () => {
    const policy = new TransformerLM({ family: 'llama', vocabSize: 258, nLayer: 1, nHead: 2, nEmbd: 16, intermediateSize: 24, blockSize: 512, initStd: 0.3, seed: 2 });
    // the judge prefers the response with the larger sum of character codes, with a first-slot bonus of 0.1
    const judge = fakeJudge(tok, (f, s) => (codeSum(f) > codeSum(s) ? 0.8 : codeSum(f) < codeSum(s) ? 0.2 : 0.5) + 0.1);
    const dir = tempDir();
    const outPath = join(dir, 'prefs.jsonl');
    const run = () => labelPreferences(policy, judge, tok, { prompts, seed: 4, batchSize: 3, generation: { maxNewTokens: 8, temperature: 1 }, outPath });
    const r = await run();
    expect(r.pairs.length + r.skipped.identical.length + r.skipped.empty.length).toBe(prompts.length);
    expect(r.pairs.length).toBeGreaterThan(0);
    for (const p of r.judged.preferences) {
      expect(codeSum(p.chosen)).toBeGreaterThan(codeSum(p.rejected));
      expect(p.confidence).toBeCloseTo(0.8, 6);
    }
    expect(r.judged.positionBias).toBeCloseTo(0.1, 6);
    const lines = readFileSync(outPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toEqual(JSON.parse(JSON.stringify(r.judged.preferences)));
    expect((await run()).pairs).toEqual(r.pairs); // seeded
    policy.dispose();
  });

  it('skips identical pairs and refuses greedy generation', async () => {
    const policy = scriptedChatLM(tok, () => 'always the same');
    const judge = fakeJudge(tok, () => 0.6);
    const r = await labelPreferences(policy, judge, tok, { prompts: ['a', 'b'], generation: { maxNewTokens: 30 } });
    expect(r.skipped.identical).toEqual([0, 1]);
    expect(r.judged.preferences).toEqual([]);
    expect(judge.calls).toBe(0);
    await alignError(labelPreferences(policy, judge, tok, { prompts: ['a'], generation: { temperature: 0 } }), 'CONFIG_INVALID', 'must sample');
    await alignError(labelPreferences(policy, judge, tok, { prompts: ['a'], labels: ['A', 'A'] }), 'CONFIG_INVALID', 'labels');
  });
});
