import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../tf.js';
import { registerMissingKernels } from './install.js';
import { segmentSum } from './unsorted-segment-sum.js';

describe('UnsortedSegmentSum on wasm', () => {
  beforeAll(async () => {
    await tf.setBackend('wasm');
    registerMissingKernels('wasm');
  });

  it('sums rows by segment id, dropping ids outside [0, S) (hand-computed)', () => {
    const x = tf.tensor2d([[1, 2], [3, 4], [5, 6], [7, 8]]);
    const out = tf.unsortedSegmentSum(x, tf.tensor1d([1, 0, 1, 5], 'int32'), 3);
    expect(out.shape).toEqual([3, 2]);
    expect(Array.from(out.dataSync())).toEqual([3, 4, 6, 8, 0, 0]);
    tf.dispose([x, out]);
  });

  it('makes the gradient of gather (embedding backward) work', () => {
    const w = tf.tensor2d([[1, 1], [1, 1], [1, 1]]);
    const g = tf.grad((t: tf.Tensor) => tf.gather(t, tf.tensor1d([2, 0, 2], 'int32')).sum())(w);
    expect(Array.from(g.dataSync())).toEqual([1, 1, 0, 0, 2, 2]);
    tf.dispose([w, g]);
  });

  it('plain helper matches a direct loop', () => {
    const out = new Float32Array(4);
    segmentSum([1, 2, 3, 4, 5, 6], [0, 1, 0], out, 2, 2);
    expect(Array.from(out)).toEqual([6, 8, 3, 4]);
  });
});
