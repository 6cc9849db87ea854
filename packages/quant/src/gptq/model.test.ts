import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@llm/tensor-gpu';
import type { TransformerLM } from '@llm/transformer';
import { awqEffectiveWeight, awqQuantizeModel, awqQuantizeScaled, awqSearch, int4Groups } from '../awq/awq.js';
import { captureInputs, calibrationSequences, linearWeight, sequentialGroups } from './calibrate.js';
import { loadGptqCheckpoint, saveGptqCheckpoint } from './checkpoint.js';
import { gptqQuantize, HessianAccumulator } from './gptq.js';
import { gptqQuantizeModel } from './model.js';
import { GptqLinear } from './module.js';
import { packGptq } from './pack.js';
import { dequantize } from './quantizer.js';
import { cloneModel, perplexity, trainTinyModel, type TinySetup } from './tiny-model.testing.js';

const GS = 64; // the tiny model is 64 wide: a row of c_attn / c_fc is one group, c_proj (256 in) has 4
let setup: TinySetup;
const dirs: string[] = [];

beforeAll(async () => {
  setup = await trainTinyModel();
});
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const blockLinears = (m: TransformerLM) => sequentialGroups(m).flatMap((g) => g.names);

function rtnModel(base: TransformerLM): TransformerLM {
  const m = cloneModel(base);
  for (const name of blockLinears(m)) {
    const mod = m.getModule(name);
    const { W, bias } = linearWeight(mod, name);
    m.replaceModule(name, new GptqLinear(packGptq(int4Groups(W, mod.outFeatures, mod.inFeatures, GS)), bias));
  }
  return m;
}

