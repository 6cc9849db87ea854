// The evaluation harness against hand-computed numbers (a bigram model whose log-likelihoods are
// sums of ln of powers of two) and against a slow obvious implementation (one request at a time,
// no padding, log-softmax in plain JS; a full forward per generated token, no cache).
import { beforeAll, describe, expect, it } from 'vitest';
import { tf, initBackend } from '@llm/tensor-gpu';
import { TransformerLM, type CausalLM, type KVCache } from '@llm/transformer';
import { TrainError } from '../errors.js';
import { parseTask, type Task } from './task.js';
import { fewShotPrompt, shotIndices } from './prompt.js';
import { loglikelihoods } from './loglik.js';
import { greedyGenerate } from './generate.js';
import { chooseMc, extractAnswer, exactMatch, meanStderr } from './metrics.js';
import { evaluateTask, encodePair, cutAtStop, formatResultsTable, type EvalTokenizer } from './run.js';

beforeAll(() => initBackend({ backend: 'wasm', log: false }).then(() => undefined));

// p(next | prev) over the alphabet a b c ␠ (rows: prev; columns: next).
const ALPHA = ['a', 'b', 'c', ' '];
const P = [
  [1 / 8, 1 / 2, 1 / 4, 1 / 8], // after a
  [1 / 4, 1 / 4, 1 / 4, 1 / 4], // after b
  [1 / 8, 1 / 8, 1 / 2, 1 / 4], // after c
  [1 / 2, 1 / 4, 1 / 8, 1 / 8], // after ␠
];
const charTok: EvalTokenizer = {
  encodeOrdinary: (t) => [...t].map((ch) => ALPHA.indexOf(ch)),
  decode: (ids) => ids.map((i) => ALPHA[i]).join(''),
};
/** A CausalLM whose logits at a position are ln P[that position's token] (a bigram: the cache is not needed). */
function bigram(blockSize = 16): CausalLM & { table: tf.Tensor2D } {
  const table = tf.tensor2d(P.map((row) => row.map(Math.log))); // [V, V]
  return {
    table,
    config: { blockSize, vocabSize: 4, eosTokenId: null } as unknown as CausalLM['config'],
    forward: (ids, opts = {}) =>
      tf.tidy(() => {
        const [B, T] = ids.shape as [number, number];
        const logits = tf.gather(table, ids.reshape([-1])).reshape([B, T, 4]) as tf.Tensor3D; // [B, T, V]
        const keep = opts.logitsToKeep ?? T;
        return logits.slice([0, T - keep, 0], [B, keep, 4]);
      }),
    createCache: () => ({ dispose: () => undefined }) as unknown as KVCache,
  };
}

