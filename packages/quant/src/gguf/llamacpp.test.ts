/**
 * llama.cpp itself (node-llama-cpp 3.21.1, installed on demand outside the workspace) loads our
 * F32 GGUF exports of a small random GPT-2 and a small random Llama (GQA) and must agree with our
 * model: next-token probabilities within 1e-4, the same greedy continuation, the same tokenization.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '@llm/tensor-gpu';
import { TransformerLM, type ModelConfigInput } from '@llm/transformer';
import { CL100K_PATTERN, GPT2_PATTERN, Tokenizer, trainBpeSync } from '@llm/tokenizer-bpe';
import { exportGguf, type GgufExportType } from './export.js';
import { importGguf } from './import.js';
import { loadNodeLlamaCpp, type NodeLlamaCpp } from '@llm/kit';

const CORPUS = [
  'The quick brown fox jumps over the lazy dog. ',
  "It's 2026 and we're testing 12345 tokens, aren't we? ",
  'Hello world!  Hello   again\n\nnew lines\tand tabs. ',
  'café naïve — unicode ünïcödé 東京 🙂 ',
]
  .join('')
  .repeat(8);
const SAMPLES = [
  'The quick brown fox',
  "we're  testing\n\n 123456 things",
  'café 東京 🙂!!',
  ' leading space and trailing  ',
  'a<|endoftext|>b',
  "I'LL DON'T you've they'd   \t\t tabs\r\nCRLF  \n   ",
  '1234567890 3.14159 -42 +7e10 ½ ٣٤',
  'ünïcödé naïve — “quotes” «guillemets» ∑∫√ 😀👍🏽 🇫🇷',
  '\n\n\n   \u00a0nbsp\u2003emspace end',
  CORPUS.slice(0, 400),
];

let lib: NodeLlamaCpp = null;
let skipReason = '';
let llama: NodeLlamaCpp;
const dir = mkdtempSync(join(tmpdir(), 'llm-quant-llamacpp-'));
const tok = new Tokenizer(trainBpeSync(CORPUS, { vocabSize: 300, specialTokens: ['<|endoftext|>'] }));

beforeAll(async () => {
  await initBackend();
  const r = await loadNodeLlamaCpp();
  if (!r.lib) {
    skipReason = r.reason ?? '';
    console.warn(`llama.cpp comparison skipped: ${r.reason}`);
    return;
  }
  lib = r.lib;
  llama = await lib.getLlama({ gpu: false, build: 'never', logLevel: 'error' });
}, 240_000);
afterAll(async () => {
  await llama?.dispose?.();
  rmSync(dir, { recursive: true, force: true });
});

function softmax(row: Float32Array): Float32Array {
  let m = -Infinity;
  for (const v of row) m = Math.max(m, v);
  let s = 0;
  const p = new Float32Array(row.length);
  for (let i = 0; i < row.length; i++) s += p[i] = Math.exp(row[i]! - m);
  for (let i = 0; i < row.length; i++) p[i]! /= s;
  return p;
}

/** Our next-token probabilities after `ids`. */
function ourProbs(model: TransformerLM, ids: number[]): Float32Array {
  const logits = tf.tidy(() =>
    model
      .forward(tf.tensor2d([ids], [1, ids.length], 'int32'))
      .slice([0, ids.length - 1, 0], [1, 1, -1])
      .reshape([-1])
  );
  const row = logits.dataSync() as Float32Array;
  logits.dispose();
  return softmax(row);
}

const argmax = (p: Float32Array) => p.reduce((bi, v, i, a) => (v > a[bi]! ? i : bi), 0);

