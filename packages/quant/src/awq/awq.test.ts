import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf, initBackend, Rng, readSafetensors, writeSafetensors } from '@llm/tensor-gpu';
import { TransformerLM } from '@llm/transformer';
import { expectErrorAsync } from '@llm/kit';
import { QuantError } from '../errors.js';
import { awqQuantizeModel, awqScales, awqSearch } from './awq.js';
import { gptqQuantizeModel } from '../gptq/model.js';
import { GptqLinear } from '../gptq/module.js';
import { loadGptqCheckpoint, saveGptqCheckpoint } from '../gptq/checkpoint.js';

const dirs: string[] = [];
beforeAll(async () => {
  await initBackend({ backend: 'wasm', log: false });
});
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const llama = () => new TransformerLM({ family: 'llama', vocabSize: 64, nLayer: 1, nHead: 4, nKvHead: 2, nEmbd: 32, intermediateSize: 64, blockSize: 32, seed: 5 });
const ids = (seed: number, n: number, T: number) => {
  const r = new Rng(seed);
  return Array.from({ length: n }, () => Array.from({ length: T }, () => Math.floor(r.next() * 64)));
};
const maxRel = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => a.sub(b).abs().max().dataSync()[0]! / a.abs().max().dataSync()[0]!);

describe('AWQ', () => {
  it('normalises scales to √(max·min) = 1; α = 0 without duo scaling is RTN (s = 1)', () => {
    expect(Array.from(awqScales([0.5, 2, 8], 0))).toEqual([1, 1, 1]);
    const s = awqScales([0.5, 2, 8], 0.5);
    expect(Math.max(...s) * Math.min(...s)).toBeCloseTo(1, 6);
  });

  it('the α search protects an outlier input channel and never loses to RTN on its data', () => {
    const r = new Rng(1);
    const n = 256;
    const inF = 64;
    const out = 16;
    const X = new Float32Array(n * inF).map((_, k) => (r.next() - 0.5) * (k % inF === 3 ? 40 : 1));
    const W = new Float32Array(out * inF).map(() => (r.next() - 0.5) * 0.1);
    const sx = new Float64Array(inF);
    for (let k = 0; k < X.length; k++) sx[k % inF]! += Math.abs(X[k]!) / n;
    for (const duo of [false, true]) {
      const res = awqSearch(X, n, inF, sx, [{ W, out }], 32, 20, duo);
      expect(res.loss).toBeLessThan(res.rtnLoss);
      expect(res.alpha).toBeGreaterThan(0);
    }
  });

  it('quantizes a Llama in place: 1/s folded into the RMSNorms, explicit input scales elsewhere; logits stay close', () => {
    const fp = llama();
    const m = llama();
    const x = tf.tensor2d(ids(9, 1, 16), [1, 16], 'int32');
    const ref = fp.forward(x);
    const rep = awqQuantizeModel(m, { groupSize: 32, calibration: { ids: ids(2, 8, 32) } });
    expect(rep.groups.map((g) => g.folded)).toEqual(['model.layers.0.input_layernorm', null, 'model.layers.0.post_attention_layernorm', null]);
    expect((m.getModule('model.layers.0.self_attn.q_proj') as GptqLinear).inputScale).toBeNull();
    expect((m.getModule('model.layers.0.mlp.down_proj') as GptqLinear).inputScale).not.toBeNull();
    expect(maxRel(ref, m.forward(x))).toBeLessThan(0.2);
    tf.dispose([x, ref]);
  });
});

describe('GPTQ on a Llama (out_in layout, q/k/v and gate/up groups), checkpoint round trip and hostile input', () => {
  it('quantizes, saves, loads back with identical logits, and rejects a corrupt g_idx', async () => {
    const fp = llama();
    const m = llama();
    const rep = gptqQuantizeModel(m, { groupSize: 16, actOrder: true, calibration: { ids: ids(3, 8, 32) } });
    expect(rep.losses.size).toBe(7);
    const x = tf.tensor2d(ids(9, 1, 16), [1, 16], 'int32');
    const ref = fp.forward(x);
    const y = m.forward(x);
    expect(maxRel(ref, y)).toBeLessThan(0.2);
    const dir = mkdtempSync(join(tmpdir(), 'gptq-llama-'));
    dirs.push(dir);
    await saveGptqCheckpoint(m, dir, rep.config);
    const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    expect(cfg.quantization_config).toMatchObject({ quant_method: 'gptq', bits: 4, group_size: 16, desc_act: true, sym: false, checkpoint_format: 'gptq' });
    const back = await loadGptqCheckpoint(dir);
    expect(tf.tidy(() => back.forward(x).sub(y).abs().max().dataSync()[0])).toBe(0);
    // hostile: a g_idx entry past the groups
    const f = await readSafetensors(join(dir, 'model.safetensors'));
    const g = f.tensors.get('model.layers.0.self_attn.q_proj.g_idx')!;
    const bad = new Int32Array(g.data.slice().buffer);
    bad[0] = 1 << 20;
    f.tensors.set('model.layers.0.self_attn.q_proj.g_idx', { ...g, data: new Uint8Array(bad.buffer) });
    await writeSafetensors(join(dir, 'model.safetensors'), f.tensors);
    await expectErrorAsync(() => loadGptqCheckpoint(dir), 'CHECKPOINT_INVALID', /g_idx\[0\]/, QuantError);
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...cfg, quantization_config: { quant_method: 'awq' } }));
    await expectErrorAsync(() => loadGptqCheckpoint(dir), 'CHECKPOINT_INVALID', /quant_method "gptq"/, QuantError);
    tf.dispose([x, ref, y]);
  });
});
