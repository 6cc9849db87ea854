// The arithmetic of PPO and GRPO against hand-computed numbers (worked out in the comments) and
// numerical gradients; formulas as TRL's PPOTrainer.train / GRPOTrainer._compute_loss (see core.ts).
import { beforeAll, describe, expect, it } from 'vitest';
import { tf, initBackend } from '@llm/tensor-gpu';
import { AlignError } from '../errors.js';
import { AdaptiveKLController, FixedKLController, entropyFromLogits, gae, groupAdvantages, grpoLoss, k3Tensor, klEstimate, maskedWhiten, ppoPolicyLoss, ppoValueLoss, type GrpoLossOptions } from './core.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm', log: false });
});

const close = (got: ArrayLike<number>, want: number[], tol = 1e-5) => {
  expect(got.length).toBe(want.length);
  want.forEach((w, i) => expect(Math.abs(got[i]! - w), `index ${i}: ${got[i]} vs ${w}`).toBeLessThan(tol));
};
const val = (t: tf.Tensor) => t.dataSync()[0]!;

/** Central differences of f at x (a flat array with shape), against tf.grad. */
function gradCheck(f: (x: tf.Tensor) => tf.Scalar, x0: number[], shape: number[], tol = 2e-3): void {
  const analytic = tf.tidy(() => Array.from(tf.grad(f)(tf.tensor(x0, shape)).dataSync()));
  const h = 1e-2;
  x0.forEach((_, i) => {
    const at = (d: number) => tf.tidy(() => val(f(tf.tensor(x0.map((x, j) => (j === i ? x + d : x)), shape))));
    const numeric = (at(h) - at(-h)) / (2 * h);
    expect(Math.abs(numeric - analytic[i]!), `∂/∂x${i}: numeric ${numeric}, analytic ${analytic[i]}`).toBeLessThan(tol);
  });
}

describe('KL estimators', () => {
  it('k1 and k3 as TRL (logr = ref − logp; k1 = −logr; k3 = e^logr − 1 − logr)', () => {
    // logp −1, ref −1.5: logr = −0.5 → k1 0.5, k3 e^−0.5 − 1 + 0.5 = 0.1065307
    expect(klEstimate(-1, -1.5, 'k1')).toBeCloseTo(0.5, 6);
    expect(klEstimate(-1, -1.5, 'k3')).toBeCloseTo(0.10653066, 6);
    // logp −2, ref −1: logr = 1 → k1 −1 (k1 can be negative), k3 e − 2 = 0.7182818
    expect(klEstimate(-2, -1, 'k1')).toBeCloseTo(-1, 6);
    expect(klEstimate(-2, -1, 'k3')).toBeCloseTo(0.71828183, 6);
    expect(klEstimate(-0.7, -0.7, 'k3')).toBe(0);
  });
  it('k3 on tensors matches the host formula, and its gradient the numerical one', () => {
    const lp = [-1, -2, -0.3];
    const ref = [-1.5, -1, -0.3];
    close(tf.tidy(() => k3Tensor(tf.tensor1d(lp), tf.tensor1d(ref)).dataSync()), [0.10653066, 0.71828183, 0]);
    // ∂k3/∂logp = 1 − e^(ref − logp)
    gradCheck((x) => k3Tensor(x, tf.tensor1d(ref)).sum() as tf.Scalar, lp, [3]);
    close(tf.tidy(() => tf.grad((x: tf.Tensor) => k3Tensor(x, tf.tensor1d(ref)).sum())(tf.tensor1d(lp)).dataSync()), [1 - Math.exp(-0.5), 1 - Math.E, 0]);
  });
});

