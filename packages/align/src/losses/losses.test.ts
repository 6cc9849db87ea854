// Each loss against numbers worked out here in plain JS (float64), and its gradient against central
// differences on the inputs.
import { beforeAll, describe, expect, it } from 'vitest';
import { tf, initBackend } from '@llm/tensor-gpu';
import { expectError } from '@llm/kit';
import { AlignError } from '../errors.js';
import { dpoLoss, orpoLoss, simpoLoss, ktoLoss, rewardLoss, classificationLoss, regressionLoss, accuracyAndMacroF1, type LossOutput } from './index.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm', log: false });
});

const ls = (x: number) => (x >= 0 ? -Math.log1p(Math.exp(-x)) : x - Math.log1p(Math.exp(x))); // log σ(x)
const sig = (x: number) => 1 / (1 + Math.exp(-x));
const mean = (a: number[]) => a.reduce((s, x) => s + x, 0) / a.length;
const val = (t: tf.Tensor) => t.dataSync()[0]!;
const t1 = (a: number[]) => tf.tensor1d(a);

/** Runs a loss on plain arrays, returns loss and metric values, frees everything. */
function run(f: (xs: tf.Tensor1D[]) => LossOutput, inputs: number[][]): { loss: number; m: Record<string, number> } {
  return tf.tidy(() => {
    const out = f(inputs.map(t1));
    return { loss: val(out.loss), m: Object.fromEntries(Object.entries(out.metrics).map(([k, v]) => [k, val(v)])) };
  });
}

/** Analytic gradient of the loss wrt input `which` vs central differences (float32: h = 1e-2). */
function checkGrad(f: (xs: tf.Tensor1D[]) => LossOutput, inputs: number[][], which: number[], tol = 2e-3): void {
  const before = tf.memory().numTensors;
  for (const w of which) {
    const analytic = tf.tidy(() => {
      const xs = inputs.map(t1);
      const g = tf.grad((x: tf.Tensor) => f(xs.map((t, i) => (i === w ? (x as tf.Tensor1D) : t))).loss)(xs[w]!);
      return Array.from(g.dataSync());
    });
    const h = 1e-2;
    inputs[w]!.forEach((_, j) => {
      const at = (d: number) => run(f, inputs.map((a, i) => (i === w ? a.map((v, k) => (k === j ? v + d : v)) : a))).loss;
      const numeric = (at(h) - at(-h)) / (2 * h);
      expect(Math.abs(analytic[j]! - numeric), `input ${w}[${j}]: ${analytic[j]} vs ${numeric}`).toBeLessThan(tol);
    });
  }
  expect(tf.memory().numTensors).toBe(before);
}

const PC = [-10.2, -8.0, -12.5];
const PR = [-11.0, -6.5, -15.0];
const RC = [-10.5, -8.2, -12.0];
const RR = [-10.8, -7.0, -14.1];
const dpoF = (opts: Parameters<typeof dpoLoss>[1]) => ([a, b, c, d]: tf.Tensor1D[]) => dpoLoss({ policyChosen: a!, policyRejected: b!, refChosen: c!, refRejected: d! }, opts);

