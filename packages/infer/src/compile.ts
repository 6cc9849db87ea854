/**
 * compileForInference: a TransformerLM (GPT-2, Llama, MoE; tied or untied head) packed into
 * WebAssembly memory as an InferenceModel. Linear weights are converted to the chosen ggml format
 * row by row (@llm/quant's quantizeRow); @llm/quant's quantized linears keep their own weights
 * (src/schemes); embeddings, norms, biases and MoE routers stay f32.
 *
 *   const engine = compileForInference(model, { weights: 'q8_0', maxTokens: 4096 });
 *   const logits = engine.forward(ids, { cache: engine.createCache(1, 64) }); // as model.forward
 *
 * Dimension legend: V vocab, C width, P positions, I MLP width, E experts.
 */
import { GGML_TYPE, quantizeRow, tensorBytes } from '@llm/quant';
import type { TransformerLM, ModelConfig } from '@llm/transformer';
import { InferError } from './errors.js';
import { formatInfo, type KernelFormat } from './kernels/format.js';
import { buildEngine, type EngineOptions } from './engine/build.js';
import type { InferenceModel } from './engine/model.js';
import type { LinearSource, MlpSource, ModelSource, NormSource } from './engine/source.js';
import { isQuantizedLinear, SchemeLinears } from './schemes/index.js';

/** A weight format of compileForInference = a format the kernels run (src/kernels/format.ts). */
export type WeightFormat = KernelFormat;

export interface CompileOptions extends EngineOptions {
  /** Format of the linear weights (default 'f32'). */
  weights?: WeightFormat;
}

interface LinearLike {
  inFeatures: number;
  outFeatures: number;
  layout?: 'in_out' | 'out_in';
  weight?: { dataSync(): unknown; shape: number[] };
  bias?: { dataSync(): unknown } | null;
}

/** Rows of a [out, in] f32 matrix in format `fmt` (f32: the bytes as they are). */
export function encodeRows(fmt: number, w: Float32Array, rows: number, cols: number): Uint8Array {
  if (fmt === GGML_TYPE.F32) return new Uint8Array(w.buffer.slice(w.byteOffset, w.byteOffset + w.byteLength));
  const rb = tensorBytes(fmt, cols);
  const out = new Uint8Array(rows * rb);
  for (let r = 0; r < rows; r++) out.set(quantizeRow(fmt, w.subarray(r * cols, (r + 1) * cols)), r * rb);
  return out;
}

/**
 * The format a linear with `cols` inputs gets: `weights`, or (as llama.cpp's quantize does) a
 * fallback when cols is not a whole number of blocks: k-quants → q8_0 (blocks of 32), then f16.
 * Each fallback is recorded as "name: from → to".
 *
 *   formatFor('q8_0', 172, 'down', log) // GGML_TYPE.F16, log = ['down: q8_0 → f16 (172 inputs)']
 */
export function formatFor(weights: WeightFormat, cols: number, name: string, fallbacks: string[]): number {
  const block = (f: WeightFormat) => formatInfo(f).blockSize;
  let w: WeightFormat = weights;
  if (cols % block(w) !== 0 && block(w) > 32) w = 'q8_0';
  if (cols % block(w) !== 0) w = 'f16';
  if (w !== weights) fallbacks.push(`${name}: ${weights} → ${w} (${cols} inputs, not a multiple of ${block(weights)})`);
  return formatInfo(w).id;
}

