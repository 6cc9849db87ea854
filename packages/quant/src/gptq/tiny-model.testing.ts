// Test helper (not exported): a tiny GPT-2 trained for a few hundred steps on a seeded synthetic
// corpus, with a BPE tokenizer trained on the same text — "a trained-ish model" for GPTQ/AWQ tests.
import { tf, crossEntropy, initBackend, Rng } from '@llm/tensor-gpu';
import { Tokenizer, trainBpeSync } from '@llm/tokenizer-bpe';
import { TransformerLM, type ModelConfigInput } from '@llm/transformer';

const SUBJ = ['the cat', 'a dog', 'my friend', 'the old king', 'a small bird', 'the queen', 'our teacher', 'the river'];
const VERB = ['sees', 'likes', 'follows', 'finds', 'remembers', 'carries', 'watches', 'calls'];
const OBJ = ['the moon', 'a red apple', 'the green door', 'her brother', 'the tall tree', 'a quiet song', 'the city', 'his horse'];
const END = ['today.', 'at night.', 'again and again.', 'in the morning.', 'with care.', 'slowly.'];

/** Seeded sentences with structure (subject → verb → object → ending, with preferences). */
export function syntheticText(seed: number, sentences: number): string {
  const rng = new Rng(seed);
  const pick = <T>(a: readonly T[], bias: number) => a[Math.min(a.length - 1, Math.floor(rng.next() ** bias * a.length))]!;
  const out: string[] = [];
  for (let i = 0; i < sentences; i++) {
    const s = pick(SUBJ, 1);
    const si = SUBJ.indexOf(s);
    const v = VERB[(si + Math.floor(rng.next() * 3)) % VERB.length]!;
    const o = OBJ[(si * 3 + Math.floor(rng.next() * 2)) % OBJ.length]!;
    out.push(`${s} ${v} ${o} ${pick(END, 2)}`);
  }
  return out.join(' ');
}

export interface TinySetup {
  model: TransformerLM;
  tokenizer: Tokenizer;
  calibration: string[];
  heldOut: number[][];
  trainSeconds: number;
  finalLoss: number;
}

export async function trainTinyModel(opts: { steps?: number; nEmbd?: number; family?: 'gpt2' | 'llama' } = {}): Promise<TinySetup> {
  await initBackend({ backend: 'wasm', log: false });
  const text = syntheticText(1, 3000);
  const tokenizer = new Tokenizer(trainBpeSync(text, { vocabSize: 256 + 64 }));
  const ids = tokenizer.encode(text);
  const T = 32;
  const B = 8;
  const C = opts.nEmbd ?? 64;
  const cfg: ModelConfigInput = opts.family === 'llama'
    ? { family: 'llama', vocabSize: tokenizer.vocabSize, nLayer: 2, nHead: 4, nKvHead: 2, nEmbd: C, intermediateSize: 2 * C, blockSize: 64, seed: 7 }
    : { family: 'gpt2', vocabSize: tokenizer.vocabSize, nLayer: 2, nHead: 4, nEmbd: C, blockSize: 64, seed: 7 };
  const model = new TransformerLM(cfg);
  const opt = tf.train.adam(1e-2);
  const vars = model.trainableParameters().map(([, v]) => v);
  const rng = new Rng(3);
  const t0 = Date.now();
  let finalLoss = NaN;
  const steps = opts.steps ?? 250;
  for (let step = 0; step < steps; step++) {
    const x = new Int32Array(B * T);
    const y = new Int32Array(B * T);
    for (let b = 0; b < B; b++) {
      const o = Math.floor(rng.next() * (ids.length - T - 1));
      for (let t = 0; t < T; t++) {
        x[b * T + t] = ids[o + t]!;
        y[b * T + t] = ids[o + t + 1]!;
      }
    }
    const xt = tf.tensor2d(x, [B, T], 'int32');
    const yt = tf.tensor2d(y, [B, T], 'int32');
    const loss = opt.minimize(() => crossEntropy(model.forward(xt, { training: true }), yt) as tf.Scalar, true, vars)!;
    if (step === steps - 1) finalLoss = loss.dataSync()[0]!;
    tf.dispose([xt, yt, loss]);
  }
  opt.dispose();
  const calibration = syntheticText(2, 400).match(/[^.]+\./g)!.reduce<string[]>((acc, s, i) => {
    const k = Math.floor(i / 8);
    acc[k] = (acc[k] ?? '') + s;
    return acc;
  }, []);
  const held = tokenizer.encode(syntheticText(3, 300));
  const heldOut: number[][] = [];
  for (let i = 0; i + 64 <= held.length && heldOut.length < 16; i += 64) heldOut.push(held.slice(i, i + 64));
  return { model, tokenizer, calibration, heldOut, trainSeconds: (Date.now() - t0) / 1000, finalLoss };
}

/** A float copy of a model (its own weights). */
export function cloneModel(model: TransformerLM): TransformerLM {
  const w = new Map(model.namedParameters().map(([n, v]) => [n, v as tf.Tensor]));
  return new TransformerLM(model.config, w);
}

/** Perplexity over held-out sequences (next-token). */
export function perplexity(model: TransformerLM, seqs: number[][]): number {
  let nll = 0;
  let n = 0;
  for (const s of seqs) {
    const v = tf.tidy(() => {
      const x = tf.tensor2d(s.slice(0, -1), [1, s.length - 1], 'int32');
      const y = tf.tensor2d(s.slice(1), [1, s.length - 1], 'int32');
      return crossEntropy(model.forward(x), y, { reduction: 'sum' }).dataSync()[0]!;
    });
    nll += v;
    n += s.length - 1;
  }
  return Math.exp(nll / n);
}