describe('dpoLoss', () => {
  const delta = PC.map((_, i) => PC[i]! - PR[i]! - (RC[i]! - RR[i]!)); // [0.5, -0.3, 0.4]: row 1 prefers rejected
  it.each([
    ['sigmoid', 0.1, 0, (d: number) => -ls(0.1 * d)],
    ['sigmoid', 0.5, 0.2, (d: number) => -0.8 * ls(0.5 * d) - 0.2 * ls(-0.5 * d)],
    ['robust', 0.3, 0.1, (d: number) => (-0.9 * ls(0.3 * d) + 0.1 * ls(-0.3 * d)) / 0.8],
    ['hinge', 0.5, 0, (d: number) => Math.max(0, 1 - 0.5 * d)],
    ['ipo', 0.1, 0, (d: number) => (d - 5) ** 2],
  ] as const)('%s β=%s ε=%s equals the hand-computed loss; metrics are TRL\'s', (lossType, beta, labelSmoothing, per) => {
    const { loss, m } = run(dpoF({ beta, lossType, labelSmoothing }), [PC, PR, RC, RR]);
    expect(loss).toBeCloseTo(mean(delta.map(per)), 5);
    const rc = PC.map((p, i) => beta * (p - RC[i]!));
    const rr = PR.map((p, i) => beta * (p - RR[i]!));
    expect(m['rewards/chosen']).toBeCloseTo(mean(rc), 5);
    expect(m['rewards/rejected']).toBeCloseTo(mean(rr), 5);
    expect(m['rewards/accuracies']).toBeCloseTo(2 / 3, 6); // rows 0 and 2 prefer chosen
    expect(m['rewards/margins']).toBeCloseTo(mean(rc.map((c, i) => c - rr[i]!)), 5);
    expect(m['logps/chosen']).toBeCloseTo(mean(PC), 4);
    expect(m['logps/rejected']).toBeCloseTo(mean(PR), 4);
  });
  it('gradients match central differences (policy inputs; none reach the reference)', () => {
    for (const lossType of ['sigmoid', 'robust', 'ipo', 'hinge'] as const) checkGrad(dpoF({ beta: 0.3, lossType, labelSmoothing: lossType === 'robust' || lossType === 'sigmoid' ? 0.1 : 0 }), [PC, PR, RC, RR], [0, 1]);
    const g = tf.tidy(() => Array.from(tf.grad((x: tf.Tensor) => dpoF({})([t1(PC), t1(PR), x as tf.Tensor1D, t1(RR)]).loss)(t1(RC)).dataSync()));
    expect(g).toEqual([0, 0, 0]);
  });
  it('refuses bad options and shapes', () => {
    expectError(() => dpoLoss({ policyChosen: t1([1]), policyRejected: t1([1]), refChosen: t1([1]), refRejected: t1([1]) }, { beta: 0 }), 'CONFIG_INVALID', ['beta'], AlignError);
    expectError(() => dpoLoss({ policyChosen: t1([1]), policyRejected: t1([1]), refChosen: t1([1]), refRejected: t1([1]) }, { lossType: 'robust', labelSmoothing: 0.5 }), 'CONFIG_INVALID', ['labelSmoothing'], AlignError);
    expectError(() => dpoLoss({ policyChosen: t1([1, 2]), policyRejected: t1([1]), refChosen: t1([1]), refRejected: t1([1]) }), 'INVALID_ARGUMENT', ['[B]'], AlignError);
  });
});

const LC = [-0.9, -0.2, -1.7];
const LR = [-1.2, -0.05, -2.5];

describe('orpoLoss', () => {
  const f = ([a, b, n]: tf.Tensor1D[]) => orpoLoss({ chosenMeanLogps: a!, rejectedMeanLogps: b!, chosenNll: n!.sum() as tf.Scalar }, { beta: 0.2 });
  it('equals nll − β·mean logσ(log_odds) worked out by hand', () => {
    const logOdds = LC.map((c, i) => c - LR[i]! - (Math.log(1 - Math.exp(c)) - Math.log(1 - Math.exp(LR[i]!))));
    const { loss, m } = run(f, [LC, LR, [0.75]]);
    expect(loss).toBeCloseTo(0.75 - 0.2 * mean(logOdds.map(ls)), 5);
    expect(m.log_odds_chosen).toBeCloseTo(mean(logOdds), 4);
    expect(m.log_odds_ratio).toBeCloseTo(mean(logOdds.map(ls)), 5);
    expect(m.nll_loss).toBeCloseTo(0.75, 6);
    expect(m['rewards/chosen']).toBeCloseTo(0.2 * mean(LC), 5);
    expect(m['rewards/accuracies']).toBeCloseTo(2 / 3, 6);
  });
  it('gradients match central differences', () => checkGrad(f, [LC, [-1.2, -0.3, -2.5], [0.75]], [0, 1, 2]));
});

