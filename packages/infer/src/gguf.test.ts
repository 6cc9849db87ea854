// GGUF files (written by @llm/quant's exportGguf) run as-is: the engine on the file's ggml blocks
// = the engine on @llm/quant's dequantizing import (importParsedGguf) within 1e-4, for gpt2, llama
// (q/k row permutation) and a Mixtral-style MoE; a truncated file is a typed BAD_WEIGHTS error.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportGguf, importParsedGguf, parseGguf, type GgufExportType } from '@llm/quant';
import { compileForInference } from './compile.js';
import { loadGgufForInference } from './gguf.js';
import type { InferenceModel } from './engine/model.js';
import { CONFIGS, expectInferError, maxAbsDiff, randomIdRows, randomModel, useWasm } from './testing/helpers.js';

beforeAll(useWasm);
const dir = mkdtempSync(join(tmpdir(), 'infer-gguf-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const logits = (m: InferenceModel, tokens: number[]): Float32Array => {
  const s = m.newSequence();
  const out = m.step([{ seq: s, tokens: tokens.slice(0, 6) }], { allLogits: true });
  for (const t of tokens.slice(6)) out.push(...m.step([{ seq: s, tokens: [t] }]));
  s.free();
  return Float32Array.from(out.flatMap((r) => Array.from(r)));
};

const cases: Array<[string, keyof typeof CONFIGS, GgufExportType]> = [
  ['gpt2 q8_0', 'gpt2', 'q8_0'],
  ['llama q4_0 (GQA, permuted q/k rows)', 'llama', 'q4_0'],
  ['llama MoE q8_0', 'moe', 'q8_0'],
  ['llama f32', 'llama', 'f32'],
];

describe.each(cases)('%s', (_, cfgName, type) => {
  it('= the engine on the dequantized import, within 1e-4', async () => {
    const model = randomModel({ ...CONFIGS[cfgName], vocabSize: 64 });
    const file = join(dir, `${cfgName}-${type}.gguf`);
    await exportGguf({ model, tokenizer: null } as never, file, { type, idsOnly: true });
    const bytes = new Uint8Array(readFileSync(file));
    const eng = await loadGgufForInference(file, { maxTokens: 64, activations: 'f32' }); // the exact path (Q8 activations: engine/q8.test.ts)
    const imported = importParsedGguf(parseGguf(bytes)).model;
    const ref = compileForInference(imported, { maxTokens: 64 });
    const ids = randomIdRows(1, 10, 64, 3)[0]!;
    const a = logits(eng, ids);
    const b = logits(ref, ids);
    expect(maxAbsDiff(a, b)).toBeLessThan(1e-4);
    expect(Math.max(...a.map(Math.abs))).toBeGreaterThan(0.1);
    if (type !== 'f32') expect(eng.weightBytes).toBeLessThan(ref.weightBytes);
    for (const m of [eng, ref, imported, model]) m.dispose();
  });
});

it('a truncated or non-GGUF file is InferError BAD_WEIGHTS with an actionable message', async () => {
  const model = randomModel(CONFIGS.llama);
  const file = join(dir, 'trunc.gguf');
  await exportGguf({ model, tokenizer: null } as never, file, { type: 'q8_0', idsOnly: true });
  const bytes = new Uint8Array(readFileSync(file));
  await expectInferError(() => loadGgufForInference(bytes.subarray(0, bytes.length - 100)), 'BAD_WEIGHTS', /runs past the end of the file.*re-download or re-export/);
  await expectInferError(() => loadGgufForInference(new Uint8Array([1, 2, 3, 4, 5])), 'BAD_WEIGHTS', /not a GGUF file/);
  model.dispose();
});