async function compare(cfg: ModelConfigInput, label: string, initStd = cfg.family === 'gpt2' ? 0.1 : 0.25, tol = 1e-4) {
  if (!lib) return void console.warn(`skipped (${skipReason})`);
  const model = new TransformerLM({
    ...cfg,
    vocabSize: cfg.vocabSize,
    initStd,
    seed: 7,
  });
  const file = join(dir, `${label}.gguf`);
  await exportGguf({ model, tokenizer: tok }, file, { type: 'f32' });
  const t0 = performance.now();
  const lm = await llama.loadModel({ modelPath: file });
  const ctx = await lm.createContext({
    contextSize: 64,
    sequences: 2,
    threads: 1,
    flashAttention: false,
    experimentalKvCacheKeyType: 'F32',
    experimentalKvCacheValueType: 'F32',
  });
  const loadMs = performance.now() - t0;
  try {
    // tokenization
    for (const s of SAMPLES) expect(Array.from(lm.tokenize(s, true)), JSON.stringify(s)).toEqual(tok.encode(s, { allowedSpecial: 'all' }));
    // next-token probabilities at every position of a prompt, then greedy continuation
    const prompt = tok.encode('The quick brown fox jumps over the lazy dog, café 🙂');
    const theirs = await theirAllProbs(ctx, prompt);
    const ours = ourAllProbs(model, prompt);
    let maxDiff = 0;
    for (let t = 0; t < prompt.length; t++)
      for (let i = 0; i < ours[t]!.length; i++) maxDiff = Math.max(maxDiff, Math.abs(ours[t]![i]! - (theirs[t]!.get(i) ?? 0)));
    console.log(
      `${label}: load ${loadMs.toFixed(0)} ms, max |Δp| = ${maxDiff.toExponential(2)} over ${prompt.length} positions × ${
        ours[0]!.length
      } tokens, mean top p = ${(ours.reduce((a, p) => a + Math.max(...p), 0) / prompt.length).toFixed(3)}`
    );
    expect(maxDiff).toBeLessThanOrEqual(tol);
    // greedy continuation: llama.cpp's, token for token against ours
    const n = 16;
    const cont: number[] = [];
    const seq2 = ctx.getSequence();
    try {
      for await (const t of seq2.evaluate(prompt, { temperature: 0 })) {
        cont.push(t);
        if (cont.length >= n) break;
      }
    } finally {
      seq2.dispose();
    }
    const ids = [...prompt];
    for (let i = 0; i < n; i++) ids.push(argmax(ourProbs(model, ids)));
    const oursCont = ids.slice(prompt.length);
    // llama.cpp's evaluate stops at an end-of-generation token (<|endoftext|>) without yielding it.
    expect(cont).toEqual(oursCont.slice(0, cont.length));
    if (cont.length < n) expect(oursCont[cont.length]).toBe(tok.specialTokens.get('<|endoftext|>'));
  } finally {
    await ctx.dispose();
    await lm.dispose();
    model.dispose();
  }
}

/** Our next-token distributions at every position of `ids` (one forward). */
function ourAllProbs(model: TransformerLM, ids: number[]): Float32Array[] {
  const logits = tf.tidy(() => model.forward(tf.tensor2d([ids], [1, ids.length], 'int32')));
  const all = logits.dataSync() as Float32Array;
  logits.dispose();
  const V = all.length / ids.length;
  return ids.map((_, t) => softmax(all.subarray(t * V, (t + 1) * V)));
}

/** llama.cpp's next-token distributions at every position of `ids`. */
async function theirAllProbs(ctx: NodeLlamaCpp, ids: number[]): Promise<Array<Map<number, number>>> {
  const seq = ctx.getSequence();
  try {
    const res = await seq.controlledEvaluate(
      ids.map((t) => [
        t,
        {
          generateNext: {
            probabilities: true,
            options: { temperature: 1, topK: 0, topP: 1, minP: 0 },
          },
        },
      ])
    );
    return ids.map((_, i) => res[i].next.probabilities as Map<number, number>);
  } finally {
    seq.dispose();
  }
}

const HELD_OUT = "Hello again, the lazy fox isn't quick: 2026 tokens and café 🙂 over the brown dog.";