describe('multiple choice: acc and acc_norm by hand', () => {
  // Context "a", continuations " a", " ab", " bb":
  //   ln p = ln(1/8·1/2) = ln 1/16 = −2.7726;  ln(1/8·1/2·1/2) = ln 1/32 = −3.4657;  ln(1/8·1/4·1/4) = ln 1/128 = −4.8520
  //   per character of the choice: −2.7726, −1.7329, −2.4260  →  acc picks "a", acc_norm picks "ab".
  const task = parseTask(
    [
      JSON.stringify({ task: { name: 'hand', type: 'multiple_choice' } }),
      JSON.stringify({ context: 'a', choices: ['a', 'ab', 'bb'], gold: 1 }), // acc 0, acc_norm 1
      JSON.stringify({ context: 'a', choices: ['a', 'ab', 'bb'], gold: 0 }), // acc 1, acc_norm 0
      JSON.stringify({ context: 'c', choices: ['c', 'a'], gold: 1 }), // ln(1/4·1/8) vs ln(1/4·1/2): acc 1, acc_norm 1
    ].join('\n'),
  );

  it('log-likelihoods are the hand-computed sums', () => {
    const model = bigram();
    const lls = loglikelihoods(model, ['a', 'ab', 'bb'].map((c) => encodePair(charTok, 'a', ` ${c}`)), { batchSize: 2 });
    expect(lls.map((r) => r.logprob)).toEqual([Math.log(1 / 16), Math.log(1 / 32), Math.log(1 / 128)].map((x) => expect.closeTo(x, 5)));
    expect(lls.map((r) => r.greedy)).toEqual([false, false, false]); // after a, ␠ (1/8) is not the argmax (b, 1/2)
    expect(loglikelihoods(model, [{ context: [3], continuation: [0, 1] }])[0]).toEqual({ logprob: expect.closeTo(Math.log(1 / 4), 5), greedy: true });
    model.table.dispose();
  });

  it('acc 2/3, acc_norm 2/3, stderr √(p(1−p)/(n−1)) = 1/3; per-item predictions as derived', () => {
    const model = bigram();
    for (const batchSize of [1, 3, 16]) {
      const r = evaluateTask(model, charTok, task, { batchSize, samples: true });
      expect(r.n).toBe(3);
      expect(r.samples!.map((s) => s.scores)).toEqual([
        { acc: 0, acc_norm: 1 },
        { acc: 1, acc_norm: 0 },
        { acc: 1, acc_norm: 1 },
      ]);
      expect(r.metrics.acc!.value).toBeCloseTo(2 / 3, 12);
      expect(r.metrics.acc_norm!.value).toBeCloseTo(2 / 3, 12);
      expect(r.metrics.acc!.stderr).toBeCloseTo(1 / 3, 12);
    }
    expect(evaluateTask(model, charTok, task, { limit: 1 }).metrics).toMatchObject({ acc: { value: 0 }, acc_norm: { value: 1 } });
    model.table.dispose();
  });

  it('chooseMc normalizes by the choice length in characters, ties to the first', () => {
    expect(chooseMc([-1.386, -2.079], ['c', 'ab'])).toEqual({ pred: 0, predNorm: 1 });
    expect(chooseMc([-2, -2], ['x', 'y'])).toEqual({ pred: 0, predNorm: 0 });
    expect(chooseMc([-3, -4], ['é', 'ab'])).toEqual({ pred: 0, predNorm: 1 }); // 'é' is one character
  });
});

