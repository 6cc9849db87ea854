// Shared pieces of the alignment benchmarks (benchmarks/align/*.mjs): a small generated character
// vocabulary, a seeded LCG, the "tag" corpus the preference and RL benchmarks pretrain on, a
// brief LM pretraining through @llm/train's train(), and continuation scoring by log-probs.
import { tf, IGNORE_INDEX } from '@llm/tensor-gpu';
import { TransformerLM } from '@llm/transformer';
import { SftSampler, train } from '@llm/train';

/** id 0 = pad, id 1 = end of text; then the characters. */
export const CHARS = ' abcdefghijklmnopqrstuvwxyz0123456789+=;:\n';
export const PAD = 0;
export const EOT = 1;
export const VOCAB_SIZE = CHARS.length + 2;
export const encode = (s) => Array.from(s, (c) => {
  const i = CHARS.indexOf(c);
  if (i < 0) throw new Error(`character ${JSON.stringify(c)} is not in the benchmark vocabulary`);
  return i + 2;
});
export const decode = (ids) => ids.map((i) => (i >= 2 ? CHARS[i - 2] : i === EOT ? '⏎' : '')).join('');

/** A seeded LCG in [0, 1) (Numerical Recipes constants). */
export function lcg(seed) {
  let x = seed >>> 0;
  return () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32; // Math.imul: a float product would lose the low bits
}
export function shuffle(xs, rnd) {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [xs[i], xs[j]] = [xs[j], xs[i]];
  }
  return xs;
}

/** GPT-2 shape shared by the benchmarks (2 layers, width 64, the generated vocabulary). */
export const MODEL = { family: 'gpt2', vocabSize: VOCAB_SIZE, nLayer: 2, nHead: 2, nEmbd: 64, blockSize: 64, bias: true, dropout: 0, seed: 1337 };

/**
 * The "tag" corpus the preference and RL benchmarks pretrain on: lines "www:ccc;" with www three
 * random letters and ccc, with equal probability, three random digits or three random letters of
 * a–j (ten symbols either way). The LM learns the format and that a completion is all digits or all
 * letters, each half the time, whatever the prompt. Rows pack `perRow` lines.
 */
export const LETTERS = 'abcdefghijklmnopqrstuvwxyz';
export const randWord = (rnd, n = 3, alphabet = LETTERS) => Array.from({ length: n }, () => alphabet[Math.floor(rnd() * alphabet.length)]).join('');
export const randDigits = (rnd, n = 3) => randWord(rnd, n, '0123456789');
export const randAj = (rnd, n = 3) => randWord(rnd, n, 'abcdefghij');
/** The hidden rule of the preference and RL tasks: a prompt word starting with a–m wants digits, n–z letters. */
export const wantsDigits = (word) => word[0] <= 'm';
export function tagCorpus(rows, perRow, seed) {
  const rnd = lcg(seed);
  return Array.from({ length: rows }, () => {
    let s = '';
    for (let k = 0; k < perRow; k++) s += `${randWord(rnd)}:${rnd() < 0.5 ? randDigits(rnd) : randAj(rnd)};`;
    return s;
  });
}

/** Brief LM pretraining on text rows (loss on every token), AdamW, cosine to lr/10. */
export async function pretrain(model, texts, { iters, batchSize = 16, lr = 3e-3, seed = 1, log = () => {} }) {
  const ex = texts.map((t) => {
    const ids = [EOT, ...encode(t)];
    return { ids, labels: ids.slice() };
  });
  const t0 = performance.now();
  let lastLoss = NaN;
  const losses = [];
  await train(
    model,
    { train: new SftSampler(ex, { batchSize, seed, padId: PAD, maxLength: model.config.blockSize }) },
    { maxIters: iters, lr, minLr: lr / 10, warmupIters: Math.max(1, Math.round(iters / 20)), weightDecay: 0, gradClip: 1, evalInterval: 0, evalTrain: false, logInterval: 1_000_000 },
    {
      onStep: (s) => {
        lastLoss = s.loss;
        losses.push(s.loss);
        if (s.step % 100 === 0) log(`  pretrain step ${s.step}: loss ${s.loss.toFixed(4)}`);
      },
    },
  );
  const tail = losses.slice(-20);
  return { iters, seconds: (performance.now() - t0) / 1000, lastLoss, tailLoss: tail.reduce((a, c) => a + c, 0) / tail.length };
}

/** Σ log p(cont | prefix) per row (rows of any lengths; one forward per distinct total length). */
export function scoreContinuations(model, rows) {
  const out = new Float64Array(rows.length);
  const byLen = new Map();
  rows.forEach((r, i) => {
    const L = r.prefix.length + r.cont.length;
    if (!byLen.has(L)) byLen.set(L, []);
    byLen.get(L).push(i);
  });
  for (const [L, idx] of byLen) {
    for (let s = 0; s < idx.length; s += 64) {
      const part = idx.slice(s, s + 64);
      const ids = part.map((i) => [...rows[i].prefix, ...rows[i].cont]);
      const lp = tf.tidy(() => tf.logSoftmax(model.forward(tf.tensor2d(ids, [ids.length, L], 'int32'))).arraySync());
      part.forEach((i, b) => {
        const P = rows[i].prefix.length;
        let sum = 0;
        for (let t = P; t < L; t++) sum += lp[b][t - 1][ids[b][t]];
        out[i] = sum;
      });
    }
  }
  return out;
}

export const newModel = (cfg = MODEL) => new TransformerLM(cfg);
export { IGNORE_INDEX };

export const fmt = (x, d = 3) => (x === null || x === undefined || Number.isNaN(x) ? '—' : Number(x).toFixed(d));
export const pct = (x) => (x === null || x === undefined ? '—' : `${(100 * x).toFixed(1)}%`);

/** A second model with the same weights (for a frozen reference or another method's start). */
export function cloneModel(src) {
  const m = new TransformerLM(src.config);
  const from = new Map(src.namedParameters().map(([n, v]) => [n, v]));
  for (const [n, v] of m.namedParameters()) v.assign(from.get(n));
  return m;
}

/**
 * The pretrained base, trained once and kept under the OS temp directory (keyed by corpus, shape and
 * iterations) so the benchmarks of one session share it; `--fresh-base` on a script's command line
 * retrains. Returns the model and the facts of its pretraining (with `reused: true` when loaded).
 */
export async function cachedBase(key, texts, opts) {
  const { tmpdir } = await import('node:os');
  const { existsSync, readFileSync, writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { loadModel } = await import('@llm/transformer');
  const dir = join(tmpdir(), `llm-align-base-${key}-${opts.iters}`);
  if (!process.argv.includes('--fresh-base') && existsSync(join(dir, 'align-base.json'))) {
    const facts = JSON.parse(readFileSync(join(dir, 'align-base.json'), 'utf8'));
    return { model: await loadModel(dir), facts: { ...facts, reused: true } };
  }
  const model = newModel(opts.config ?? MODEL);
  const facts = await pretrain(model, typeof texts === 'function' ? texts() : texts, opts);
  await model.save(dir);
  writeFileSync(join(dir, 'align-base.json'), JSON.stringify(facts) + '\n');
  return { model, facts: { ...facts, reused: false } };
}
