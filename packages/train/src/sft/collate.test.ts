// Collation against hand-computed arrays; toTensors; length-grouped batching.
import { beforeAll, describe, expect, it } from 'vitest';
import { tf, initBackend } from '@llm/tensor-gpu';
import { collate, groupByLength, shiftedTargets, toTensors } from './collate.js';
import { expectTrainError } from '../testing/sft-helpers.js';

const X = -100;
const a = { ids: [5, 6, 7, 8], labels: [X, X, 7, 8] };
const b = { ids: [5, 9], labels: [X, 9] };

describe('collate', () => {
  it('right-pads two examples of different lengths (hand-computed)', () => {
    const batch = collate([a, b], { padId: 0 });
    expect(batch.batch).toBe(2);
    expect(batch.length).toBe(4);
    expect(Array.from(batch.inputs)).toEqual([5, 6, 7, 8, /**/ 5, 9, 0, 0]);
    expect(Array.from(batch.targets)).toEqual([X, 7, 8, X, /**/ 9, X, X, X]);
    expect(Array.from(batch.mask)).toEqual([1, 1, 1, 1, /**/ 1, 1, 0, 0]);
    expect(batch.inputs).toBeInstanceOf(Int32Array);
    expect(batch.targets).toBeInstanceOf(Int32Array);
    expect(batch.mask).toBeInstanceOf(Uint8Array);
  });

  it('padTo fixes the length; a longer example is an error unless maxLength cuts it', async () => {
    const batch = collate([b], { padId: 3, padTo: 5 });
    expect(Array.from(batch.inputs)).toEqual([5, 9, 3, 3, 3]);
    expect(Array.from(batch.targets)).toEqual([9, X, X, X, X]);
    expect(Array.from(batch.mask)).toEqual([1, 1, 0, 0, 0]);
    await expectTrainError(() => collate([b, a], { padId: 0, padTo: 3 }), 'INVALID_ARGUMENT', /example 1 has 4 tokens, more than padTo 3/, /maxLength/);
    const cut = collate([b, a], { padId: 0, padTo: 3, maxLength: 3 });
    expect(Array.from(cut.inputs)).toEqual([5, 9, 0, /**/ 5, 6, 7]);
    expect(Array.from(cut.targets)).toEqual([9, X, X, /**/ X, 7, X]); // label 8 was cut with its token
  });

  it('maxLength keeps the start of each example', () => {
    const batch = collate([a, b], { padId: 0, maxLength: 3 });
    expect(batch.length).toBe(3);
    expect(Array.from(batch.inputs)).toEqual([5, 6, 7, /**/ 5, 9, 0]);
    expect(Array.from(batch.targets)).toEqual([X, 7, X, /**/ 9, X, X]);
  });

  it('shiftedTargets shifts left by one and ends with -100', () => {
    expect(shiftedTargets([X, X, 7, 8])).toEqual([X, 7, 8, X]);
    expect(shiftedTargets([4])).toEqual([X]);
  });

  it('rejects bad input with the reason', async () => {
    await expectTrainError(() => collate([], { padId: 0 }), 'INVALID_ARGUMENT', /no examples/);
    await expectTrainError(() => collate([a, { ids: [1, 2], labels: [1] }], { padId: 0 }), 'INVALID_ARGUMENT', /example 1 has 2 ids but 1 labels/);
    await expectTrainError(() => collate([{ ids: [], labels: [] }], { padId: 0 }), 'INVALID_ARGUMENT', /example 0 has no tokens/);
    await expectTrainError(() => collate([a], { padId: -1 }), 'INVALID_ARGUMENT', /padId/);
    await expectTrainError(() => collate([a], { padId: 0, padTo: 0 }), 'INVALID_ARGUMENT', /padTo/);
    await expectTrainError(() => collate([a], { padId: 0, maxLength: 1.5 }), 'INVALID_ARGUMENT', /maxLength/);
  });
});

describe('toTensors', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm', log: false });
  });

  it('gives int32 [B, T] inputs and targets and 0/1 mask rows', () => {
    const before = tf.memory().numTensors;
    const { inputs, targets, mask } = toTensors(collate([a, b], { padId: 0 }));
    expect(inputs.shape).toEqual([2, 4]);
    expect(inputs.dtype).toBe('int32');
    expect(targets.dtype).toBe('int32');
    expect(inputs.arraySync()).toEqual([[5, 6, 7, 8], [5, 9, 0, 0]]);
    expect(targets.arraySync()).toEqual([[X, 7, 8, X], [9, X, X, X]]);
    expect(mask).toEqual([[1, 1, 1, 1], [1, 1, 0, 0]]);
    tf.dispose([inputs, targets]);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('groupByLength', () => {
  // 200 lengths from a fixed LCG, 1..512.
  const lengths = Array.from({ length: 200 }, (_, i) => ((i * 7919 + 13) % 512) + 1);
  const paddingOf = (batches: number[][]): number =>
    batches.reduce((sum, batch) => {
      const ls = batch.map((i) => lengths[i]!);
      return sum + ls.length * Math.max(...ls) - ls.reduce((s, l) => s + l, 0);
    }, 0);

  it('uses every index exactly once, in batches of batchSize', () => {
    const batches = groupByLength(lengths, { batchSize: 8, seed: 1 });
    expect(batches.flat().sort((x, y) => x - y)).toEqual(lengths.map((_, i) => i));
    expect(batches.every((batch) => batch.length === 8)).toBe(true); // 200 = 25 × 8, one window
  });

  it('is deterministic for a seed and differs across seeds', () => {
    expect(groupByLength(lengths, { batchSize: 8, seed: 1 })).toEqual(groupByLength(lengths, { batchSize: 8, seed: 1 }));
    expect(groupByLength(lengths, { batchSize: 8, seed: 1 })).not.toEqual(groupByLength(lengths, { batchSize: 8, seed: 2 }));
  });

  it('puts the longest example in the first batch and cuts padding well below in-order batching', () => {
    const batches = groupByLength(lengths, { batchSize: 8, seed: 3, windowSize: 64 });
    expect(batches[0]!.some((i) => lengths[i] === Math.max(...lengths))).toBe(true);
    const inOrder = Array.from({ length: 25 }, (_, k) => Array.from({ length: 8 }, (_, j) => k * 8 + j));
    expect(paddingOf(batches)).toBeLessThan(paddingOf(inOrder) / 3);
  });

  it('rejects a bad batch size', async () => {
    await expectTrainError(() => groupByLength(lengths, { batchSize: 0, seed: 0 }), 'INVALID_ARGUMENT', /batchSize must be a positive integer/);
  });
});
