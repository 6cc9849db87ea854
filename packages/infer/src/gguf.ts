/**
 * loadGgufForInference: a llama.cpp GGUF (gpt2 or llama architecture, Mixtral-style MoE included)
 * run as-is: the big matrices keep their ggml blocks (F32, F16, Q4_0, Q4_1, Q8_0, Q4_K, Q6_K) and
 * only embeddings, norms, biases and routers are decoded to f32. llama.cpp's llama rotates
 * adjacent pairs and our engine (like HF) rotates halves, so attn_q / attn_k rows are permuted
 * back per head — whole quantized rows move, nothing is re-quantized. A tied head runs on
 * token_embd's own blocks.
 *
 *   const engine = await loadGgufForInference('stories260K-q8_0.gguf', { maxTokens: 4096 });
 *   const [logits] = engine.step([{ seq: engine.newSequence(), tokens: [1] }]);
 *
 * Dimension legend: V vocab, C width, H heads, K kv heads, D head dim, I MLP width, E experts.
 */
import { configFromGguf, dequantizeRow, parseGguf, readGguf, tensorBytes, tensorData, type GgufFile, type GgufTensorInfo } from '@llm/quant';
import type { ModelConfig } from '@llm/transformer';
import { InferError } from './errors.js';
import { KERNEL_FORMATS, formatInfo } from './kernels/format.js';
import { buildEngine, type EngineOptions } from './engine/build.js';
import type { InferenceModel } from './engine/model.js';
import type { LayerSource, LinearSource, MlpSource, ModelSource, NormSource } from './engine/source.js';

/** ggml types the engine's matmul runs. */
const RUNNABLE = new Set(KERNEL_FORMATS.map((f) => formatInfo(f).id));
const RUNNABLE_NAMES = KERNEL_FORMATS.map((f) => f.toUpperCase()).join(', ');

const bad = (msg: string): InferError => new InferError('BAD_WEIGHTS', `GGUF: ${msg}`);

/** Reads (path) or parses (bytes) a GGUF and packs it; QuantError of a broken file → InferError BAD_WEIGHTS. */
export async function loadGgufForInference(pathOrBytes: string | Uint8Array, opts: EngineOptions = {}): Promise<InferenceModel> {
  let g: GgufFile;
  let cfg: ModelConfig;
  try {
    g = typeof pathOrBytes === 'string' ? await readGguf(pathOrBytes) : parseGguf(pathOrBytes);
    cfg = configFromGguf(g);
  } catch (e) {
    if (e instanceof InferError) throw e;
    throw new InferError('BAD_WEIGHTS', `${(e as Error).message} — the file is not a complete GGUF this engine can run; re-download or re-export it (llm-quant export-gguf).`);
  }
  return buildEngine(ggufSource(g, cfg), { ...opts, weightsLabel: 'gguf' }, cfg);
}

