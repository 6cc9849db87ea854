// Distillation loss against plain-loop references (softmax and KL by hand, float64).
import { beforeAll, describe, expect, it } from 'vitest';
import { tf, initBackend, crossEntropy } from '@llm/tensor-gpu';
import { distillationLoss } from './distill.js';
import { referenceCrossEntropy, referenceKl } from './testing/loss-reference.js';
import { expectTrainError } from './testing/sft-helpers.js';
import { randomArray } from '@llm/kit';

const [B, T, V] = [2, 3, 5];
const targetIds = [1, -100, 4, 0, 2, -100]; // [B, T] with two ignored positions
const studentData = randomArray(B * T * V, 11, -3, 3);
const teacherData = randomArray(B * T * V, 12, -3, 3);

const logits = (data: Float32Array): tf.Tensor3D => tf.tensor3d(data, [B, T, V]);
const targets = (): tf.Tensor2D => tf.tensor2d(targetIds, [B, T], 'int32');

describe('distillationLoss', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm', log: false });
  });

  it('equals alpha·T²·KL + (1 − alpha)·CE from a plain-loop reference', () => {
    for (const [temperature, alpha] of [[2, 0.3], [1, 0.5], [4, 0.9]] as const) {
      const [s, t, y] = [logits(studentData), logits(teacherData), targets()];
      const loss = distillationLoss(s, t, y, { temperature, alpha });
      const expected =
        alpha * temperature ** 2 * referenceKl(studentData, teacherData, targetIds, V, temperature) +
        (1 - alpha) * referenceCrossEntropy(studentData, targetIds, V);
      expect(loss.shape).toEqual([]);
      expect(loss.dataSync()[0]).toBeCloseTo(expected, 5);
      tf.dispose([s, t, y, loss]);
    }
  });

  it('matches the worked example of its docstring: .5·ln(4/3)', () => {
    const loss = distillationLoss(tf.tensor2d([[0, Math.log(3)]]), tf.tensor2d([[0, 0]]), tf.tensor1d([1], 'int32'), { temperature: 1, alpha: 1 });
    expect(loss.dataSync()[0]).toBeCloseTo(0.5 * Math.log(4 / 3), 6);
  });

  it('alpha = 0 is plain cross-entropy (teacher ignored)', () => {
    const [s, t, y] = [logits(studentData), logits(teacherData), targets()];
    const loss = distillationLoss(s, t, y, { alpha: 0 }).dataSync()[0]!;
    expect(loss).toBe(crossEntropy(s, y).dataSync()[0]);
    expect(loss).toBeCloseTo(referenceCrossEntropy(studentData, targetIds, V), 5);
  });

  it('teacher == student with alpha = 1 gives 0', () => {
    const [s, y] = [logits(studentData), targets()];
    expect(Math.abs(distillationLoss(s, s.clone(), y, { alpha: 1, temperature: 3 }).dataSync()[0]!)).toBeLessThan(1e-7);
  });

  it('no gradient reaches the teacher; the student gets α·T·(q − p)/N at kept positions, 0 at ignored ones', () => {
    const [s, t, y] = [logits(studentData), logits(teacherData), targets()];
    const [temperature, alpha] = [2, 1];
    const [gs, gt] = tf.grads((a: tf.Tensor, b: tf.Tensor) => distillationLoss(a, b, y, { temperature, alpha }))([s, t]);
    expect(Array.from(gt!.dataSync()).every((g) => g === 0)).toBe(true);
    const softmax = (row: number[]): number[] => {
      const m = Math.max(...row);
      const e = row.map((x) => Math.exp(x - m));
      const z = e.reduce((p, c) => p + c, 0);
      return e.map((x) => x / z);
    };
    const kept = targetIds.filter((id) => id !== -100).length;
    const expected: number[] = [];
    for (let n = 0; n < B * T; n++) {
      const row = (d: Float32Array): number[] => Array.from(d.subarray(n * V, (n + 1) * V), (x) => x / temperature);
      const [q, p] = [softmax(row(studentData)), softmax(row(teacherData))];
      for (let v = 0; v < V; v++) expected.push(targetIds[n] === -100 ? 0 : (alpha * temperature * (q[v]! - p[v]!)) / kept);
    }
    const got = Array.from(gs!.dataSync());
    got.forEach((g, i) => expect(g).toBeCloseTo(expected[i]!, 6));
    expect(got.slice(V, 2 * V).every((g) => g === 0)).toBe(true); // position 1 is ignored: exactly zero
    tf.dispose([s, t, y, gs!, gt!]);
  });

  it('is 0 when every target is ignored', () => {
    const y = tf.fill([B, T], -100, 'int32');
    expect(distillationLoss(logits(studentData), logits(teacherData), y).dataSync()[0]).toBe(0);
  });

  it('leaves no tensors behind', () => {
    const [s, t, y] = [logits(studentData), logits(teacherData), targets()];
    const before = tf.memory().numTensors;
    const loss = distillationLoss(s, t, y);
    const grads = tf.grads((a: tf.Tensor) => distillationLoss(a, t, y))([s]);
    tf.dispose([loss, ...grads]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([s, t, y]);
  });

  it('rejects mismatched shapes (naming both), bad dtypes, temperature and alpha', async () => {
    const s = logits(studentData);
    const y = targets();
    await expectTrainError(() => distillationLoss(s, tf.zeros([B, T, V + 1]), y), 'INVALID_ARGUMENT', /student \[2,3,5\], teacher \[2,3,6\]/);
    await expectTrainError(() => distillationLoss(s, s, tf.zeros([B, T + 1], 'int32')), 'INVALID_ARGUMENT', /\[\.\.\.targets, V\].*targets \[2,4\]/);
    await expectTrainError(() => distillationLoss(s, s, tf.zeros([B, T])), 'INVALID_ARGUMENT', /targets int32/);
    await expectTrainError(() => distillationLoss(s, s, y, { temperature: 0 }), 'INVALID_ARGUMENT', /temperature must be a finite number > 0, got 0/);
    await expectTrainError(() => distillationLoss(s, s, y, { alpha: 1.5 }), 'INVALID_ARGUMENT', /alpha must be in \[0, 1\], got 1.5/);
  });
});