/** A quantized export run by llama.cpp vs our model with the same dequantized weights: mean KL and top-1 agreement. */
async function quantized(type: GgufExportType, family: 'gpt2' | 'llama' = 'llama') {
  const model = new TransformerLM(
    family === 'llama'
      ? { family, vocabSize: tok.vocabSize, nLayer: 2, nHead: 4, nKvHead: 2, nEmbd: 256, intermediateSize: 512, blockSize: 64, initStd: 0.3, seed: 11 }
      : { family, vocabSize: tok.vocabSize, nLayer: 2, nHead: 4, nEmbd: 256, blockSize: 64, initStd: 0.25, seed: 11 },
  );
  const file = join(dir, `${family}-${type}.gguf`);
  await exportGguf({ model, tokenizer: tok }, file, { type });
  const { model: deq } = await importGguf(file);
  const lm = await llama.loadModel({ modelPath: file });
  const ctx = await lm.createContext({
    contextSize: 64,
    sequences: 1,
    threads: 1,
    flashAttention: false,
    experimentalKvCacheKeyType: 'F32',
    experimentalKvCacheValueType: 'F32',
  });
  try {
    const ids = tok.encode(HELD_OUT);
    const ours = ourAllProbs(deq, ids);
    const f32 = ourAllProbs(model, ids);
    const theirs = await theirAllProbs(ctx, ids);
    let kl = 0;
    let klF32 = 0;
    let agree = 0;
    let top = 0;
    for (let t = 0; t < ids.length; t++) {
      const p = ours[t]!;
      const p0 = f32[t]!;
      const q = (i: number) => Math.max(theirs[t]!.get(i) ?? 0, 1e-30);
      for (let i = 0; i < p.length; i++) {
        if (p[i]! > 0) kl += p[i]! * Math.log(p[i]! / q(i));
        if (p0[i]! > 0) klF32 += p0[i]! * Math.log(p0[i]! / q(i));
      }
      let best = 0;
      let bestP = -1;
      for (const [i, v] of theirs[t]!) if (v > bestP) [best, bestP] = [i, v];
      if (best === argmax(p)) agree++;
      top += Math.max(...p);
    }
    const n = ids.length;
    return {
      kl: kl / n,
      klF32: klF32 / n,
      top1: agree / n,
      meanTop: top / n,
      n,
    };
  } finally {
    await ctx.dispose();
    await lm.dispose();
    model.dispose();
    deq.dispose();
  }
}