describe('simpoLoss', () => {
  const f = (o: Parameters<typeof simpoLoss>[1]) => ([a, b]: tf.Tensor1D[]) => simpoLoss({ chosenMeanLogps: a!, rejectedMeanLogps: b! }, o);
  it('equals −logσ(β(lc − lr) − γ) (ε = 0) and the smoothed form', () => {
    expect(run(f({}), [LC, LR]).loss).toBeCloseTo(mean(LC.map((c, i) => -ls(2 * (c - LR[i]!) - 0.5))), 5);
    const z = LC.map((c, i) => 1.5 * (c - LR[i]! - 0.3 / 1.5));
    expect(run(f({ beta: 1.5, gamma: 0.3, labelSmoothing: 0.1 }), [LC, LR]).loss).toBeCloseTo(mean(z.map((v) => -0.9 * ls(v) - 0.1 * ls(-v))), 5);
    expect(run(f({}), [LC, LR]).m['rewards/margins']).toBeCloseTo(2 * mean(LC.map((c, i) => c - LR[i]!)), 5);
  });
  it('gradients match central differences', () => checkGrad(f({ beta: 2, gamma: 0.5, labelSmoothing: 0.1 }), [LC, LR], [0, 1]));
});

describe('ktoLoss', () => {
  const f = (o: Parameters<typeof ktoLoss>[1] = {}) => ([pc, pr, rc, rr, pk, rk]: tf.Tensor1D[]) => ktoLoss({ policyChosen: pc!, policyRejected: pr!, refChosen: rc!, refRejected: rr!, policyKL: pk!, refKL: rk! }, o);
  const PK = [-9, -12, -7.5, -11];
  const RK = [-9.5, -12.2, -8, -10.6];
  it('equals the hand-computed loss with the clamped, detached KL; unequal sides', () => {
    const kl = Math.max(0, mean(PK.map((p, i) => p - RK[i]!)));
    const chosen = [PC[0]! - RC[0]!, PC[1]! - RC[1]!].map((r) => 1.5 * (1 - sig(0.1 * (r - kl))));
    const rejected = [PR[2]! - RR[2]!].map((r) => 0.5 * (1 - sig(0.1 * (kl - r))));
    const { loss, m } = run(f({ desirableWeight: 1.5, undesirableWeight: 0.5 }), [PC.slice(0, 2), PR.slice(2), RC.slice(0, 2), RR.slice(2), PK, RK]);
    expect(loss).toBeCloseTo(mean([...chosen, ...rejected]), 5);
    expect(m.kl).toBeCloseTo(kl, 5);
    expect(m['rewards/chosen']).toBeCloseTo(0.1 * mean([PC[0]! - RC[0]!, PC[1]! - RC[1]!]), 5);
    expect(m['count/chosen']).toBe(2);
    expect(m['count/rejected']).toBe(1);
  });
  it('a side with no rows: loss over the other side, its metrics absent; negative KL clamps to 0', () => {
    const { loss, m } = run(f(), [PC, [], RC, [], [-10], [-9]]);
    expect(m.kl).toBe(0);
    expect(loss).toBeCloseTo(mean(PC.map((p, i) => 1 - sig(0.1 * (p - RC[i]!)))), 5);
    expect(m['rewards/rejected']).toBeUndefined();
  });
  it('gradients match central differences (none through the KL term)', () => checkGrad(f({ beta: 0.5 }), [PC.slice(0, 2), PR.slice(1), RC.slice(0, 2), RR.slice(1), PK, RK], [0, 1, 4]));
});