describe('GAE and whitening', () => {
  it('GAE(γ = 1, λ = 0.95) by hand, a shorter row masked', () => {
    // row 0: r = [0.1, −0.2, 1.0], V = [0.5, 0.4, 0.3]
    //   t2: δ = 1.0 − 0.3 = 0.7, A = 0.7; t1: δ = −0.2 + 0.3 − 0.4 = −0.3, A = −0.3 + 0.95·0.7 = 0.365
    //   t0: δ = 0.1 + 0.4 − 0.5 = 0, A = 0.95·0.365 = 0.34675; returns = A + V = [0.84675, 0.765, 1.0]
    // row 1 (length 2; position 2 is padding with junk): r = [0.5, 1], V = [0.2, 0.1]
    //   t1: δ = 1 − 0.1 = 0.9; t0: δ = 0.5 + 0.1 − 0.2 = 0.4, A = 0.4 + 0.95·0.9 = 1.255
    const { advantages, returns } = gae([0.1, -0.2, 1.0, 0.5, 1, 7], [0.5, 0.4, 0.3, 0.2, 0.1, 9], [1, 1, 1, 1, 1, 0], 2, 3, { gamma: 1, lam: 0.95 });
    close(advantages, [0.34675, 0.365, 0.7, 1.255, 0.9, 0]);
    close(returns, [0.84675, 0.765, 1.0, 1.455, 1.0, 0]);
  });
  it('GAE(γ = 0.5, λ = 0.5) by hand', () => {
    // t2: A = 0.7; t1: δ = −0.2 + 0.5·0.3 − 0.4 = −0.45, A = −0.45 + 0.25·0.7 = −0.275
    // t0: δ = 0.1 + 0.5·0.4 − 0.5 = −0.2, A = −0.2 + 0.25·(−0.275) = −0.26875
    close(gae([0.1, -0.2, 1.0], [0.5, 0.4, 0.3], [1, 1, 1], 1, 3, { gamma: 0.5, lam: 0.5 }).advantages, [-0.26875, -0.275, 0.7]);
  });
  it('masked whitening as TRL masked_whiten (unbiased variance, +1e-8)', () => {
    // [1, 2, 3, 4]: mean 2.5, var (2.25 + 0.25 + 0.25 + 2.25)/3 = 5/3 → (x − 2.5)/1.2909944
    close(maskedWhiten([1, 2, 3, 4], [1, 1, 1, 1]), [-1.1618950, -0.3872983, 0.3872983, 1.1618950]);
    // masked 4th: mean 2, var (1 + 0 + 1)/2 = 1 → [−1, 0, 1], masked entry 0
    close(maskedWhiten([1, 2, 3, 100], [1, 1, 1, 0]), [-1, 0, 1, 0]);
    // shift_mean = False adds the mean back
    close(maskedWhiten([1, 2, 3, 100], [1, 1, 1, 0], false), [1, 2, 3, 0]);
    expect(() => maskedWhiten([1, 2], [1, 0])).toThrow(AlignError);
  });
});

describe('KL controllers', () => {
  it('adaptive: β ← β·(1 + clip(KL/target − 1, ±0.2)·n/horizon) (Ziegler et al.)', () => {
    const c = new AdaptiveKLController(0.2, 6, 10000);
    c.update(9, 8); // e = clip(0.5) = 0.2 → ×(1 + 0.2·8/10000) = ×1.00016
    expect(c.value).toBeCloseTo(0.2 * 1.00016, 12);
    c.update(3, 8); // e = clip(−0.5) = −0.2 → ×0.99984
    expect(c.value).toBeCloseTo(0.2 * 1.00016 * 0.99984, 12);
    c.update(6.6, 100); // e = 0.1 → ×1.001
    expect(c.value).toBeCloseTo(0.2 * 1.00016 * 0.99984 * 1.001, 12);
    const f = new FixedKLController(0.05);
    f.update();
    expect(f.value).toBe(0.05);
    expect(() => new AdaptiveKLController(0.1, 0, 10)).toThrow(AlignError);
  });
});

