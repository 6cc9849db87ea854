// AWQ's block objective (objective: 'block', the default; AutoAWQ _search_best_scale with
// module2inspect = the self-attention / the MLP): the α chosen for a folded group minimises the
// sub-block output MSE over the grid, recomputed here independently — the candidate's effective
// weight built by hand and put into the model as a float Linear, full unbatched forwards of every
// calibration sequence, the sub-block output read by a pass-through tap.
import { beforeAll, describe, expect, it } from 'vitest';
import { tf, initBackend, Rng } from '@llm/tensor-gpu';
import { Linear, TransformerLM, type LinearModule, type ModelConfigInput } from '@llm/transformer';
import { quantizeInt4 } from '../quantizers/index.js';
import { awqQuantizeModel, type AwqGroupResult } from './awq.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm', log: false });
});

const ids = (seed: number, n: number, T: number, V: number) => {
  const r = new Rng(seed);
  return Array.from({ length: n }, () => Array.from({ length: T }, () => Math.floor(r.next() * V)));
};

/** Passes x through `base` and shows (x, y) to `fn`: the forward runs to the end. */
class Tap implements LinearModule {
  readonly inFeatures: number;
  readonly outFeatures: number;
  constructor(readonly base: LinearModule, private readonly fn: (x: Float32Array, y: Float32Array) => void) {
    this.inFeatures = base.inFeatures;
    this.outFeatures = base.outFeatures;
  }
  apply(x: tf.Tensor): tf.Tensor {
    const y = this.base.apply(x);
    this.fn(x.dataSync() as Float32Array, y.dataSync() as Float32Array);
    return y;
  }
  namedParameters(): Array<[string, tf.Variable]> {
    return this.base.namedParameters();
  }
}

/** Run each sequence alone (B = 1, full forward) with a tap on `name`. */
function tapRun(m: TransformerLM, name: string, seqs: number[][], fn: (x: Float32Array, y: Float32Array) => void): void {
  const old = m.replaceModule(name, new Tap(m.getModule(name), fn));
  try {
    for (const q of seqs) {
      const x = tf.tensor2d(q, [1, q.length], 'int32');
      const out = m.run(x, { logits: false });
      tf.dispose([x, out.hidden]);
    }
  } finally {
    m.replaceModule(name, old);
  }
}

/** A float Linear's weight as [out, in] (either layout) and its bias. */
function weightOf(l: Linear): { W: Float32Array; bias: Float32Array | null; out: number; inF: number } {
  const w = l.weight.dataSync() as Float32Array;
  const [out, inF] = [l.outFeatures, l.inFeatures];
  const W = new Float32Array(out * inF);
  for (let o = 0; o < out; o++) for (let i = 0; i < inF; i++) W[o * inF + i] = l.layout === 'in_out' ? w[i * out + o]! : w[o * inF + i]!;
  return { W, bias: l.bias ? Float32Array.from(l.bias.dataSync()) : null, out, inF };
}

/**
 * The block-output MSE of every candidate of the grid (index 0: s = 1, RTN; index k + 1: α = k/20,
 * duo scaling), for the group `names` of the model as it stands (float linears), the sub-block
 * output read at `outName`'s output.
 */
