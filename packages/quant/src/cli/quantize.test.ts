// `llm-quant quantize`, in-process.
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '@llm/tensor-gpu';
import { TransformerLM } from '@llm/transformer';
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
});
