// @llm/sample on the engine: greedy continuations (batched, left-padded), beam search and
// speculative decoding give the same ids as on the tfjs TransformerLM. (The real stories260K model is
// checked by benchmarks/inference/decode.mjs: tests never read ../shared.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@llm/tensor-gpu';
import { beamSearch, generate, speculativeGenerate } from '@llm/sample';
import type { TransformerLM } from '@llm/transformer';
import { compileForInference } from '../compile.js';
import type { InferenceModel } from './model.js';
import { CONFIGS, maxAbsDiff, randomIdRows, randomModel, useWasm } from '../testing/helpers.js';

beforeAll(useWasm);

describe('@llm/sample runs unchanged on the engine', () => {
  let ref: TransformerLM;
  let eng: InferenceModel;
  let draftRef: TransformerLM;
  let draft: InferenceModel;
  beforeAll(() => {
    ref = randomModel({ ...CONFIGS.llama, initStd: 0.5 });
    eng = compileForInference(ref, { maxTokens: 512, blockTokens: 4 });
    draftRef = randomModel({ ...CONFIGS.llama, nLayer: 1, initStd: 0.5, seed: 11 });
    draft = compileForInference(draftRef, { maxTokens: 256, blockTokens: 4 });
  });
  afterAll(() => {
    for (const m of [eng, ref, draft, draftRef]) m.dispose();
  });

  it('greedy generate of a left-padded batch of 3 = the tfjs model', () => {
    const prompts = [[1, 2, 3, 4, 5], [7], [9, 8, 7]];
    const a = generate(ref, prompts, { maxNewTokens: 12 });
    const b = generate(eng, prompts, { maxNewTokens: 12 });
    expect(b.sequences).toEqual(a.sequences);
    expect(new Set(a.sequences.flat()).size).toBeGreaterThan(2); // not a degenerate repeat
    expect(eng.cacheStats().blocksInUse).toBe(0);
  });

  it('beam search (4 beams) = the tfjs model', () => {
    const a = beamSearch(ref, [3, 1, 4, 1, 5], { numBeams: 4, maxNewTokens: 8, numReturnSequences: 2 });
    const b = beamSearch(eng, [3, 1, 4, 1, 5], { numBeams: 4, maxNewTokens: 8, numReturnSequences: 2 });
    expect(b.sequences).toEqual(a.sequences);
    expect(maxAbsDiff(Float32Array.from(a.scores), Float32Array.from(b.scores))).toBeLessThan(1e-4);
    expect(eng.cacheStats().blocksInUse).toBe(0);
  });

  it('speculative decoding (engine target and draft) = the same on the tfjs models', () => {
    const want = speculativeGenerate(ref, draftRef, [2, 7, 1, 8], { maxNewTokens: 15, numDraftTokens: 3, seed: 1 });
    const got = speculativeGenerate(eng, draft, [2, 7, 1, 8], { maxNewTokens: 15, numDraftTokens: 3, seed: 1 });
    expect(got.sequence).toEqual(want.sequence);
    expect(got.stats).toEqual(want.stats);
    expect(want.stats.drafted).toBeGreaterThan(0);
    expect(eng.cacheStats().blocksInUse).toBe(0);
    expect(draft.cacheStats().blocksInUse).toBe(0);
  });
});
