// The one GenerationConfig: library defaults, precedence (options > model > library), every check,
// eos as a list (any id stops generate, beam search and speculative decoding), and a checkpoint's
// generation_config.json reaching generation through @llm/transformer's model.generationConfig.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError } from '@llm/kit';
import { initBackend } from '@llm/tensor-gpu';
import { TransformerLM, loadModel } from '@llm/transformer';
import { GENERATION_DEFAULTS, generationConfigFor, modelGenerationDefaults, resolveGenerationConfig, type GenerationOptions } from './config.js';
import { SampleError } from './errors.js';
import { generate, stream } from './generate.js';
import { beamSearch } from './beam.js';
import { speculativeGenerate } from './speculative.js';
import { scoreContinuation } from './score.js';
import { FunctionLM } from './function-lm.js';
import { asTestLM, testLM } from './testing/lm.js';

let root: string;
beforeAll(async () => {
  await initBackend({ backend: 'wasm', log: false });
  root = await mkdtemp(join(tmpdir(), 'sample-config-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

/** A model that emits `script` (one-hot logits by position in the generated part). */
const scripted = (script: number[], promptLength = 1, V = 16) =>
  new FunctionLM(V, 64, (ctx) => {
    const row = new Float32Array(V);
    row[script[ctx.length - promptLength] ?? 0] = 10;
    return row;
  });

const expectInvalid = (fn: () => unknown, fragment: RegExp) => expectError(fn, 'INVALID_ARGUMENT', fragment, SampleError);

describe('resolveGenerationConfig', () => {
  it('fills the documented library defaults', () => {
    const cfg = resolveGenerationConfig();
    expect(cfg).toEqual(GENERATION_DEFAULTS);
    expect(cfg).toMatchObject({ maxNewTokens: 256, maxLength: null, eosTokenId: [], doSample: true, seed: 0, temperature: 1, topK: 0, topP: 1, minP: 0, typicalP: 1, repetitionPenalty: 1, numBeams: 1, lengthPenalty: 1, earlyStopping: false, numReturnSequences: 1, numDraftTokens: 4 });
    expect(Object.isFrozen(cfg)).toBe(true);
  });

  it('precedence per field: options > model > library; eos normalised to a list', () => {
    const model: GenerationOptions = { temperature: 0.6, topP: 0.9, eosTokenId: [2, 7], maxNewTokens: 40 };
    const cfg = resolveGenerationConfig({ temperature: 0.2, topK: 5 }, model);
    expect(cfg).toMatchObject({ temperature: 0.2, topK: 5, topP: 0.9, eosTokenId: [2, 7], maxNewTokens: 40, minP: 0 });
    expect(resolveGenerationConfig({ eosTokenId: 3 }, model).eosTokenId).toEqual([3]);
    expect(resolveGenerationConfig({ eosTokenId: null }, model).eosTokenId).toEqual([]); // explicit null = no eos
    expect(resolveGenerationConfig({}, {}).eosTokenId).toEqual([]);
    // resolving a resolved config gives it back
    expect(resolveGenerationConfig(cfg, { temperature: 1.5, topP: 0.5 })).toEqual(cfg);
  });

  it('HF rules: maxNewTokens drops a lower level\'s maxLength; an explicit temperature > 0 overrides the model\'s doSample false', () => {
    expect(resolveGenerationConfig({}, { maxLength: 30 })).toMatchObject({ maxNewTokens: 256, maxLength: 30 });
    expect(resolveGenerationConfig({ maxNewTokens: 10 }, { maxLength: 30 })).toMatchObject({ maxNewTokens: 10, maxLength: null });
    expect(resolveGenerationConfig({ maxNewTokens: 10, maxLength: 12 }, { maxLength: 30 })).toMatchObject({ maxNewTokens: 10, maxLength: 12 });
    expect(resolveGenerationConfig({}, { doSample: false, temperature: 0.7 }).doSample).toBe(false);
    expect(resolveGenerationConfig({ temperature: 0.8 }, { doSample: false }).doSample).toBe(true);
    expect(resolveGenerationConfig({ temperature: 0.8, doSample: false }, {}).doSample).toBe(false);
  });

  it('model defaults: generationConfig first, config.json\'s eos as the fallback', () => {
    const config = { vocabSize: 10, blockSize: 8, eosTokenId: 1 };
    expect(modelGenerationDefaults({ config }).eosTokenId).toBe(1);
    expect(modelGenerationDefaults({ config, generationConfig: { eosTokenId: [4, 5], topK: 3 } })).toMatchObject({ eosTokenId: [4, 5], topK: 3 });
    expect(modelGenerationDefaults({ config, generationConfig: { eosTokenId: null } }).eosTokenId).toBeNull();
    expect(generationConfigFor({ config, generationConfig: { topK: 3 } }, { topK: 7 })).toMatchObject({ topK: 7, eosTokenId: [1] });
  });

  it('rejects every bad value with a SampleError naming the option', () => {
    const bad: Array<[GenerationOptions, RegExp]> = [
      [{ maxNewTokens: 0 }, /maxNewTokens must be a positive integer, got 0/],
      [{ maxNewTokens: -3 }, /maxNewTokens must be a positive integer/],
      [{ maxNewTokens: 2.5 }, /maxNewTokens must be a positive integer/],
      [{ maxNewTokens: NaN }, /maxNewTokens must be a positive integer, got NaN/],
      [{ maxLength: 0 }, /maxLength must be a positive integer or null/],
      [{ temperature: -0.1 }, /temperature must be ≥ 0/],
      [{ temperature: NaN }, /temperature must be a finite number/],
      [{ topK: -1 }, /topK must be an integer ≥ 0/],
      [{ topK: 1.5 }, /topK must be an integer ≥ 0/],
      [{ topP: 0 }, /topP must be in \(0, 1\]/],
      [{ topP: 1.5 }, /topP must be in \(0, 1\]/],
      [{ minP: 2 }, /minP must be in \[0, 1\]/],
      [{ typicalP: 0 }, /typicalP must be in \(0, 1\]/],
      [{ repetitionPenalty: 0 }, /repetitionPenalty must be > 0/],
      [{ frequencyPenalty: Infinity }, /frequencyPenalty must be a finite number/],
      [{ presencePenalty: NaN }, /presencePenalty must be a finite number/],
      [{ penaltyLastN: -1 }, /penaltyLastN must be an integer ≥ 0/],
      [{ noRepeatNgramSize: -1 }, /noRepeatNgramSize must be an integer ≥ 0/],
      [{ eosTokenId: -1 }, /eosTokenId must be a token id \(an integer ≥ 0\), a list of them, or null/],
      [{ eosTokenId: [1, 2.5] }, /eosTokenId must be a token id/],
      [{ stopTokenIds: [-2] }, /stopTokenIds must be a token id/],
      [{ stopStrings: [3 as unknown as string] }, /stopStrings must be a list of strings/],
      [{ doSample: 'yes' as unknown as boolean }, /doSample must be true or false/],
      [{ seed: 1.5 }, /seed must be an integer/],
      [{ numBeams: 0 }, /numBeams must be a positive integer, got 0/],
      [{ numBeams: 2, numReturnSequences: 3 }, /numReturnSequences must be in \[1, numBeams = 2\], got 3/],
      [{ lengthPenalty: NaN }, /lengthPenalty must be a finite number/],
      [{ earlyStopping: 'always' as unknown as boolean }, /earlyStopping must be true, false or "never"/],
      [{ numDraftTokens: 0 }, /numDraftTokens must be a positive integer, got 0/],
    ];
    for (const [opts, msg] of bad) expectInvalid(() => resolveGenerationConfig(opts), msg);
    // a bad model default is reported the same way (the checkpoint's value is checked where it is used)
    expectInvalid(() => resolveGenerationConfig({}, { topP: 2 }), /topP must be in \(0, 1\], got 2/);
    // …unless the options override it
    expect(resolveGenerationConfig({ topP: 0.5 }, { topP: 2 }).topP).toBe(0.5);
  });
});

describe('eos as a list: every id stops generation', () => {
  const script = [5, 6, 9, 4, 3, 8, 7, 1, 1, 1];

  it('generate and stream stop at the first of several eos ids, from options or from the model', async () => {
    const lm = scripted(script);
    expect(generate(lm, [0], { temperature: 0, maxNewTokens: 10, eosTokenId: [3, 9] })).toMatchObject({ sequences: [[5, 6, 9]], finishReasons: ['eos'] });
    expect(generate(lm, [0], { temperature: 0, maxNewTokens: 10, eosTokenId: [8, 3] })).toMatchObject({ sequences: [[5, 6, 9, 4, 3]], finishReasons: ['eos'] });
    const withDefaults = Object.assign(scripted(script), { generationConfig: { eosTokenId: [4, 7], doSample: false } });
    expect(generate(withDefaults, [0], { maxNewTokens: 10 })).toMatchObject({ sequences: [[5, 6, 9, 4]], finishReasons: ['eos'] });
    const tokens: number[] = [];
    for await (const ev of stream(withDefaults, [0], { maxNewTokens: 10 })) tokens.push(ev.token!);
    expect(tokens).toEqual([5, 6, 9, 4]);
    // config.json's eos is the fallback; generation_config's wins when present
    const cfgEos = new FunctionLM(16, 64, scripted(script).logitsAt, 6);
    expect(generate(cfgEos, [0], { temperature: 0 }).sequences[0]).toEqual([5, 6]);
    expect(generate(Object.assign(cfgEos, { generationConfig: { eosTokenId: [3] } }), [0], { temperature: 0 }).sequences[0]).toEqual([5, 6, 9, 4, 3]);
  });

  it('beam search finishes hypotheses on any eos id', () => {
    // from the start: token 2 (p 0.5) and token 3 (p 0.3) are both eos; token 1 (p 0.2) continues
    const lm = new FunctionLM(4, 32, (ctx) => (ctx.length === 1 ? Float32Array.of(-9, Math.log(0.2), Math.log(0.5), Math.log(0.3)) : Float32Array.of(-9, Math.log(0.1), Math.log(0.45), Math.log(0.45))));
    const r = beamSearch(lm, [0], { numBeams: 2, maxNewTokens: 4, eosTokenId: [2, 3], numReturnSequences: 2, lengthPenalty: 0 });
    expect(r.sequences).toEqual([[2], [3]]);
    const fromModel = Object.assign(new FunctionLM(4, 32, lm.logitsAt), { generationConfig: { eosTokenId: [2, 3], numBeams: 2, numReturnSequences: 2, lengthPenalty: 0 } });
    expect(beamSearch(fromModel, [0], { maxNewTokens: 4 }).sequences).toEqual([[2], [3]]);
  });

  it('speculative decoding stops on any eos id (and reports stop ids as "stop")', () => {
    const target = scripted(script);
    const draft = scripted([5, 6, 1, 1, 1, 1, 1, 1, 1, 1]);
    expect(speculativeGenerate(target, draft, [0], { temperature: 0, maxNewTokens: 10, numDraftTokens: 3, eosTokenId: [4, 9] })).toMatchObject({ sequence: [5, 6, 9], finishReason: 'eos' });
    expect(speculativeGenerate(target, draft, [0], { temperature: 0, maxNewTokens: 10, eosTokenId: null, stopTokenIds: [3] })).toMatchObject({ sequence: [5, 6, 9, 4, 3], finishReason: 'stop' });
    const withDefaults = Object.assign(scripted(script), { generationConfig: { eosTokenId: [8, 4], doSample: false } });
    expect(speculativeGenerate(withDefaults, draft, [0], { maxNewTokens: 10 }).sequence).toEqual([5, 6, 9, 4]);
  });
});

describe('limits and ids checked on the host', () => {
  it('maxLength caps prompt + generated tokens, and an exhausted one is an error', () => {
    const lm = scripted([1, 2, 3, 4, 5, 6, 7, 8], 3);
    expect(generate(lm, [0, 0, 0], { temperature: 0, maxLength: 5 }).sequences[0]).toEqual([1, 2]);
    expect(beamSearch(lm, [0, 0, 0], { maxLength: 5 }).sequences[0]).toEqual([1, 2]);
    expectInvalid(() => generate(lm, [0, 0, 0], { maxLength: 3 }), /prompt 0 has 3 tokens, which reaches maxLength \(3\)/);
  });

  it('out-of-range prompt ids are SampleErrors in generate, beam search, speculative decoding and scoring', () => {
    const m = testLM({ family: 'gpt2', vocabSize: 20, nLayer: 1, nHead: 2, nEmbd: 8, blockSize: 16 });
    expectInvalid(() => generate(m, [[1, 2], [3, 20]]), /prompt 1 has token id 20, outside the vocabulary \[0, 20\)/);
    expectInvalid(() => beamSearch(m, [-1], { numBeams: 2 }), /prompt 0 has token id -1, outside the vocabulary/);
    expectInvalid(() => speculativeGenerate(m, m, [1, 2.5]), /prompt 0 has token id 2.5, outside the vocabulary/);
    expectInvalid(() => scoreContinuation(m, [1], [99]), /prompt \+ continuation has token id 99, outside the vocabulary \[0, 20\)/);
    m.dispose();
  });
});

describe('a checkpoint\'s generation_config.json drives generation (via @llm/transformer)', () => {
  it('loadModel → model.generationConfig → eos list, greedy and max_new_tokens apply; explicit options win', async () => {
    const a = new TransformerLM({ family: 'llama', vocabSize: 32, nLayer: 1, nHead: 2, nEmbd: 16, intermediateSize: 24, blockSize: 64, initStd: 0.5, seed: 3 });
    const dir = join(root, 'ckpt');
    await a.save(dir);
    // what the model does greedily, with no eos
    const free = generate(a, [1, 2], { temperature: 0, maxNewTokens: 12, eosTokenId: null }).sequences[0]!;
    const eos = [free[3]!, free[6]!];
    const cut = free.findIndex((t) => eos.includes(t)) + 1;
    await writeFile(join(dir, 'generation_config.json'), JSON.stringify({ eos_token_id: eos, do_sample: false, max_new_tokens: 12, transformers_version: '4.45.2' }));
    const b = asTestLM(await loadModel(dir));
    expect(b.generationConfig).toMatchObject({ eosTokenId: eos, doSample: false, maxNewTokens: 12 });
    const r = generate(b, [1, 2]);
    expect(r.sequences[0]).toEqual(free.slice(0, cut));
    expect(r.finishReasons).toEqual(['eos']);
    expect(generate(b, [1, 2], { eosTokenId: null, maxNewTokens: 5 }).sequences[0]).toEqual(free.slice(0, 5));
    // sampling settings of the checkpoint apply too: an explicit temperature > 0 samples despite do_sample false
    expect(generationConfigFor(b, { temperature: 0.7 })).toMatchObject({ doSample: true, temperature: 0.7, eosTokenId: eos, maxNewTokens: 12 });
    a.dispose();
    b.dispose();
  });
});

describe('promptRoom', () => {
  it('keeps a whole prompt beside the reply when both fit, else promises the reply at most half the context', async () => {
    const { promptRoom } = await import('./prompt.js');
    expect(promptRoom(1024, 100)).toBe(924);
    expect(promptRoom(64, 300)).toBe(32);
    expect(promptRoom(64, 32)).toBe(32);
    expect(promptRoom(64, 10)).toBe(54);
    expect(promptRoom(2, 5)).toBe(1);
    expect(promptRoom(64, 0)).toBe(63); // a reply of at least one token always has room
  });
});