describe('PPO losses', () => {
  it('clipped policy loss, clipfrac and approxkl by hand', () => {
    // token 0: ρ = e^0.1 = 1.1051709 (inside [0.8, 1.2]), A = 1 → max(−1.1051709, −1.1051709) = −1.1051709
    // token 1: ρ = e^−0.5 = 0.6065307, A = −2 → max(1.2130613, 2·0.8 = 1.6) = 1.6 (clipped)
    // loss = (−1.1051709 + 1.6)/2 = 0.2474146; clipfrac 0.5; approxkl = ½·(0.01 + 0.25)/2 = 0.065
    const r = tf.tidy(() => {
      const l = ppoPolicyLoss(tf.tensor2d([[-1, -2]]), tf.tensor2d([[-1.1, -1.5]]), tf.tensor2d([[1, -2]]), tf.tensor2d([[1, 1]]), 0.2);
      return [val(l.loss), val(l.clipfrac), val(l.approxkl)];
    });
    close(r, [0.24741455, 0.5, 0.065]);
    // a masked token does not count
    const m = tf.tidy(() => val(ppoPolicyLoss(tf.tensor2d([[-1, -2]]), tf.tensor2d([[-1.1, -1.5]]), tf.tensor2d([[1, -2]]), tf.tensor2d([[1, 0]]), 0.2).loss));
    expect(m).toBeCloseTo(-1.1051709, 5);
  });
  it('policy loss gradient = numerical; the clipped token gets none', () => {
    const old = [-1.1, -1.5, -0.7, -2.0];
    const f = (x: tf.Tensor) => ppoPolicyLoss(x, tf.tensor2d([old], [1, 4]), tf.tensor2d([[1, -2, 0.5, -1]]), tf.tensor2d([[1, 1, 1, 1]]), 0.2).loss;
    gradCheck(f, [-1, -2, -0.75, -2.05], [1, 4]);
    const g = tf.tidy(() => Array.from(tf.grad(f)(tf.tensor2d([[-1, -2, -0.75, -2.05]])).dataSync()));
    expect(g[0]).toBeCloseTo(-Math.exp(0.1) / 4, 5); // ∂(−A·ρ)/∂logp / 4 tokens
    expect(g[1]).toBe(0);
  });
  it('clipped value loss by hand and its gradient', () => {
    // token 0: V 0.5, V_old 0.3, G 1: clip(0.5, 0.1, 0.5) = 0.5 → both (0.5)² = 0.25
    // token 1: V 1.0, V_old 0.1, G 2: clipped 0.3 → (1 − 2)² = 1 vs (0.3 − 2)² = 2.89 → 2.89 (clipfrac)
    // loss = ½·(0.25 + 2.89)/2 = 0.785
    const r = tf.tidy(() => {
      const l = ppoValueLoss(tf.tensor2d([[0.5, 1.0]]), tf.tensor2d([[0.3, 0.1]]), tf.tensor2d([[1, 2]]), tf.tensor2d([[1, 1]]), 0.2);
      return [val(l.loss), val(l.clipfrac)];
    });
    close(r, [0.785, 0.5]);
    gradCheck((x) => ppoValueLoss(x, tf.tensor2d([[0.3, 0.1, 0.0]]), tf.tensor2d([[1, 2, -1]]), tf.tensor2d([[1, 1, 1]]), 0.2).loss, [0.45, 1.0, -0.1], [1, 3]);
  });
  it('entropy from logits', () => {
    // uniform over 4 → ln 4; a peaked row by hand
    const p = [0.7, 0.2, 0.1];
    const h = -p.reduce((a, x) => a + x * Math.log(x), 0);
    close(tf.tidy(() => entropyFromLogits(tf.tensor2d([[0, 0, 0, 0], [Math.log(0.7), Math.log(0.2), Math.log(0.1), -1e9]])).dataSync()), [Math.log(4), h], 1e-5);
  });
});