function referenceBlockLosses(m: TransformerLM, names: string[], outName: string, seqs: number[][], gs: number): number[] {
  const lin = names.map((n) => weightOf(m.getModule(n) as Linear));
  const inF = lin[0]!.inF;
  // s_x: mean |x| per input channel over every calibration token
  const sx = new Float64Array(inF);
  let tokens = 0;
  tapRun(m, names[0]!, seqs, (x) => {
    for (let k = 0; k < x.length; k++) sx[k % inF]! += Math.abs(x[k]!);
    tokens += x.length / inF;
  });
  for (let i = 0; i < inF; i++) sx[i]! /= tokens;
  // AutoAWQ w_mean: |W| / (its group's max |W| + 1e-6), averaged over all the group's rows
  const wMean = new Float64Array(inF);
  let rows = 0;
  for (const { W, out } of lin) {
    for (let o = 0; o < out; o++) {
      for (let g0 = 0; g0 < inF; g0 += gs) {
        const cols = Array.from({ length: Math.min(gs, inF - g0) }, (_, j) => g0 + j);
        const amax = Math.max(...cols.map((i) => Math.abs(W[o * inF + i]!)));
        for (const i of cols) wMean[i]! += Math.abs(W[o * inF + i]!) / (amax + 1e-6);
      }
    }
    rows += out;
  }
  for (let i = 0; i < inF; i++) wMean[i]! /= rows;
  const blockOut = () => {
    const ys: Float32Array[] = [];
    tapRun(m, outName, seqs, (_x, y) => ys.push(Float32Array.from(y)));
    return ys;
  };
  const ref = blockOut();
  const losses: number[] = [];
  for (let k = -1; k < 20; k++) {
    let s = new Float32Array(inF).fill(1);
    if (k >= 0) {
      const a = k / 20;
      const raw = Array.from(sx, (v, i) => Math.max(v ** a / (wMean[i]! ** (1 - a) + 1e-4), 1e-4));
      const norm = Math.sqrt(Math.max(...raw) * Math.min(...raw));
      s = Float32Array.from(raw, (v) => v / norm);
    }
    // W_eff = Q(W·diag(s))·diag(1/s), put in as an in_out float Linear
    const mods = lin.map(({ W, bias, out }) => {
      const Ws = Float32Array.from(W, (w, j) => w * s[j % inF]!);
      const Q = quantizeInt4({ data: Ws, shape: [out, inF] }, { groupSize: gs, symmetric: false }).dequantize();
      const WeffT = new Float32Array(inF * out);
      for (let o = 0; o < out; o++) for (let i = 0; i < inF; i++) WeffT[i * out + o] = Q[o * inF + i]! / s[i]!;
      const [w, b] = [tf.tensor2d(WeffT, [inF, out]), bias ? tf.tensor1d(bias) : null];
      const l = new Linear({ inFeatures: inF, outFeatures: out, layout: 'in_out', bias: b !== null, weight: w, ...(b ? { biasValue: b } : {}) });
      tf.dispose(b ? [w, b] : [w]);
      return l;
    });
    const old = names.map((n, j) => m.replaceModule(n, mods[j]!));
    const ys = blockOut();
    names.forEach((n, j) => m.replaceModule(n, old[j]!));
    mods.forEach((l) => tf.dispose(l.namedParameters().map(([, v]) => v)));
    let sum = 0;
    let c = 0;
    ys.forEach((y, q) => y.forEach((v, j) => {
      sum += (v - ref[q]![j]!) ** 2;
      c++;
    }));
    losses.push(sum / c);
  }
  return losses;
}

/** The chosen candidate's index in referenceBlockLosses (α = 0 is the RTN or the α = 0 candidate, whichever matches the reported loss). */
function chosenIndex(g: AwqGroupResult, losses: number[]): number {
  if (g.alpha > 0) return Math.round(g.alpha * 20) + 1;
  return Math.abs(losses[0]! - g.loss) <= Math.abs(losses[1]! - g.loss) ? 0 : 1;
}

function checkGroup(g: AwqGroupResult, losses: number[], label: string): void {
  const min = Math.min(...losses);
  const i = chosenIndex(g, losses);
  const sorted = [...losses].sort((a, b) => a - b);
  console.log(`${label}: α ${g.alpha.toFixed(2)}${i === 0 ? ' (s = 1)' : ''}, block MSE reported ${g.loss.toExponential(5)}, recomputed ${losses[i]!.toExponential(5)}; grid min ${min.toExponential(5)}, runner-up ${sorted[1]!.toExponential(5)}, RTN ${losses[0]!.toExponential(5)}`);
  expect(g.objective).toBe('block');
  expect(losses[i]!).toBeLessThanOrEqual(min * (1 + 1e-4)); // the argmin over the grid (up to float noise)
  expect(Math.abs(g.loss - losses[i]!) / losses[i]!).toBeLessThan(1e-3); // the same quantity as recomputed
  expect(Math.abs(g.rtnLoss - losses[0]!) / losses[0]!).toBeLessThan(1e-3);
  expect(g.loss).toBeLessThanOrEqual(g.rtnLoss);
}

/**
 * The model as awqQuantizeModel saw it when it searched group `at` of layer 0 (the group's norm
 * unfolded, the group's linears and its sub-block output projection float, all earlier groups as
 * quantized): the quantized model `q` with those put back from the float model `fp`.
 */
