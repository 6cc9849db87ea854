// The generation loop: cached greedy = an uncached argmax loop, batched = per-row, seeds, every
// stop condition, streaming that never splits a character, abort, and no tensor leaks.
import { beforeAll, describe, expect, it } from 'vitest';
import { tf, initBackend } from '@llm/tensor-gpu';
import { Tokenizer, bytesToBinary, GPT2_PATTERN } from '@llm/tokenizer-bpe';
import { generate, stream, cutAtStop } from './generate.js';
import { FunctionLM } from './function-lm.js';
import { testLM } from './testing/lm.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm', log: false });
});

const byteTok = () => new Tokenizer({ name: 'byte', pattern: GPT2_PATTERN, ranks: new Map(Array.from({ length: 256 }, (_, b) => [bytesToBinary(Uint8Array.of(b)), b])), specialTokens: new Map() });
const model = () => testLM({ family: 'llama', vocabSize: 256, nLayer: 2, nHead: 4, nKvHead: 2, nEmbd: 32, intermediateSize: 48, blockSize: 96, initStd: 0.3 });

/** A model that emits `script` (one-hot logits by position in the generated part). */
function scripted(script: number[], promptLength: number, V = 256): FunctionLM {
  return new FunctionLM(V, 512, (ctx) => {
    const row = new Float32Array(V);
    row[script[ctx.length - promptLength] ?? 0] = 10;
    return row;
  });
}

describe('generate', () => {
  it('greedy with the KV cache equals an argmax loop over full forwards', () => {
    const m = model();
    const prompt = [72, 105, 33, 10];
    const { sequences, finishReasons } = generate(m, prompt, { maxNewTokens: 12, temperature: 0, eosTokenId: null });
    const ids = [...prompt];
    for (let i = 0; i < 12; i++) {
      const next = tf.tidy(() => m.forward(tf.tensor2d([ids], [1, ids.length], 'int32')).slice([0, ids.length - 1, 0], [1, 1, 256]).argMax(-1).dataSync()[0]!);
      ids.push(next);
    }
    expect(sequences[0]).toEqual(ids.slice(prompt.length));
    expect(finishReasons).toEqual(['length']);
    m.dispose();
  });

  it('batched left-padded prompts give each row what it gets alone (greedy and seeded sampling)', () => {
    const m = model();
    const prompts = [[1, 2, 3, 4, 5, 6], [7], [8, 9, 10]];
    for (const opts of [{ temperature: 0 }, { temperature: 0.9, topK: 20, seed: 5 }]) {
      const batched = generate(m, prompts, { maxNewTokens: 8, eosTokenId: null, ...opts });
      const alone = prompts.map((p, b) => {
        // row b of a batch samples from the stream of row b: reproduce it by putting p at row b
        const rows = prompts.map((q, i) => (i === b ? p : q));
        return generate(m, rows, { maxNewTokens: 8, eosTokenId: null, ...opts }).sequences[b];
      });
      expect(batched.sequences).toEqual(alone);
      const single = generate(m, prompts[0]!, { maxNewTokens: 8, eosTokenId: null, ...opts });
      expect(single.sequences[0]).toEqual(batched.sequences[0]);
    }
    m.dispose();
  });

  it('same seed → same output; another seed → another output', () => {
    const m = model();
    const a = generate(m, [5, 6], { maxNewTokens: 20, seed: 1, eosTokenId: null }).sequences[0];
    const b = generate(m, [5, 6], { maxNewTokens: 20, seed: 1, eosTokenId: null }).sequences[0];
    const c = generate(m, [5, 6], { maxNewTokens: 20, seed: 2, eosTokenId: null }).sequences[0];
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    m.dispose();
  });

  it('stops on EOS, stop token ids, stop strings across token boundaries, and max tokens', () => {
    const tok = byteTok();
    const script = Array.from(Buffer.from('hello END world'));
    const lm = scripted(script, 1);
    const eos = generate(lm, [0], { maxNewTokens: 50, temperature: 0, eosTokenId: 'l'.charCodeAt(0) });
    expect(eos).toMatchObject({ sequences: [[104, 101, 108]], finishReasons: ['eos'] });
    const stopId = generate(lm, [0], { maxNewTokens: 50, temperature: 0, stopTokenIds: [32] });
    expect(stopId.finishReasons).toEqual(['stop']);
    expect(stopId.sequences[0]!.length).toBe(6);
    const stopStr = generate(lm, [0], { maxNewTokens: 50, temperature: 0, stopStrings: ['ND w'], tokenizer: tok });
    expect(stopStr.finishReasons).toEqual(['stop']);
    expect(stopStr.texts).toEqual(['hello E']);
    expect(tok.decode(stopStr.sequences[0]!)).toBe('hello END w'); // generation stopped at the token completing the stop string
    const len = generate(lm, [0], { maxNewTokens: 4, temperature: 0 });
    expect(len).toMatchObject({ sequences: [[104, 101, 108, 108]], finishReasons: ['length'] });
    expect(cutAtStop('abcXYdefXY', ['XY', 'de'])).toBe('abc');
  });

  it('bad inputs are SampleErrors with actionable messages', () => {
    const m = model();
    expect(() => generate(m, [], {})).toThrow(/no prompt given/);
    expect(() => generate(m, [[1], []], {})).toThrow(/prompt 1 is empty/);
    expect(() => generate(m, [300], {})).toThrow(/token id 300, outside the vocabulary \[0, 256\)/);
    expect(() => generate(m, [1], { topP: 2 })).toThrow(/topP must be in \(0, 1\]/);
    expect(() => generate(m, [1], { maxNewTokens: 0 })).toThrow(/maxNewTokens must be a positive integer/);
    expect(() => generate(m, [1], { stopStrings: ['x'] })).toThrow(/stopStrings need a tokenizer/);
    expect(() => generate(m, Array.from({ length: 96 }, () => 1), {})).toThrow(/context is 96/);
    m.dispose();
  });

  it('1,000 generated tokens leak no tensors', () => {
    const m = testLM({ family: 'gpt2', vocabSize: 64, nLayer: 1, nHead: 2, nEmbd: 16, blockSize: 1100 });
    generate(m, [1, 2], { maxNewTokens: 3, eosTokenId: null });
    const before = tf.memory().numTensors;
    const r = generate(m, [[1, 2, 3], [4]], { maxNewTokens: 1000, eosTokenId: null, seed: 3, topK: 10 });
    expect(r.sequences.map((s) => s.length)).toEqual([1000, 1000]);
    expect(tf.memory().numTensors).toBe(before);
    m.dispose();
  });
});

