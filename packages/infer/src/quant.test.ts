// Quantized weights: the engine on ggml-format linears = the engine on the same weights
// dequantized to f32 (quantizeRow → dequantizeRow, @llm/quant), within 1e-4 — so the block
// kernels compute exactly the dequantized product; and both are close to, not equal to, f32.
// Activations 'f32' throughout: the default ('auto') would quantize the inputs of the block
// formats' linears to Q8 (engine/q8.test.ts checks that path).
import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@llm/tensor-gpu';
import { dequantizeRow, quantizeRow } from '@llm/quant';
import { TransformerLM, type ModelConfigInput } from '@llm/transformer';
import { compileForInference, type WeightFormat } from './compile.js';
import { formatInfo } from './kernels/format.js';
import { CONFIGS, maxAbsDiff, randomIdRows, randomModel, useWasm } from './testing/helpers.js';

beforeAll(useWasm);

/** The model with every quantizable linear replaced by dequantize(quantize(W)) row by row. */
function roundTripped(model: TransformerLM, fmt: WeightFormat): TransformerLM {
  const type = formatInfo(fmt).id;
  const weights = new Map<string, tf.Tensor>();
  for (const [name, v] of model.namedParameters()) weights.set(name, v);
  const round = new Map<string, tf.Tensor>();
  for (const l of model.layout.linears) {
    if ((l.name === 'lm_head' && model.layout.tied) || /\.gate$/.test(l.name)) continue;
    const w = weights.get(`${l.name}.weight`)!.dataSync() as Float32Array;
    const rows = l.outFeatures;
    const cols = l.inFeatures;
    const outIn = new Float32Array(rows * cols);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) outIn[r * cols + c] = l.layout === 'out_in' ? w[r * cols + c]! : w[c * rows + r]!;
    for (let r = 0; r < rows; r++) outIn.set(dequantizeRow(type, quantizeRow(type, outIn.subarray(r * cols, (r + 1) * cols)), cols), r * cols);
    const back = new Float32Array(rows * cols);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) back[l.layout === 'out_in' ? r * cols + c : c * rows + r] = outIn[r * cols + c]!;
    round.set(`${l.name}.weight`, tf.tensor(back, l.layout === 'out_in' ? [rows, cols] : [cols, rows]));
  }
  const all = new Map([...weights, ...round]);
  const out = new TransformerLM(model.config, all);
  for (const t of round.values()) t.dispose();
  return out;
}

const cases: Array<[WeightFormat, ModelConfigInput]> = [
  ['q8_0', CONFIGS.llama],
  ['q4_0', CONFIGS.llama],
  ['q8_0', CONFIGS.gpt2],
  ['q4_0', CONFIGS.moe],
  ['q4_1', CONFIGS.gpt2],
  ['q5_0', CONFIGS.llama],
  ['f16', CONFIGS.llama],
  ['q4_k', { ...CONFIGS.llama, nEmbd: 256, nHead: 4, nKvHead: 2, intermediateSize: 256, nLayer: 1 }],
  ['q6_k', { ...CONFIGS.gpt2, nEmbd: 256, nHead: 4, nLayer: 1, tieWordEmbeddings: false }],
  ['q6_k', { ...CONFIGS.llama, nEmbd: 256, nHead: 4, nKvHead: 2, intermediateSize: 256, nLayer: 1 }],
];

describe.each(cases)('%s weights', (fmt, cfg) => {
  it(`= the engine on dequantized f32 weights (${cfg.family}${cfg.nExperts ? ' MoE' : ''}), prefill + decode`, () => {
    const model = randomModel(cfg);
    const deq = roundTripped(model, fmt);
    const q = compileForInference(model, { weights: fmt, maxTokens: 128, activations: 'f32' });
    expect(q.activations).toBe('f32');
    const f = compileForInference(deq, { weights: 'f32', maxTokens: 128 });
    const exact = compileForInference(model, { maxTokens: 128 });
    expect(q.weightBytes).toBeLessThan(exact.weightBytes);
    const [p] = randomIdRows(1, 11, cfg.vocabSize, 5) as [number[]];
    const run = (m: typeof q): Float32Array[] => {
      const s = m.newSequence();
      const out = m.step([{ seq: s, tokens: p.slice(0, 8) }], { allLogits: true });
      for (const t of p.slice(8)) out.push(...m.step([{ seq: s, tokens: [t] }]));
      s.free();
      return out;
    };
    const a = run(q);
    const b = run(f);
    const c = run(exact);
    const flat = (x: Float32Array[]) => Float32Array.from(x.flatMap((r) => Array.from(r)));
    expect(maxAbsDiff(flat(a), flat(b))).toBeLessThan(1e-4);
    expect(maxAbsDiff(flat(a), flat(c))).toBeGreaterThan(1e-4); // quantization did change the weights
    for (const m of [q, f, exact, model, deq]) m.dispose();
  });
});