function sourceFromModel(model: TransformerLM, weights: WeightFormat, fallbacks: string[], schemes: SchemeLinears): ModelSource {
  const cfg = model.config;
  const f32 = (name: string): Float32Array => Float32Array.from(model.param(name).dataSync() as Float32Array);
  const lin = (name: string, rowsFrom = 0, rowsTo?: number, forceF32 = false): LinearSource => {
    const m = model.linear(name) as unknown as LinearLike;
    if (isQuantizedLinear(m)) return schemes.source(m, name, rowsFrom, rowsTo, forceF32); // @llm/quant's modules: src/schemes
    if (!forceF32) schemes.plain(weights);
    if (!m.weight || typeof m.weight.dataSync !== 'function' || (m.layout !== 'in_out' && m.layout !== 'out_in')) {
      throw new InferError('UNSUPPORTED_MODEL', `linear "${name}" is a ${(m as object).constructor?.name ?? 'custom module'}, not a plain Linear; merge adapters (e.g. LoRA merge) before compileForInference (@llm/quant's quantized linears run as they are).`);
    }
    const { inFeatures: cols, outFeatures: out } = m;
    const raw = m.weight.dataSync() as Float32Array;
    const to = rowsTo ?? out;
    const rows = to - rowsFrom;
    const w = new Float32Array(rows * cols); // [rows, cols]
    if (m.layout === 'out_in') w.set(raw.subarray(rowsFrom * cols, to * cols));
    else for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) w[r * cols + c] = raw[c * out + rowsFrom + r]!;
    const bias = m.bias ? Float32Array.from((m.bias.dataSync() as Float32Array).subarray(rowsFrom, to)) : null;
    const f = forceF32 ? GGML_TYPE.F32 : formatFor(weights, cols, name, fallbacks);
    return { fmt: f, rows, cols, data: encodeRows(f, w, rows, cols), bias };
  };
  const norm = (name: string): NormSource => ({ weight: f32(`${name}.weight`), bias: cfg.family === 'gpt2' && cfg.bias ? f32(`${name}.bias`) : null });
  const gpt2 = cfg.family === 'gpt2';
  const mlp = (p: string): MlpSource => (gpt2
    ? { gate: null, up: lin(`${p}.c_fc`), down: lin(`${p}.c_proj`) }
    : p.includes('.experts.')
      ? { gate: lin(`${p}.w1`), up: lin(`${p}.w3`), down: lin(`${p}.w2`) }
      : { gate: lin(`${p}.gate_proj`), up: lin(`${p}.up_proj`), down: lin(`${p}.down_proj`) });
  const C = cfg.nEmbd;
  const layers = Array.from({ length: cfg.nLayer }, (_, l) => {
    const p = gpt2 ? `transformer.h.${l}` : `model.layers.${l}`;
    const attn = gpt2
      ? { q: lin(`${p}.attn.c_attn`, 0, C), k: lin(`${p}.attn.c_attn`, C, 2 * C), v: lin(`${p}.attn.c_attn`, 2 * C, 3 * C), o: lin(`${p}.attn.c_proj`) }
      : { q: lin(`${p}.self_attn.q_proj`), k: lin(`${p}.self_attn.k_proj`), v: lin(`${p}.self_attn.v_proj`), o: lin(`${p}.self_attn.o_proj`) };
    const moe = cfg.nExperts > 0;
    const f = gpt2 || !moe ? `${p}.mlp` : `${p}.block_sparse_moe`;
    return {
      ln1: norm(gpt2 ? `${p}.ln_1` : `${p}.input_layernorm`),
      ...attn,
      ln2: norm(gpt2 ? `${p}.ln_2` : `${p}.post_attention_layernorm`),
      mlp: moe ? null : mlp(f),
      router: moe ? readF32(lin(`${f}.gate`, 0, undefined, true).data) : null,
      experts: moe ? Array.from({ length: cfg.nExperts }, (_, e) => mlp(`${f}.experts.${e}`)) : [],
    };
  });
  return {
    config: cfg,
    embed: f32(model.layout.embedName),
    positions: gpt2 ? f32('transformer.wpe.weight') : null,
    layers,
    lnf: norm(gpt2 ? 'transformer.ln_f' : 'model.norm'),
    head: model.layout.tied ? null : lin('lm_head'),
  };
}

function readF32(bytes: Uint8Array): Float32Array {
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

/**
 * Packs `model` for inference. A linear whose input width is not a whole number of the format's
 * blocks falls back (k-quants → q8_0 → f16; listed in `engine.fallbacks`). @llm/quant's quantized
 * linears (int8 / int4 / NF4 modules of quantizeModel or loadQuantizedModel, GptqLinear of GPTQ /
 * AWQ / loadGptqCheckpoint) run on their own weights in the engine's private block formats
 * (src/schemes; `opts.weights` applies to the plain linears only), or as exactly dequantized f32
 * rows where no block format holds them (listed in `engine.fallbacks`); `engine.weights` then
 * names what ran, e.g. 'nf4+f32'. Throws InferError UNSUPPORTED_FORMAT (unknown weights),
 * UNSUPPORTED_MODEL (any other replaced linear: LoRA, custom modules), OUT_OF_MEMORY (above 4 GiB).
 */
export function compileForInference(model: TransformerLM, opts: CompileOptions = {}): InferenceModel {
  const weights = opts.weights ?? 'f32';
  formatInfo(weights); // UNSUPPORTED_FORMAT for a name the kernels do not run
  const cfg: ModelConfig = model.config;
  const fallbacks: string[] = [];
  const schemes = new SchemeLinears(fallbacks);
  const src = sourceFromModel(model, weights, fallbacks, schemes);
  return buildEngine(src, { ...opts, weightsLabel: schemes.label(weights), generationConfig: model.generationConfig ?? {}, fallbacks }, cfg);
}
