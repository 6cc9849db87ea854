import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '@llm/tensor-gpu';
import { TransformerLM, loadModel } from '@llm/transformer';
import { Tokenizer, saveTokenizer, trainBpeSync, loadTokenizer } from '@llm/tokenizer-bpe';
import { runCli } from '../testing/run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'llm-quant-cli-'));
beforeAll(async () => {
  await initBackend();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = runCli;

describe('llm-quant export-gguf / import-gguf / inspect', () => {
  it('exports, inspects and imports a llama checkpoint', async () => {
    const tok = new Tokenizer(trainBpeSync('hello world, the quick brown fox '.repeat(10), { vocabSize: 270, specialTokens: ['<|endoftext|>'] }));
    const model = new TransformerLM({ family: 'llama', vocabSize: 272, nLayer: 1, nHead: 2, nKvHead: 1, nEmbd: 32, intermediateSize: 64, blockSize: 16 });
    const ck = join(dir, 'ck');
    await model.save(ck);
    const noTok = await run(['export-gguf', ck, '-o', join(dir, 'm.gguf')]);
    expect(noTok.code).toBe(2);
    expect(noTok.err).toMatch(/^llm-quant: .*no tokenizer\.json.*--ids-only/);
    await saveTokenizer(join(ck, 'tokenizer.json'), tok.definition, 'hf');
    const ex = await run(['export-gguf', ck, '-o', join(dir, 'm.gguf'), '--type', 'q8_0']);
    expect(ex.code, ex.err).toBe(0);
    const ins = await run(['inspect', join(dir, 'm.gguf')]);
    expect(ins.code, ins.err).toBe(0);
    expect(ins.out).toMatch(/GGUF v3, \d+ metadata keys, 12 tensors/);
    expect(ins.out).toMatch(/blk\.0\.attn_k\.weight\s+Q8_0\s+\[16, 32\]/);
    expect(ins.out).toMatch(/tokenizer\.ggml\.tokens = \[272 items/);
    const im = await run(['import-gguf', join(dir, 'm.gguf'), '-o', join(dir, 'back')]);
    expect(im.code, im.err).toBe(0);
    expect(existsSync(join(dir, 'back', 'tokenizer.json'))).toBe(true);
    const back = await loadModel(join(dir, 'back'));
    expect(back.config.nKvHead).toBe(1);
    expect(new Tokenizer(await loadTokenizer(join(dir, 'back', 'tokenizer.json'))).encode('hello fox')).toEqual(tok.encode('hello fox'));
    tf.dispose([]);
    model.dispose();
    back.dispose();
  });
  it('a garbled file is a one-line error with exit code 1', async () => {
    const r = await run(['inspect', join(dir, 'ck', 'config.json')]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^llm-quant: GGUF: not a GGUF file/);
    const bad = await run(['export-gguf', join(dir, 'ck'), '-o', join(dir, 'x.gguf'), '--type', 'q3']);
    expect(bad.code).toBe(2);
  });
});