describe('stream', () => {
  it('multi-byte characters split across tokens stream out whole and concatenate to the exact text', async () => {
    const tok = byteTok();
    const text = 'Grüße 漢字 🙂👍🏽 done';
    const lm = scripted(Array.from(Buffer.from(text)), 1);
    const pieces: string[] = [];
    for await (const ev of stream(lm, [0], { tokenizer: tok, temperature: 0, maxNewTokens: Buffer.byteLength(text) })) {
      expect(ev.text).not.toMatch(/\uFFFD/);
      pieces.push(ev.text);
    }
    expect(pieces.join('')).toBe(text);
    expect(pieces.filter((p) => p === '').length).toBeGreaterThan(5); // tokens that ended mid-character
  });

  it('holds back a possible stop-string prefix and never emits the stop string', async () => {
    const tok = byteTok();
    const lm = scripted(Array.from(Buffer.from('say <e>no</e> and <END> more')), 1);
    let out = '';
    let last = null;
    for await (const ev of stream(lm, [0], { tokenizer: tok, temperature: 0, maxNewTokens: 100, stopStrings: ['<END>'] })) {
      out += ev.text;
      last = ev.finish;
    }
    expect(out).toBe('say <e>no</e> and ');
    expect(last).toBe('stop');
  });

  it('an AbortSignal stops the stream with finish "aborted"', async () => {
    const tok = byteTok();
    const lm = scripted(Array.from(Buffer.from('abcdefghijklmnopqrstuvwxyz')), 1);
    const ctl = new AbortController();
    const tokens: Array<number | null> = [];
    let finish = null;
    for await (const ev of stream(lm, [0], { tokenizer: tok, temperature: 0, maxNewTokens: 26, signal: ctl.signal })) {
      tokens.push(ev.token);
      finish = ev.finish;
      if (tokens.length === 3) ctl.abort();
    }
    expect(finish).toBe('aborted');
    expect(tokens.filter((t) => t !== null).length).toBe(3);
  });
});
