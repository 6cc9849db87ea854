// A minimal nanoGPT-style model (bias=False, tied head) written with @llm/tensor-gpu ops, for the
// tensor benchmark only (the real model is @llm/transformer). Two flavours share all code but
// attention and the loss:
//   'stock'      — what a tfjs user writes: matMul + mask + softmax, one-hot softmaxCrossEntropy
//   'tensor-gpu' — causalSelfAttention and crossEntropy (fused, custom gradients)
// Dimension legend: B batch, T time, C width, H heads, D head dim, V vocab.
import { rng } from '@llm/kit';
import { tf, causalSelfAttention, crossEntropy, layerNorm, gelu } from '@llm/tensor-gpu';

/** Seeded normal init (Box–Muller over the kit's rng). */
function randn(n, seed, std) {
  const r = rng(seed);
  const u = () => r() + 2 ** -32; // in (0, 1]: log(u) stays finite
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = std * Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  return out;
}

export function initWeights(cfg, seed = 1) {
  const { nLayer: L, nEmbd: C, vocab: V, block: T } = cfg;
  const w = {};
  let s = seed;
  const p = (name, shape, std) => (w[name] = tf.variable(tf.tensor(randn(shape.reduce((a, b) => a * b), s++, std), shape), true, name));
  const ones = (name, n) => (w[name] = tf.variable(tf.ones([n]), true, name));
  p('wte', [V, C], 0.02);
  p('wpe', [T, C], 0.02);
  for (let l = 0; l < L; l++) {
    ones(`h${l}.ln1`, C);
    p(`h${l}.attn`, [C, 3 * C], 0.02);
    p(`h${l}.proj`, [C, C], 0.02 / Math.sqrt(2 * L));
    ones(`h${l}.ln2`, C);
    p(`h${l}.fc`, [C, 4 * C], 0.02);
    p(`h${l}.fcproj`, [4 * C, C], 0.02 / Math.sqrt(2 * L));
  }
  ones('lnf', C);
  return w;
}

function stockAttention(q, k, v) {
  const [, , T, D] = q.shape;
  const s = tf.matMul(q, k, false, true).div(Math.sqrt(D)); // [B, H, T, T]
  const mask = tf.linalg.bandPart(tf.ones([T, T]), -1, 0); // [T, T] lower triangle
  const p = tf.softmax(tf.where(mask.cast('bool'), s, tf.fill(s.shape, -1e9)));
  return tf.matMul(p, v); // [B, H, T, D]
}

function stockLoss(logits, targets, V) {
  return tf.losses.softmaxCrossEntropy(tf.oneHot(targets.reshape([-1]), V), logits); // one-hot [B·T, V]
}

/** Mean next-token loss of ids [B, T] against targets [B, T]. */
export function lossFn(w, cfg, ids, targets, flavour) {
  const { nLayer: L, nHead: H, nEmbd: C, vocab: V } = cfg;
  const [B, T] = ids.shape;
  const D = C / H;
  const heads = (x) => x.reshape([B, T, H, D]).transpose([0, 2, 1, 3]); // [B, H, T, D]
  let x = tf.gather(w.wte, ids).add(w.wpe.slice([0, 0], [T, C])).reshape([B * T, C]); // [B·T, C]
  for (let l = 0; l < L; l++) {
    const qkv = tf.matMul(layerNorm(x, w[`h${l}.ln1`], null), w[`h${l}.attn`]); // [B·T, 3C]
    const [q, k, v] = tf.split(qkv, 3, 1).map(heads); // [B, H, T, D] each
    const att = flavour === 'stock' ? stockAttention(q, k, v) : causalSelfAttention(q, k, v);
    x = x.add(tf.matMul(att.transpose([0, 2, 1, 3]).reshape([B * T, C]), w[`h${l}.proj`])); // [B·T, C]
    const h = gelu(tf.matMul(layerNorm(x, w[`h${l}.ln2`], null), w[`h${l}.fc`]), 'tanh'); // [B·T, 4C]
    x = x.add(tf.matMul(h, w[`h${l}.fcproj`])); // [B·T, C]
  }
  const logits = tf.matMul(layerNorm(x, w.lnf, null), w.wte, false, true); // [B·T, V]
  return flavour === 'stock' ? stockLoss(logits, targets, V) : crossEntropy(logits, targets.reshape([-1]));
}

/** One AdamW step (nanoGPT's settings) over all weights; returns the loss. */
export function makeTrainer(w, cfg, flavour, { lr = 1e-3, beta1 = 0.9, beta2 = 0.99, wd = 0.1, clip = 1.0 } = {}) {
  const names = Object.keys(w);
  const m = Object.fromEntries(names.map((n) => [n, tf.variable(tf.zerosLike(w[n]), false)]));
  const v = Object.fromEntries(names.map((n) => [n, tf.variable(tf.zerosLike(w[n]), false)]));
  let t = 0;
  return (ids, targets) => {
    t++;
    const { value, grads } = tf.variableGrads(() => lossFn(w, cfg, ids, targets, flavour), names.map((n) => w[n]));
    tf.tidy(() => {
      const norm = tf.sqrt(tf.addN(names.map((n) => grads[n].square().sum())));
      const scale = tf.minimum(tf.scalar(1), tf.scalar(clip).div(norm.add(1e-6)));
      for (const n of names) {
        const g = grads[n].mul(scale);
        m[n].assign(m[n].mul(beta1).add(g.mul(1 - beta1)));
        v[n].assign(v[n].mul(beta2).add(g.square().mul(1 - beta2)));
        const mh = m[n].div(1 - beta1 ** t);
        const vh = v[n].div(1 - beta2 ** t);
        const decay = w[n].rank >= 2 ? w[n].mul(1 - lr * wd) : w[n];
        w[n].assign(decay.sub(mh.div(vh.sqrt().add(1e-8)).mul(lr)));
      }
    });
    const loss = value.dataSync()[0];
    tf.dispose([value, ...Object.values(grads)]);
    return loss;
  };
}