describe('GPTQ and AWQ on a tiny trained model', () => {
  it('beat round-to-nearest int4 (same group size) in layer output MSE on held-out activations', () => {
    const { model, tokenizer, calibration, heldOut } = setup;
    const cal = calibrationSequences(model, { tokenizer, texts: calibration, seqLen: 64, maxSamples: 32 });
    const sum = { rtn: 0, gptq: 0, awq: 0 };
    for (const group of sequentialGroups(model)) {
      const inF = model.getModule(group.names[0]!).inFeatures;
      const H = new HessianAccumulator(inF);
      const calRows: number[] = [];
      const absSum = new Float64Array(inF);
      captureInputs(model, [group.names[0]!], cal, (_n, x) => {
        H.add(tf.tidy(() => tf.matMul(x, x, true, false).dataSync()), 1);
        const v = x.dataSync();
        for (let k = 0; k < v.length; k++) absSum[k % inF]! += Math.abs(v[k]!);
        calRows.push(...v);
      });
      const nCal = calRows.length / inF;
      const sx = Float64Array.from(absSum, (a) => a / nCal);
      const hoRows: number[] = [];
      captureInputs(model, [group.names[0]!], heldOut, (_n, x) => void hoRows.push(...x.dataSync()));
      const Xho = tf.tensor2d(hoRows, [hoRows.length / inF, inF]);
      const lins = group.names.map((n) => ({ out: model.getModule(n).outFeatures, ...linearWeight(model.getModule(n), n) }));
      const awq = awqSearch(Float32Array.from(calRows), nCal, inF, sx, lins, GS, 20, true);
      const mse = (W: Float32Array, Q: Float32Array, out: number) => tf.tidy(() => {
        const D = tf.tensor2d(W, [out, inF]).sub(tf.tensor2d(Q, [out, inF]));
        return tf.matMul(Xho, D, false, true).square().mean().dataSync()[0]!;
      });
      for (const l of lins) {
        sum.rtn += mse(l.W, dequantize(int4Groups(l.W, l.out, inF, GS)), l.out);
        sum.gptq += mse(l.W, gptqQuantize(l.W, l.out, inF, H.H, { groupSize: GS, actOrder: true }).dequant, l.out);
        sum.awq += mse(l.W, awqEffectiveWeight(awqQuantizeScaled(l.W, l.out, inF, awq.s, GS), awq.s), l.out);
      }
      Xho.dispose();
    }
    console.log(`layer output MSE on held-out activations, summed over the 8 block linears (int4 g${GS}): RTN ${sum.rtn.toExponential(4)}, GPTQ ${sum.gptq.toExponential(4)}, AWQ ${sum.awq.toExponential(4)}`);
    expect(sum.gptq).toBeLessThan(sum.rtn);
    expect(sum.awq).toBeLessThan(sum.rtn);
  });

  it('beat round-to-nearest int4 in held-out perplexity, and a GPTQ checkpoint round-trips (PyTorch checks HF\'s dequant formula)', async () => {
    const { model, tokenizer, calibration, heldOut, trainSeconds, finalLoss } = setup;
    const calibrationOpts = { tokenizer, texts: calibration, seqLen: 64, maxSamples: 32 };
    const fp = perplexity(model, heldOut);
    const rtn = perplexity(rtnModel(model), heldOut);
    const g = cloneModel(model);
    const report = gptqQuantizeModel(g, { groupSize: GS, actOrder: true, calibration: calibrationOpts });
    const gptq = perplexity(g, heldOut);
    const a = cloneModel(model);
    const ar = awqQuantizeModel(a, { groupSize: GS, calibration: calibrationOpts });
    const awq = perplexity(a, heldOut);
    console.log(`tiny GPT-2 (2 layers, C 64, trained ${trainSeconds.toFixed(1)} s, final loss ${finalLoss.toFixed(3)}), held-out perplexity: fp32 ${fp.toFixed(4)}, RTN int4-g${GS} ${rtn.toFixed(4)}, GPTQ-4bit-g${GS} (act-order) ${gptq.toFixed(4)}, AWQ-4bit-g${GS} ${awq.toFixed(4)}; AWQ α per group ${ar.groups.map((x) => x.alpha).join(' ')}`);
    expect(gptq).toBeLessThan(rtn);
    expect(awq).toBeLessThan(rtn);
    expect(report.losses.size).toBe(8);

    // checkpoint: write, read back, same logits; HF's formula in PyTorch gives our dequantized weights
    const dir = mkdtempSync(join(tmpdir(), 'gptq-ckpt-'));
    dirs.push(dir);
    await saveGptqCheckpoint(g, dir, report.config);
    const back = await loadGptqCheckpoint(dir);
    const ids = tf.tensor2d([heldOut[0]!.slice(0, 16)], [1, 16], 'int32');
    const d = tf.tidy(() => g.forward(ids).sub(back.forward(ids)).abs().max().dataSync()[0]!);
    expect(d).toBe(0);
    ids.dispose();
    const expected: Record<string, { shape: number[]; weight: number[] }> = {};
    for (const name of blockLinears(g)) {
      const m = g.getModule(name) as GptqLinear;
      expected[name] = { shape: [m.inFeatures, m.outFeatures], weight: Array.from(m.dequantize()) };
    }
    writeFileSync(join(dir, 'expected.json'), JSON.stringify(expected));
    const script = fileURLToPath(new URL('../../fixtures/make_gptq_fixtures.py', import.meta.url));
    if (!existsSync('/usr/bin/python3') || !hasTorch()) {
      console.log('PyTorch not available: skipped the Python dequantization check');
      return;
    }
    const out = execFileSync('/usr/bin/python3', [script, '--check', dir, join(dir, 'expected.json')], { encoding: 'utf8' });
    const last = JSON.parse(out.trim().split('\n').pop()!) as { linears: number; maxAbsDiff: number };
    console.log(`PyTorch check of the written checkpoint: ${last.linears} linears, max |diff| ${last.maxAbsDiff}`);
    expect(last.linears).toBe(8);
    expect(last.maxAbsDiff).toBeLessThanOrEqual(1e-6);
  });
});

function hasTorch(): boolean {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import torch, numpy'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
