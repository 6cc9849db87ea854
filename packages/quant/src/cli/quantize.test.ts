// `llm-quant quantize`, in-process.
import { existsSync, mkdtempSync, rmSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '@llm/tensor-gpu';
import { Tokenizer, saveTokenizer, trainBpeSync } from '@llm/tokenizer-bpe';
import { TransformerLM, type ModelConfigInput } from '@llm/transformer';
import { loadGptqCheckpoint } from '../gptq/checkpoint.js';
import { GptqLinear } from '../gptq/module.js';
import { syntheticText } from '../gptq/tiny-model.testing.js';
import { loadQuantizedModel } from '../checkpoint/quantized-checkpoint.js';
import { QuantizedLinear } from '../modules/quantized-linear.js';
import { runCli } from '../testing/run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'llm-quant-q-'));
beforeAll(async () => {
  await initBackend({ backend: 'wasm', log: false });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = runCli;

describe('llm-quant quantize', () => {
  it('writes int8 / int4 / nf4 checkpoints that load back, and reports bytes per parameter', async () => {
    const model = new TransformerLM({ family: 'llama', vocabSize: 50, nLayer: 1, nHead: 2, nKvHead: 1, nEmbd: 64, intermediateSize: 128, blockSize: 16 });
    const ck = join(dir, 'ck');
    await model.save(ck);
    model.dispose();
    for (const args of [['--scheme', 'nf4'], ['--scheme', 'int4', '--group-size', '32', '--asymmetric'], ['--scheme', 'int8']]) {
      const out = join(dir, args.join('_'));
      const r = await run(['quantize', ck, '-o', out, ...args]);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/total: 7 linears, \d+ params, \d+ bytes, [\d.]+ bytes\/param .*kept in float: lm_head/);
      const cfg = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
      expect(cfg.quantization_config.llm_ts.scheme).toBe(args[1]);
      if (args[1] === 'int4') expect(cfg.quantization_config).toMatchObject({ group_size: 32, sym: false });
      const q = await loadQuantizedModel(out);
      expect(q.getModule('model.layers.0.mlp.up_proj')).toBeInstanceOf(QuantizedLinear);
      const x = tf.tensor2d([[1, 2, 3]], [1, 3], 'int32');
      const y = q.forward(x);
      expect(y.shape).toEqual([1, 3, 50]);
      tf.dispose([x, y]);
      for (const n of q.linearNames()) (q.getModule(n) as { dispose?: () => void }).dispose?.();
      q.dispose();
    }
  });
  it('bad usage exits 2 with one line', async () => {
    const r = await run(['quantize', join(dir, 'ck'), '-o', join(dir, 'x'), '--scheme', 'int3']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^llm-quant: .*int3.*\n$/);
    const g = await run(['quantize', join(dir, 'ck'), '-o', join(dir, 'x'), '--scheme', 'int4', '--group-size', '7']);
    expect(g.code).toBe(2);
    expect(g.err).toMatch(/--group-size must be an even integer/);
  });

  // A float checkpoint with a tokenizer.json, a calibration text; quantize, load back, compare logits.
  async function gptqRoundTrip(family: 'llama' | 'gpt2', args: string[]) {
    const text = syntheticText(5, 300);
    const tok = new Tokenizer(trainBpeSync(text, { vocabSize: 256 + 32 }));
    const cfg: ModelConfigInput = family === 'llama'
      ? { family, vocabSize: tok.vocabSize, nLayer: 1, nHead: 2, nKvHead: 1, nEmbd: 64, intermediateSize: 128, blockSize: 32, seed: 3 }
      : { family, vocabSize: tok.vocabSize, nLayer: 1, nHead: 2, nEmbd: 64, blockSize: 32, seed: 3 };
    const model = new TransformerLM(cfg);
    const ck = join(dir, `ck-${family}-${args[1]}`);
    await model.save(ck);
    await saveTokenizer(join(ck, 'tokenizer.json'), tok.definition, 'hf');
    const calib = join(dir, 'calib.txt');
    writeFileSync(calib, text);
    const out = join(dir, `out-${family}-${args.join('_')}`);
    const r = await run(['quantize', ck, '-o', out, ...args, '--calibration', calib]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/total: \d+ linears, \d+ params, \d+ bytes, [\d.]+ bytes\/param .*kept in float: lm_head/);
    expect(existsSync(join(out, 'tokenizer.json'))).toBe(true);
    const back = await loadGptqCheckpoint(out);
    const ids = tok.encode(text.slice(0, 200)).slice(0, 24);
    const x = tf.tensor2d([ids], [1, ids.length], 'int32');
    const [y0, y1] = [model.forward(x), back.forward(x)];
    const [a, b] = [y0.dataSync(), y1.dataSync()];
    let num = 0;
    let den = 0;
    for (let i = 0; i < a.length; i++) {
      num += (a[i]! - b[i]!) ** 2;
      den += a[i]! ** 2;
    }
    tf.dispose([x, y0, y1]);
    const linears = back.linearNames().filter((n) => back.getModule(n) instanceof GptqLinear);
    back.dispose();
    model.dispose();
    return { out: r.out, rel: Math.sqrt(num / den), linears, cfg: JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) };
  }

  it('gptq (llama, act-order, group 32): writes the GPTQ layout with the tokenizer; it loads back with logits close to the float model', async () => {
    const r = await gptqRoundTrip('llama', ['--scheme', 'gptq', '--act-order', '--group-size', '32']);
    expect(r.cfg.quantization_config).toMatchObject({ quant_method: 'gptq', bits: 4, group_size: 32, desc_act: true });
    expect(r.linears).toHaveLength(7);
    expect(r.out).toMatch(/model\.layers\.0\.mlp\.down_proj {2}8192 params {2}\d+ bytes/);
    expect(r.rel).toBeLessThan(0.05); // 0.023 here
  });

  it('awq (gpt2): scales folded into the norms, the rest round-to-nearest and named, clipped but c_attn (--no-clip: none); it loads back with logits close', async () => {
    const r = await gptqRoundTrip('gpt2', ['--scheme', 'awq']);
    expect(r.cfg.quantization_config).toMatchObject({ quant_method: 'gptq', bits: 4, group_size: 128, desc_act: false });
    expect(r.linears).toHaveLength(4);
    expect(r.out).toMatch(/folded into transformer\.h\.0\.ln_1, transformer\.h\.0\.ln_2/);
    expect(r.out).toMatch(/round-to-nearest .*: transformer\.h\.0\.attn\.c_proj, transformer\.h\.0\.mlp\.c_proj\n/);
    expect(r.rel).toBeLessThan(0.1); // 0.073 here (random weights, one 64-column group per row)
    expect(r.out).toMatch(/weights clipped .*: transformer\.h\.0\.attn\.c_proj, transformer\.h\.0\.mlp\.c_fc, transformer\.h\.0\.mlp\.c_proj\n/);
    const n = await gptqRoundTrip('gpt2', ['--scheme', 'awq', '--no-clip']);
    expect(n.out).toMatch(/awq: no clipping search \(--no-clip\)\n/);
    expect(n.out).toMatch(/round-to-nearest int4 \(.*: transformer\.h\.0\.attn\.c_proj, transformer\.h\.0\.mlp\.c_proj\n/);
    expect(n.rel).toBeLessThan(0.1);
  });

  it('gptq / awq without --calibration exit 2 with one line', async () => {
    for (const scheme of ['gptq', 'awq']) {
      const r = await run(['quantize', join(dir, 'ck'), '-o', join(dir, 'x'), '--scheme', scheme]);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(new RegExp(`^llm-quant: .*--scheme ${scheme} needs --calibration FILE.*\n$`));
      expect(existsSync(join(dir, 'x'))).toBe(false);
    }
    const calib = join(dir, 'calib-only.txt');
    writeFileSync(calib, 'some text');
    const t = await run(['quantize', join(dir, 'ck'), '-o', join(dir, 'x'), '--scheme', 'gptq', '--calibration', calib]);
    expect(t.code).toBe(2);
    expect(t.err).toMatch(/^llm-quant: .*tokenizer\.json does not exist\.\n$/);
    const m = await run(['quantize', join(dir, 'ck'), '-o', join(dir, 'x'), '--scheme', 'awq', '--calibration', join(dir, 'nope.txt')]);
    expect(m.code).toBe(2);
    expect(m.err).toMatch(/^llm-quant: --calibration .*nope\.txt: cannot read it \(ENOENT\)\.\n$/);
  });
});