/** The ModelSource of a parsed GGUF (exported for tests). */
export function ggufSource(g: GgufFile, cfg: ModelConfig): ModelSource {
  const byName = new Map(g.tensors.map((t) => [t.name, t]));
  const { vocabSize: V, nEmbd: C, nHead: H, nKvHead: K, headDim: D, intermediateSize: I, blockSize: P, nLayer: L, nExperts: E } = cfg;
  const info = (name: string, shape: number[]): GgufTensorInfo => {
    const t = byName.get(name);
    if (!t) throw bad(`tensor ${name} is missing.`);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) throw bad(`tensor ${name} has shape [${t.shape.join(', ')}], the config implies [${shape.join(', ')}].`);
    const n = shape.reduce((a, b) => a * b, 1);
    let need: number;
    try {
      need = tensorBytes(t.type, n);
    } catch {
      throw new InferError('UNSUPPORTED_FORMAT', `GGUF: tensor ${name} has ggml type ${t.type}, which this engine does not run; re-quantize the file to one of ${RUNNABLE_NAMES}.`);
    }
    const data = tensorData(g, t);
    if (data.byteLength < need) throw bad(`tensor ${name} needs ${need} bytes, the file has ${data.byteLength} (truncated file?).`);
    return t;
  };
  const f32 = (name: string, shape: number[]): Float32Array => {
    const t = info(name, shape);
    return dequantizeRow(t.type, tensorData(g, t), shape.reduce((a, b) => a * b, 1));
  };
  const opt32 = (name: string, shape: number[]): Float32Array | null => (byName.has(name) ? f32(name, shape) : null);
  const rowsOf = (name: string, shape: number[]): { fmt: number; data: Uint8Array; rowBytes: number } => {
    const t = info(name, shape);
    if (!RUNNABLE.has(t.type)) throw new InferError('UNSUPPORTED_FORMAT', `GGUF: ${name} is ggml type ${t.type}; the engine runs ${RUNNABLE_NAMES} — re-quantize the file to one of them.`);
    return { fmt: t.type, data: tensorData(g, t), rowBytes: tensorBytes(t.type, shape[shape.length - 1]!) };
  };
  /** Rows [r0, r1) of a [rows, cols] matrix ([stacked, rows, cols] for MoE experts: r counts over all), optionally reordered (new row i = old row r0 + order[i]); bias is those rows' bias. */
  const lin = (name: string, rows: number, cols: number, r0 = 0, r1 = rows, bias: Float32Array | null = null, order?: number[], stacked?: number): LinearSource => {
    const { fmt, data, rowBytes } = rowsOf(name, stacked ? [stacked, rows, cols] : [rows, cols]);
    const n = r1 - r0;
    const out = new Uint8Array(n * rowBytes);
    for (let i = 0; i < n; i++) {
      const src = r0 + (order ? order[i]! : i);
      out.set(data.subarray(src * rowBytes, (src + 1) * rowBytes), i * rowBytes);
    }
    return { fmt, rows: n, cols, data: out, bias: bias ? bias.slice(0, n) : null };
  };
  /** llama.cpp pair order → HF halves: new row h·D + j·D/2 + i = old row h·D + 2i + j. */
  const unpermute = (heads: number): number[] => {
    const order = new Array<number>(heads * D);
    for (let h = 0; h < heads; h++) for (let i = 0; i < D / 2; i++) for (let j = 0; j < 2; j++) order[h * D + j * (D / 2) + i] = h * D + 2 * i + j;
    return order;
  };
  const norm = (name: string): NormSource => ({ weight: f32(`${name}.weight`, [C]), bias: opt32(`${name}.bias`, [C]) });
  const gpt2 = cfg.family === 'gpt2';
  const layers: LayerSource[] = [];
  for (let l = 0; l < L; l++) {
    const b = `blk.${l}`;
    let q: LinearSource, k: LinearSource, v: LinearSource, o: LinearSource;
    let mlp: MlpSource | null = null;
    let router: Float32Array | null = null;
    const experts: MlpSource[] = [];
    if (gpt2) {
      const qkvB = f32(`${b}.attn_qkv.bias`, [3 * C]);
      q = lin(`${b}.attn_qkv.weight`, 3 * C, C, 0, C, qkvB.subarray(0, C));
      k = lin(`${b}.attn_qkv.weight`, 3 * C, C, C, 2 * C, qkvB.subarray(C, 2 * C));
      v = lin(`${b}.attn_qkv.weight`, 3 * C, C, 2 * C, 3 * C, qkvB.subarray(2 * C));
      o = lin(`${b}.attn_output.weight`, C, C, 0, C, f32(`${b}.attn_output.bias`, [C]));
      mlp = { gate: null, up: lin(`${b}.ffn_up.weight`, I, C, 0, I, f32(`${b}.ffn_up.bias`, [I])), down: lin(`${b}.ffn_down.weight`, C, I, 0, C, f32(`${b}.ffn_down.bias`, [C])) };
    } else {
      q = lin(`${b}.attn_q.weight`, H * D, C, 0, H * D, null, unpermute(H));
      k = lin(`${b}.attn_k.weight`, K * D, C, 0, K * D, null, unpermute(K));
      v = lin(`${b}.attn_v.weight`, K * D, C);
      o = lin(`${b}.attn_output.weight`, C, H * D);
      if (E > 0) {
        router = f32(`${b}.ffn_gate_inp.weight`, [E, C]);
        for (let e = 0; e < E; e++) {
          experts.push({
            gate: lin(`${b}.ffn_gate_exps.weight`, I, C, e * I, (e + 1) * I, null, undefined, E),
            up: lin(`${b}.ffn_up_exps.weight`, I, C, e * I, (e + 1) * I, null, undefined, E),
            down: lin(`${b}.ffn_down_exps.weight`, C, I, e * C, (e + 1) * C, null, undefined, E),
          });
        }
      } else {
        mlp = { gate: lin(`${b}.ffn_gate.weight`, I, C), up: lin(`${b}.ffn_up.weight`, I, C), down: lin(`${b}.ffn_down.weight`, C, I) };
      }
    }
    layers.push({ ln1: norm(`${b}.attn_norm`), q, k, v, o, ln2: norm(`${b}.ffn_norm`), mlp, router, experts });
  }
  const tied = !byName.has('output.weight');
  const embT = info('token_embd.weight', [V, C]);
  const head = tied ? (RUNNABLE.has(embT.type) ? lin('token_embd.weight', V, C) : null) : lin('output.weight', V, C);
  return {
    config: cfg,
    embed: f32('token_embd.weight', [V, C]),
    positions: gpt2 ? f32('position_embd.weight', [P, C]) : null,
    layers,
    lnf: norm('output_norm'),
    head,
  };
}