describe('rewardLoss', () => {
  const f = (coef?: number) => ([c, r, mg]: tf.Tensor1D[]) => rewardLoss({ chosen: c!, rejected: r!, ...(mg ? { margin: mg } : {}) }, coef === undefined ? {} : { centerRewardsCoefficient: coef });
  const C = [1.2, -0.3, 0.4];
  const R = [0.2, 0.5, -1.0];
  const M = [0.5, 0, 1];
  it('equals −logσ(rc − rr − margin) + coef·mean((rc + rr)²)', () => {
    const { loss, m } = run(f(0.01), [C, R, M]);
    expect(loss).toBeCloseTo(mean(C.map((c, i) => -ls(c - R[i]! - M[i]!))) + 0.01 * mean(C.map((c, i) => (c + R[i]!) ** 2)), 5);
    expect(m.accuracy).toBeCloseTo(2 / 3, 6);
    expect(m['rewards/margins']).toBeCloseTo(mean(C.map((c, i) => c - R[i]!)), 5);
    expect(m.min_reward).toBeCloseTo(-1, 6);
    expect(run(f(), [C, R]).loss).toBeCloseTo(mean(C.map((c, i) => -ls(c - R[i]!))), 5);
  });
  it('gradients match central differences', () => checkGrad(f(0.1), [C, R, M], [0, 1]));
});

describe('classification and regression', () => {
  it('cross-entropy, accuracy and macro F1 as worked out by hand', () => {
    const logits = [[2, 0.5, -1], [0.1, 0.3, 0.2], [1, 1, 3], [0, 2, 1]];
    const labels = [0, 1, 2, 0];
    const { loss, m } = tf.tidy(() => {
      const o = classificationLoss(tf.tensor2d(logits), tf.tensor1d(labels, 'int32'));
      return { loss: val(o.loss), m: { accuracy: val(o.metrics.accuracy!), f1: val(o.metrics.f1!) } };
    });
    const ce = logits.map((row, i) => Math.log(row.reduce((s, x) => s + Math.exp(x), 0)) - row[labels[i]!]!);
    expect(loss).toBeCloseTo(mean(ce), 5);
    expect(m.accuracy).toBe(0.75); // preds 0, 1, 2, 1
    // class 0: tp 1 fn 1 → 2/3; class 1: tp 1 fp 1 → 2/3; class 2: tp 1 → 1
    expect(m.f1).toBeCloseTo((2 / 3 + 2 / 3 + 1) / 3, 6);
    expect(accuracyAndMacroF1([0, 0], [1, 1]).f1).toBe(0);
  });
  it('regression: MSE; gradient 2(p − t)/B', () => {
    const g = tf.tidy(() => Array.from(tf.grad((p: tf.Tensor) => regressionLoss(p as tf.Tensor1D, t1([1, 2])).loss)(t1([1.5, 1])).dataSync()));
    expect(g[0]).toBeCloseTo(0.5, 5);
    expect(g[1]).toBeCloseTo(-1, 5);
    expect(run(([p, t]) => regressionLoss(p!, t!), [[1.5, 1], [1, 2]]).m.mse).toBeCloseTo(0.625, 6);
  });
  it('classification gradient matches central differences on the logits', () => {
    const before = tf.memory().numTensors;
    const L = [[0.3, -0.2, 0.9], [1.1, 0.4, -0.5]];
    const y = [2, 1];
    const lossAt = (l: number[][]) => tf.tidy(() => val(classificationLoss(tf.tensor2d(l), tf.tensor1d(y, 'int32')).loss));
    const g = tf.tidy(() => Array.from(tf.grad((x: tf.Tensor) => classificationLoss(x as tf.Tensor2D, tf.tensor1d(y, 'int32')).loss)(tf.tensor2d(L)).dataSync()));
    L.flat().forEach((_, k) => {
      const bump = (d: number) => L.map((r, i) => r.map((v, j) => (i * 3 + j === k ? v + d : v)));
      expect(Math.abs(g[k]! - (lossAt(bump(1e-2)) - lossAt(bump(-1e-2))) / 2e-2)).toBeLessThan(2e-3);
    });
    expect(tf.memory().numTensors).toBe(before);
  });
});