function stateAt(q: TransformerLM, fp: TransformerLM, norm: string, names: string[], outName: string): void {
  const params = new Set(q.namedParameters().map(([n]) => n));
  for (const sfx of ['weight', 'bias']) if (params.has(`${norm}.${sfx}`)) q.param(`${norm}.${sfx}`).assign(fp.param(`${norm}.${sfx}`));
  for (const n of [...names, outName]) q.replaceModule(n, fp.getModule(n));
}

describe("AWQ objective: 'block' (default)", () => {
  for (const family of ['gpt2', 'llama'] as const) {
    it(`${family}: the chosen α of attn_in and mlp_in minimises the sub-block output MSE over the grid (recomputed by full forwards)`, () => {
      const cfg: ModelConfigInput = family === 'gpt2'
        ? { family, vocabSize: 96, nLayer: 1, nHead: 4, nEmbd: 64, blockSize: 32, seed: 21 }
        : { family, vocabSize: 96, nLayer: 1, nHead: 4, nKvHead: 2, nEmbd: 64, intermediateSize: 128, blockSize: 32, seed: 21 };
      const gs = 32;
      const cal = ids(6, 8, 32, 96);
      const fp = new TransformerLM(cfg);
      const m = new TransformerLM(cfg);
      const rep = awqQuantizeModel(m, { groupSize: gs, calibration: { ids: cal } }); // objective 'block', clip on
      expect(rep.groups.map((g) => g.objective)).toEqual(['block', 'linear', 'block', 'linear']);
      const [attn, mlp] = family === 'gpt2'
        ? [{ names: ['transformer.h.0.attn.c_attn'], out: 'transformer.h.0.attn.c_proj', norm: 'transformer.h.0.ln_1' }, { names: ['transformer.h.0.mlp.c_fc'], out: 'transformer.h.0.mlp.c_proj', norm: 'transformer.h.0.ln_2' }]
        : [
            { names: ['q_proj', 'k_proj', 'v_proj'].map((n) => `model.layers.0.self_attn.${n}`), out: 'model.layers.0.self_attn.o_proj', norm: 'model.layers.0.input_layernorm' },
            { names: ['gate_proj', 'up_proj'].map((n) => `model.layers.0.mlp.${n}`), out: 'model.layers.0.mlp.down_proj', norm: 'model.layers.0.post_attention_layernorm' },
          ];
      // attn_in of layer 0: nothing before it is quantized, so the float model is its state
      checkGroup(rep.groups[0]!, referenceBlockLosses(fp, attn.names, attn.out, cal, gs), `${family} attn_in`);
      // mlp_in of layer 0: the quantized attention (qkv folded into the first norm, out-projection clipped), the MLP float
      stateAt(m, fp, mlp.norm, mlp.names, mlp.out);
      checkGroup(rep.groups[2]!, referenceBlockLosses(m, mlp.names, mlp.out, cal, gs), `${family} mlp_in`);
      fp.dispose();
    });
  }

  it("objective: 'linear' scores every group by its own outputs; an unknown objective is rejected", () => {
    const cfg: ModelConfigInput = { family: 'gpt2', vocabSize: 96, nLayer: 1, nHead: 4, nEmbd: 64, blockSize: 32, seed: 21 };
    const cal = ids(6, 8, 32, 96);
    const [a, b] = [new TransformerLM(cfg), new TransformerLM(cfg)];
    const ra = awqQuantizeModel(a, { groupSize: 32, calibration: { ids: cal }, objective: 'linear' });
    const rb = awqQuantizeModel(b, { groupSize: 32, calibration: { ids: cal } });
    expect(ra.groups.map((g) => g.objective)).toEqual(['linear', 'linear', 'linear', 'linear']);
    console.log(`gpt2 1×64 g32: α linear ${ra.groups.map((g) => g.alpha.toFixed(2)).join(' ')} | block ${rb.groups.map((g) => g.alpha.toFixed(2)).join(' ')}`);
    expect(() => awqQuantizeModel(new TransformerLM(cfg), { groupSize: 32, calibration: { ids: cal }, objective: 'layer' as never })).toThrow(/objective/);
    a.dispose();
    b.dispose();
  });
});