describe('llama.cpp runs our GGUF exports', () => {
  it('quantized exports (q8_0, q4_0, q4_1, q4_k_m): llama.cpp vs our dequantized model, KL and top-1 agreement', async () => {
    if (!lib) return void console.warn(`skipped (${skipReason})`);
    for (const [family, type] of [['llama', 'q8_0'], ['llama', 'q4_0'], ['llama', 'q4_1'], ['llama', 'q4_k_m'], ['gpt2', 'q8_0'], ['gpt2', 'q4_k_m']] as const) {
      const r = await quantized(type, family);
      console.log(
        `${family} ${type}: mean KL(our dequantized‖llama.cpp) = ${r.kl.toExponential(2)} (our f32 original: ${r.klF32.toExponential(2)}), top-1 agreement ${(
          100 * r.top1
        ).toFixed(1)}% over ${r.n} positions, mean top p ${r.meanTop.toFixed(2)}`
      );
      // llama.cpp also rounds activations to 8 bits for quantized matmuls, so exact agreement is not expected.
      // What must hold: llama.cpp's output is far closer to our dequantized weights than to the f32 original.
      expect(r.kl).toBeLessThan(0.1);
      // gpt2 adds llama.cpp's fp16 GELU table to the activation rounding, so its margin is smaller.
      expect(r.kl).toBeLessThan(family === 'llama' ? r.klF32 / 10 : r.klF32);
      expect(r.top1).toBeGreaterThanOrEqual(0.8);
    }
  }, 60_000);
  // llama.cpp's CPU GELU is a lookup table over fp16 inputs and outputs (ggml-cpu vec.h, GGML_GELU_FP16).
  // On a peakier GPT-2 llama.cpp's probabilities differ from ours by up to ~2.5e-4 (llama, with no GELU,
  // agrees to ~1e-6 at the same scale: consistent with the table being the cause), so that model gets
  // a 1e-3 bound; the 1e-4 bound holds above (initStd 0.1) and for llama.
  it('gpt2 (F32), peaky (initStd 0.25): probabilities within 1e-3 (fp16 GELU table), same greedy continuation', async () => {
    await compare({ family: 'gpt2', vocabSize: tok.vocabSize, nLayer: 2, nHead: 4, nEmbd: 64, blockSize: 64 }, 'gpt2-peaky', 0.25, 1e-3);
  }, 60_000);
  it('llama MoE (Mixtral layout, 4 experts top-2, F32): same probabilities, greedy continuation and tokenization', async () => {
    await compare(
      { family: 'llama', vocabSize: tok.vocabSize, nLayer: 2, nHead: 4, nKvHead: 2, nEmbd: 64, intermediateSize: 96, blockSize: 64, nExperts: 4, nExpertsPerTok: 2 },
      'llama-moe',
    );
  }, 60_000);
  it('tokenization with a 1500-token BPE (cl100k and GPT-2 patterns) equals ours on 60 generated texts', async () => {
    if (!lib) return void console.warn(`skipped (${skipReason})`);
    let x = 12345;
    const rnd = () => ((x = (x * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const words = ['the', 'and', 'tokenizer', 'llama', "don't", "I'm", 'ÆØÅ', '東京都', 'naïve', '42', '2026', '3.14', '🙂', '\n', '  ', '\t', 'CamelCase', 'snake_case', '(parens)', '—', 'ß', 'Ω'];
    const text = (n: number) => Array.from({ length: n }, () => words[Math.floor(rnd() * words.length)] + (rnd() < 0.7 ? ' ' : '')).join('');
    const corpus = Array.from({ length: 400 }, () => text(30)).join('\n');
    for (const pattern of [GPT2_PATTERN, CL100K_PATTERN]) {
      const big = new Tokenizer(trainBpeSync(corpus, { vocabSize: 1500, specialTokens: ['<|endoftext|>'], pattern }));
      const model = new TransformerLM({ family: 'llama', vocabSize: big.vocabSize, nLayer: 1, nHead: 2, nEmbd: 32, intermediateSize: 32, blockSize: 16 });
      const file = join(dir, `tok-${pattern === GPT2_PATTERN ? 'gpt2' : 'cl100k'}.gguf`);
      await exportGguf({ model, tokenizer: big }, file, { type: 'f32' });
      model.dispose();
      const lm = await llama.loadModel({ modelPath: file });
      try {
        for (let k = 0; k < 60; k++) {
          const s = text(5 + Math.floor(rnd() * 40));
          expect(Array.from(lm.tokenize(s, false)), JSON.stringify(s)).toEqual(big.encode(s));
        }
      } finally {
        await lm.dispose();
      }
    }
  }, 60_000);
  it('gpt2 (F32): same probabilities, greedy continuation and tokenization', async () => {
    await compare(
      {
        family: 'gpt2',
        vocabSize: tok.vocabSize,
        nLayer: 2,
        nHead: 4,
        nEmbd: 64,
        blockSize: 64,
      },
      'gpt2'
    );
  }, 60_000);
  it('llama with GQA (F32): same probabilities, greedy continuation and tokenization', async () => {
    await compare(
      {
        family: 'llama',
        vocabSize: tok.vocabSize + 12,
        nLayer: 2,
        nHead: 4,
        nKvHead: 2,
        nEmbd: 64,
        intermediateSize: 128,
        blockSize: 64,
        ropeTheta: 10000,
      },
      'llama'
    );
  }, 60_000);
});
