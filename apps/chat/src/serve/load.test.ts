// loadServed: a checkpoint directory and its GGUF export load to the same model (same greedy
// continuation through the scheduler), the tokenizer and template come along, and the engine is
// @llm/infer's when this build has it (`auto`), the tfjs adapter when asked.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHfTokenizerJson } from '@llm/tokenizer-bpe';
import { loadServed, type Served } from './load.js';
import { Scheduler } from './scheduler/scheduler.js';
import { tinyModel, tinyTokenizer } from './test-fixtures.js';

let root: string;
const spec = '@llm/quant';
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'llm-load-'));
  const model = await tinyModel(256, 12);
  await model.save(join(root, 'ckpt'));
  await writeFile(join(root, 'ckpt', 'tokenizer.json'), JSON.stringify(toHfTokenizerJson(tinyTokenizer().definition)));
  model.dispose();
  const quant = (await import(spec)) as { exportGguf: (src: string, file: string) => Promise<void> };
  await quant.exportGguf(join(root, 'ckpt'), join(root, 'tiny.gguf'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

const greedy = async (s: Served) => (await new Scheduler(s.engine, s.tokenizer).submit({ prompt: s.tokenizer.encodeOrdinary('hello world'), maxNewTokens: 8, sampling: { temperature: 0 } })).tokens;

describe('loadServed', () => {
  it('--adapter applies a PEFT adapter: the served continuation is the adapted model\'s, not the base\'s', async () => {
    const peftSpec = '@llm/peft';
    const peft = (await import(peftSpec)) as {
      getPeftModel: (m: unknown, c: Record<string, unknown>) => unknown;
      saveAdapter: (p: unknown, dir: string) => Promise<void>;
    };
    const { loadModel } = await import('@llm/transformer');
    const { generate } = await import('@llm/sample');
    const ref = await loadModel(join(root, 'ckpt'));
    const prompt = tinyTokenizer().encodeOrdinary('hello world');
    const base = generate(ref, [prompt], { maxNewTokens: 8, temperature: 0 }).sequences[0];
    // random B (initLoraWeights false) and a large alpha: the adapter really changes the output
    const p = peft.getPeftModel(ref, { peftType: 'LORA', r: 4, loraAlpha: 256, targetModules: ['c_attn', 'c_fc'], initLoraWeights: false });
    await peft.saveAdapter(p, join(root, 'lora'));
    const adapted = generate(ref, [prompt], { maxNewTokens: 8, temperature: 0 }).sequences[0];
    expect(adapted).not.toEqual(base);
    const served = await loadServed({ model: join(root, 'ckpt'), adapter: join(root, 'lora') });
    try {
      expect(served.engineKind).toBe('tfjs'); // an unmerged adapter runs on the tfjs engine
      expect(await greedy(served)).toEqual(adapted);
    } finally {
      served.dispose();
      ref.dispose();
    }
  });

  it('a checkpoint directory and its GGUF export serve the same greedy continuation', async () => {
    const dir = await loadServed({ model: join(root, 'ckpt'), engine: 'tfjs', maxBatch: 2 });
    const gguf = await loadServed({ model: join(root, 'tiny.gguf'), engine: 'tfjs' });
    const auto = await loadServed({ model: join(root, 'ckpt') });
    try {
      expect(dir.engineKind).toBe('tfjs');
      expect(dir.modelId).toBe('ckpt');
      expect(gguf.modelId).toBe('tiny');
      expect(dir.tokenizer.vocabSize).toBe(258);
      expect(gguf.tokenizer.vocabSize).toBe(258);
      expect(dir.engine.cacheStats()).toMatchObject({ blocksTotal: 6 * 16, blocksInUse: 0, blockTokens: 16 });
      const expected = await greedy(dir);
      expect(await greedy(gguf)).toEqual(expected);
      expect(await greedy(auto)).toEqual(expected);
      expect(['infer', 'tfjs']).toContain(auto.engineKind);
      expect(dir.embed([1, 2, 3])).toHaveLength(32);
    } finally {
      for (const s of [dir, gguf, auto]) s.dispose();
    }
  });

  it('a quantized GGUF runs on the engine as its own blocks (not dequantized to f32)', async () => {
    const quant = (await import(spec)) as { exportGguf: (src: string, file: string, o: { type: string }) => Promise<void> };
    await quant.exportGguf(join(root, 'ckpt'), join(root, 'tiny-q8.gguf'), { type: 'q8_0' });
    const served = await loadServed({ model: join(root, 'tiny-q8.gguf') });
    try {
      expect(served.engineKind).toBe('infer');
      const e = served.engine as unknown as { weights: string; activations: string };
      expect(e.weights).toBe('gguf'); // loadGgufForInference, not compileForInference of the dequantized model
      expect(e.activations).toBe('q8'); // q8_0 blocks with integer dots (an f32 model would say 'f32')
      expect(await greedy(served)).toHaveLength(8);
    } finally {
      served.dispose();
    }
  });
});