describe('GRPO', () => {
  it('group-normalized advantages by hand: (r − mean)/(std + 1e-4), std Bessel-corrected', () => {
    // group 1 [1, 0, 0, 0]: mean 0.25, std √((0.5625 + 3·0.0625)/3) = 0.5 → 0.75/0.5001, −0.25/0.5001
    // group 2 [2, 2, 2, 2]: std 0 → advantages 0
    const { advantages, std } = groupAdvantages([1, 0, 0, 0, 2, 2, 2, 2], 4);
    close(advantages, [0.75 / 0.5001, -0.25 / 0.5001, -0.25 / 0.5001, -0.25 / 0.5001, 0, 0, 0, 0]);
    close(std, [0.5, 0.5, 0.5, 0.5, 0, 0, 0, 0]);
    close(groupAdvantages([1, 3], 2, 'none').advantages, [-1, 1]);
    // batch: std of all four = √((2.25 + 0.25 + 0.25 + 2.25)/3) = 1.2909944
    close(groupAdvantages([1, 2, 3, 4], 2, 'batch').advantages, [-0.5 / 1.2910944, 0.5 / 1.2910944, -0.5 / 1.2910944, 0.5 / 1.2910944]);
    expect(() => groupAdvantages([1, 2, 3], 2)).toThrow(AlignError);
  });

  // Two rows, R = 2, row 1's second token masked; ε 0.2, β 0.1, A = [1, −1]
  //   row 0 t0: ρ = 1 → −1; k3(ref −1.2, logp −1) = e^−0.2 + 0.2 − 1 = 0.0187308 → −1 + 0.0018731 = −0.9981269
  //   row 0 t1: ρ = e^−0.5 = 0.6065307 < clip 0.8, A > 0 → −min(0.6065, 0.8) = −0.6065307; k3 = 0
  //   row 1 t0: ρ = e^0.3 = 1.3498588, A = −1 → −min(−1.3498588, −1.2) = 1.3498588; k3(−0.5, −1) = e^0.5 − 1.5 = 0.1487213 → 1.3647309
  //   dapo = Σ/3 = −0.0799755; grpo = mean(−0.8023288, 1.3647309) = 0.2812011; dr_grpo(4) = Σ/8 = −0.0299908; kl = 0.0558173
  const logps = [[-1, -2], [-1, -3]];
  const old = [[-1, -1.5], [-1.3, -3]];
  const ref = [[-1.2, -2], [-0.5, 0]];
  const run = (o: Partial<GrpoLossOptions>) =>
    tf.tidy(() => {
      const l = grpoLoss(tf.tensor2d(logps), tf.tensor2d(old), tf.tensor2d(ref), tf.tensor1d([1, -1]), tf.tensor2d([[1, 1], [1, 0]]), { epsilon: 0.2, epsilonHigh: 0.2, beta: 0.1, lossType: 'dapo', ...o });
      return [val(l.loss), val(l.kl), val(l.clipRegion)];
    });
  it('loss types by hand (dapo default, grpo, dr_grpo, bnpo)', () => {
    close(run({ lossType: 'dapo' }), [-0.0799755, 0.0558173, 0], 1e-5);
    close(run({ lossType: 'dapo', tokenNormalizer: 6 }).slice(0, 1), [-0.0399878], 1e-5);
    close(run({ lossType: 'grpo' }).slice(0, 1), [0.2812011], 1e-5);
    close(run({ lossType: 'dr_grpo', maxCompletionLength: 4 }).slice(0, 1), [-0.0299908], 1e-5);
    close(run({ lossType: 'bnpo' }).slice(0, 1), [-0.0799755], 1e-5);
    expect(() => run({ lossType: 'dr_grpo' })).toThrow(AlignError);
  });
  it('clip ratios: low when ρ < 1 − ε with A < 0, high when ρ > 1 + ε with A > 0', () => {
    const r = tf.tidy(() => {
      const l = grpoLoss(tf.tensor2d([[0, 0, 0, 0]]), tf.tensor2d([[0.5, -0.5, 0.5, -0.5]]), null, tf.tensor1d([1]), tf.tensor2d([[1, 1, 1, 1]]), { epsilon: 0.2, epsilonHigh: 0.28, beta: 0, lossType: 'dapo' });
      return [val(l.clipLow), val(l.clipHigh), val(l.clipRegion)];
    });
    // A = 1 > 0: ρ = e^0.5 = 1.65 > 1.28 on tokens 1 and 3 → high 0.5; low needs A < 0 → 0
    close(r, [0, 0.5, 0.5]);
  });
  it('GRPO loss gradients = numerical, for each loss type', () => {
    for (const lossType of ['dapo', 'grpo', 'dr_grpo', 'bnpo'] as const) {
      const f = (x: tf.Tensor) => grpoLoss(x as tf.Tensor2D, tf.tensor2d(old), tf.tensor2d(ref), tf.tensor1d([1, -1]), tf.tensor2d([[1, 1], [1, 0]]), { epsilon: 0.2, epsilonHigh: 0.2, beta: 0.1, lossType, maxCompletionLength: 4 }).loss;
      gradCheck(f, [-1.05, -1.6, -1.1, -3], [2, 2]);
    }
  });
});
