// AdamW against torch.optim.AdamW (fixtures/make_adamw_fixture.py), the schedule against nanoGPT's
// formula evaluated by hand, and the weight-decay rule.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { tf, initBackend } from '@llm/tensor-gpu';
import { TransformerLM } from '@llm/transformer';
import { AdamW } from './adamw.js';
import { cosineLr } from './schedule.js';

beforeAll(() => initBackend({ backend: 'wasm', log: false }).then(() => undefined));

interface Fixture {
  beta1: number; beta2: number; eps: number; weight_decay: number; clip: number;
  init: { w: number[]; b: number[] };
  steps: Array<{ lr: number; grad_w: number[]; grad_b: number[]; grad_norm: number; w: number[]; b: number[] }>;
}
const fx = JSON.parse(readFileSync(new URL('../../fixtures/adamw.json', import.meta.url), 'utf8')) as Fixture;
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Math.max(...Array.from(a, (x, i) => Math.abs(x - b[i]!)));

describe('AdamW', () => {
  it('follows torch.optim.AdamW (decay on the 2-D weight only, clipping by global norm) for 4 steps', () => {
    const w = tf.variable(tf.tensor2d(fx.init.w, [3, 4]));
    const b = tf.variable(tf.tensor1d(fx.init.b));
    const opt = new AdamW([['layer.weight', w], ['layer.bias', b]], { beta1: fx.beta1, beta2: fx.beta2, eps: fx.eps, weightDecay: fx.weight_decay });
    expect(opt.decayed).toEqual(['layer.weight']);
    for (const s of fx.steps) {
      const gw = tf.tensor2d(s.grad_w, [3, 4]);
      const gb = tf.tensor1d(s.grad_b);
      const norm = Math.hypot(...s.grad_w, ...s.grad_b);
      expect(Math.abs(norm - s.grad_norm)).toBeLessThan(1e-5);
      const scale = norm > fx.clip ? fx.clip / (norm + 1e-6) : 1;
      const grads = new Map([['layer.weight', gw.mul(scale)], ['layer.bias', gb.mul(scale)]]);
      opt.step(grads, s.lr);
      expect(maxDiff(w.dataSync(), s.w)).toBeLessThan(2e-6);
      expect(maxDiff(b.dataSync(), s.b)).toBeLessThan(2e-6);
      tf.dispose([gw, gb, ...grads.values()]);
    }
    opt.dispose();
    tf.dispose([w, b]);
  });

  it('decay rules: linear-2d spares embeddings, norms and biases; all-2d is nanoGPT (embeddings decay)', () => {
    const m = new TransformerLM({ family: 'gpt2', vocabSize: 10, nLayer: 1, nHead: 1, nEmbd: 4, blockSize: 4 });
    const lin = new AdamW(m.trainableParameters(), { decay: 'linear-2d' });
    expect(lin.decayed).toEqual(['transformer.h.0.attn.c_attn.weight', 'transformer.h.0.attn.c_proj.weight', 'transformer.h.0.mlp.c_fc.weight', 'transformer.h.0.mlp.c_proj.weight']);
    const all = new AdamW(m.trainableParameters(), { decay: 'all-2d' });
    expect(all.decayed).toEqual(['transformer.wte.weight', 'transformer.wpe.weight', ...lin.decayed]);
    expect(all.notDecayed.every((n) => /\.(bias|weight)$/.test(n) && (n.includes('ln_') || n.endsWith('.bias')))).toBe(true);
    [lin, all].forEach((o) => o.dispose());
    m.dispose();
  });

  it('state round trip: a restored optimizer takes the same next step', () => {
    const mk = () => tf.variable(tf.tensor2d([[1, -2], [3, 0.5]]));
    const [p1, p2] = [mk(), mk()];
    const o1 = new AdamW([['w', p1]], { weightDecay: 0.1 });
    const g = new Map([['w', tf.tensor2d([[0.1, -0.3], [0.2, 0.4]])]]);
    o1.step(g, 0.01);
    o1.step(g, 0.01);
    p2.assign(p1);
    const o2 = new AdamW([['w', p2]], { weightDecay: 0.1 });
    o2.loadState(o1.stateTensors(), o1.stepCount);
    o1.step(g, 0.01);
    o2.step(g, 0.01);
    expect(maxDiff(p1.dataSync(), p2.dataSync())).toBe(0);
    expect(() => o2.loadState(new Map(), 1)).toThrow(/lacks "w\.exp_avg"/);
    [o1, o2].forEach((o) => o.dispose());
    tf.dispose([p1, p2, ...g.values()]);
  });
});

describe('cosineLr', () => {
  const s = { lr: 1e-3, minLr: 1e-4, warmupIters: 100, decayIters: 2000 };
  it('matches nanoGPT get_lr at hand-computed points', () => {
    expect(cosineLr(0, s)).toBeCloseTo(1e-3 / 101, 12);
    expect(cosineLr(99, s)).toBeCloseTo(1e-3 * 100 / 101, 12);
    expect(cosineLr(100, s)).toBeCloseTo(1e-3, 12);
    expect(cosineLr(1050, s)).toBeCloseTo(1e-4 + 0.5 * 0.9e-3, 12); // halfway: cos(π/2) = 0
    expect(cosineLr(2000, s)).toBeCloseTo(1e-4, 12);
    expect(cosineLr(5000, s)).toBe(1e-4);
    expect(cosineLr(1500, { ...s, decay: false })).toBe(1e-3);
  });
});