describe('batched log-likelihood on a real model', () => {
  it('equals one-at-a-time unpadded scoring, truncating long inputs from the left, and leaks no tensors', () => {
    const model = new TransformerLM({ family: 'gpt2', vocabSize: 11, nLayer: 1, nHead: 2, nEmbd: 16, blockSize: 8, initStd: 0.5 });
    const requests = [
      { context: [1, 2, 3], continuation: [4] },
      { context: [5], continuation: [6, 7, 8] },
      { context: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], continuation: [2, 3] }, // 12 tokens: the model sees the last 8 of the first 11
      { context: [9, 9], continuation: [0, 0, 0, 0, 0, 0, 0, 0] }, // continuation = blockSize
      { context: [3], continuation: [3] },
    ];
    const slow = requests.map(({ context, continuation }) => {
      const whole = [...context, ...continuation];
      const input = whole.slice(0, -1).slice(-8);
      const logits = tf.tidy(() => model.forward(tf.tensor2d([input], [1, input.length], 'int32')).arraySync()[0]!); // [T][V]
      let sum = 0;
      let greedy = true;
      continuation.forEach((tok, j) => {
        const row = logits[input.length - continuation.length + j]!;
        const max = Math.max(...row);
        const lse = max + Math.log(row.reduce((a, x) => a + Math.exp(x - max), 0));
        sum += row[tok]! - lse;
        if (row.indexOf(max) !== tok) greedy = false;
      });
      return { logprob: sum, greedy };
    });
    const before = tf.memory().numTensors;
    for (const batchSize of [1, 2, 5]) {
      const fast = loglikelihoods(model, requests, { batchSize });
      fast.forEach((r, i) => {
        expect(r.logprob, `request ${i}, batch ${batchSize}`).toBeCloseTo(slow[i]!.logprob, 4);
        expect(r.greedy).toBe(slow[i]!.greedy);
      });
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(() => loglikelihoods(model, [{ context: [], continuation: [1] }])).toThrow(TrainError);
    expect(() => loglikelihoods(model, [{ context: [1], continuation: new Array(9).fill(1) }])).toThrow(/does not fit the model's context of 8/);
    model.dispose();
  });
});

describe('generation', () => {
  it('greedyGenerate over the KV cache equals argmax of a full forward per token, with no leaks', () => {
    const model = new TransformerLM({ family: 'llama', vocabSize: 13, nLayer: 2, nHead: 2, nEmbd: 16, blockSize: 12, initStd: 0.8, seed: 5 });
    const prompt = [1, 7, 3, 3];
    const slow: number[] = [];
    for (let k = 0; k < 6; k++) {
      const ids = [...prompt, ...slow];
      slow.push(tf.tidy(() => model.forward(tf.tensor2d([ids], [1, ids.length], 'int32')).arraySync()[0]!.at(-1)!).reduce((best, x, i, row) => (x > row[best]! ? i : best), 0));
    }
    const before = tf.memory().numTensors;
    expect(greedyGenerate(model, prompt, { maxNewTokens: 6 })).toEqual(slow);
    expect(greedyGenerate(model, prompt, { maxNewTokens: 6, stop: (out) => out.length === 2 })).toEqual(slow.slice(0, 2));
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('exact match after cutting at `until` and extracting with the regex', () => {
    // bigram greedy after ␠: a (1/2), then b (1/2), then a (tie 1/4 → first), b, a …
    const model = bigram();
    const task = parseTask([JSON.stringify({ task: { type: 'generate', until: ['ba'], maxNewTokens: 6, extract: '(a+)' } }), JSON.stringify({ context: ' ', target: 'a' }), JSON.stringify({ context: ' ', target: 'ab' })].join('\n'));
    const r = evaluateTask(model, charTok, task, { samples: true });
    expect(r.samples!.map((s) => [s.output, s.answer])).toEqual([
      ['a', 'a'],
      ['a', 'a'],
    ]); // generated "aba" → cut before "ba" → "a"
    expect(r.metrics.exact_match).toEqual({ value: 0.5, stderr: expect.closeTo(Math.sqrt((0.5 * 0.5) / (2 - 1)), 12) });
    model.table.dispose();
  });

  it('extractAnswer, exactMatch, cutAtStop', () => {
    expect(extractAnswer('The sum is 42.\n', '-?\\d+')).toBe('42');
    expect(extractAnswer('answer: -7 or 8', 'answer: (-?\\d+)')).toBe('-7');
    expect(extractAnswer('no digits', '\\d+')).toBe('[invalid]');
    expect(extractAnswer('  Mia \n', null)).toBe('Mia');
    expect(exactMatch(' 42', '42')).toBe(1);
    expect(exactMatch('mia', 'Mia')).toBe(0);
    expect(exactMatch('mia', 'Mia', true)).toBe(1);
    expect(cutAtStop('12\n\nQ: 3', ['\n\n', 'Q:'])).toBe('12');
    expect(cutAtStop('12', ['\n'])).toBe('12');
  });
});

describe('k-shot prompts', () => {
  const items = [
    { context: 'Q: 1+1=\nA:', target: '2' },
    { context: 'Q: 2+2=\nA:', target: '4' },
    { context: 'Q: 3+3=\nA:', target: '6' },
  ];
  const task = parseTask([JSON.stringify({ task: { type: 'generate', description: 'Add.\n\n', fewshotDelimiter: '\n##\n' } }), ...items.map((i) => JSON.stringify(i))].join('\n'));

  it('description, the other items rendered context + " " + answer, the delimiter, then the item', () => {
    const p = fewShotPrompt(task, 2, { shots: 2, seed: 7 });
    const orders = [
      'Add.\n\nQ: 1+1=\nA: 2\n##\nQ: 2+2=\nA: 4\n##\nQ: 3+3=\nA:',
      'Add.\n\nQ: 2+2=\nA: 4\n##\nQ: 1+1=\nA: 2\n##\nQ: 3+3=\nA:',
    ];
    expect(orders).toContain(p);
    expect(fewShotPrompt(task, 2, { shots: 0 })).toBe('Add.\n\nQ: 3+3=\nA:');
    expect(fewShotPrompt(task, 2, { shots: 2, seed: 7 })).toBe(p); // fixed seed → same prompt
  });

  it('shots are distinct, never the item itself, fixed by (seed, index), and vary with the seed', () => {
    for (let i = 0; i < 20; i++) {
      const s = shotIndices(20, i, 5, 1234);
      expect(new Set(s).size).toBe(5);
      expect(s).not.toContain(i);
      expect(s.every((j) => j >= 0 && j < 20)).toBe(true);
      expect(shotIndices(20, i, 5, 1234)).toEqual(s);
    }
    const draws = new Set(Array.from({ length: 10 }, (_, seed) => shotIndices(20, 0, 3, seed).join(',')));
    expect(draws.size).toBeGreaterThan(5);
    expect(() => shotIndices(3, 0, 3)).toThrow(/3 shots need at least 4 items/);
  });
});

describe('task files and results', () => {
  it('infers the type, applies defaults, and rejects bad lines with file:line and a stable code', () => {
    const mc = parseTask('{"context":"x","choices":["a","b"],"gold":1}\n', 'dir/colors.jsonl') as Extract<Task, { type: 'multiple_choice' }>;
    expect(mc).toMatchObject({ name: 'colors', type: 'multiple_choice', targetDelimiter: ' ', fewshotDelimiter: '\n\n', items: [{ gold: 1 }] });
    const bad: Array<[string, string, RegExp]> = [
      ['{"context":"x","choices":["a","b"],"gold":2}', 'DATA_INVALID', /t:1: "gold" must be an index/],
      ['{"context":"x","choices":["a"],"gold":0}', 'DATA_INVALID', /at least two/],
      ['{"task":{"name":"n"}}\n{"context":"x","target":5}', 'DATA_INVALID', /t:2: "target" must be a string/],
      ['{"task":{"nmae":"n"}}\n{"context":"x","target":"5"}', 'DATA_INVALID', /unknown task setting "nmae"/],
      ['{"task":{"extract":"("}}\n{"context":"x","target":"5"}', 'DATA_INVALID', /not a valid regular expression/],
      ['not json', 'DATA_INVALID', /t:1: not valid JSON/],
      ['{"task":{}}\n', 'DATA_EMPTY', /no items/],
    ];
    for (const [text, code, msg] of bad) {
      try {
        parseTask(text, 't');
        expect.unreachable(text);
      } catch (e) {
        expect(e, text).toBeInstanceOf(TrainError);
        expect((e as TrainError).code, text).toBe(code);
        expect((e as TrainError).message, text).toMatch(msg);
      }
    }
  });

  it('encodePair moves trailing context spaces into the continuation (lm-eval)', () => {
    expect(encodePair(charTok, 'ab ', 'c')).toEqual({ context: [0, 1], continuation: [3, 2] });
  });

  it('meanStderr and the table', () => {
    expect(meanStderr([1, 0, 1, 1])).toEqual({ mean: 0.75, stderr: expect.closeTo(Math.sqrt((0.75 * 0.25) / 3), 12) });
    expect(meanStderr([0.5]).stderr).toBeNaN();
    const table = formatResultsTable([{ task: 'add', type: 'generate', shots: 3, n: 4, metrics: { exact_match: { value: 0.75, stderr: 0.25 } } }]);
    expect(table.split('\n')).toEqual(['| task | n-shot | metric      |  value |   stderr |', '|------|-------:|-------------|-------:|---------:|', '| add  |      3 | exact_match | 0.7500 | ± 0.2500 |']);
  });
});
