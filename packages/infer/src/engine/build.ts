/**
 * From a ModelSource to a running InferenceModel: checks the options, creates the shared memory,
 * instantiates the wasm module on it and packs the weights, the KV pool and the scratch.
 *
 *   const engine = buildEngine(source, { maxTokens: 2048, blockTokens: 16 }, source.config);
 */
import { availableParallelism } from 'node:os';
import type { ModelConfig, ModelGenerationConfig } from '@llm/transformer';
import { InferError } from '../errors.js';
import { createMemory, engineModule, instantiate } from '../wasm/module.js';
import { WorkerPool } from './workers.js';
import { Arena } from './arena.js';
import { InferenceModel } from './model.js';
import { packModel } from './pack.js';
import type { ModelSource } from './source.js';

export interface EngineOptions {
  /**
   * KV pool capacity in positions over all sequences, rounded up to whole blocks. Default: room for
   * four full-length sequences, 4 · ⌈blockSize / blockTokens⌉ blocks (each sequence's partial last
   * block counted whole: blockSize 7, blockTokens 16 → 4 blocks, not ⌈28/16⌉ = 2).
   */
  maxTokens?: number;
  /** Positions per KV block (default 16). */
  blockTokens?: number;
  /** Tokens per wasm call; longer inputs are chunked (default 64). */
  maxBatchTokens?: number;
  /**
   * Threads per step (the main one + threads − 1 workers on the same memory). Rows of every
   * product, tokens and attention heads are split; results are bit-identical to 1 thread.
   * 'auto' (default): autoThreads(bytes of the linear weights) — one thread below
   * AUTO_THREADS_MIN_BYTES (1 MiB), every core (at most 4) above.
   */
  threads?: number | 'auto';
  /**
   * What the linears multiply. 'auto' (default) and 'q8': as llama.cpp, a linear whose weights have
   * an integer-dot kernel quantizes its input as ggml does — Q8 (per 32 values an fp16 scale and
   * int8 levels) for q8_0 / q4_0 / q4_1 / q5_0 and @llm/quant's int8 / int4 / GPTQ / AWQ linears
   * (q8_f32 / q4_z), Q8_K (per 256 values an f32 scale, int8 levels and sums of 16) for q4_K / q6_K
   * — and runs integer dots; f32, f16 and NF4 linears keep f32 activations.
   * 'f32': every linear on f32 activations (weights dequantized in registers — the exact path).
   * `engine.activations` says which one runs.
   */
  activations?: 'auto' | 'f32' | 'q8';
}

const ACTIVATIONS = ['auto', 'f32', 'q8'];

const positiveInt = (name: string, v: unknown, max: number): number => {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1 || v > max) throw new InferError('INVALID_ARGUMENT', `${name} must be an integer in [1, ${max}], got ${String(v)}.`);
  return v;
};

/**
 * Below this many bytes of linear weights 'auto' uses one thread: a step then takes microseconds and
 * starting workers is not worth it. Above it, on a quiet 2-core machine, two threads beat one on
 * every model measured by benchmarks/inference/decode.mjs (stories260K through GPT-2-small shape,
 * f32 / q8_0 / q4_0: decode up to 1.9×, prefill up to 1.9×; README) — unlike llama.cpp, whose
 * second thread loses on small models there.
 */
export const AUTO_THREADS_MIN_BYTES = 2 ** 20;

/**
 * The thread count 'auto' picks for a model with `weightBytes` of linear weights: 1 below
 * AUTO_THREADS_MIN_BYTES, else every core (at most 4).
 *
 *   autoThreads(1e6);   // 1
 *   autoThreads(5e8);   // 2 on a 2-core machine
 */
export function autoThreads(weightBytes: number, cores = availableParallelism()): number {
  return weightBytes < AUTO_THREADS_MIN_BYTES ? 1 : Math.max(1, Math.min(4, cores));
}

/** Bytes of every linear's weights in a model source (the head included). */
function linearBytes(src: ModelSource): number {
  let n = src.head?.data.byteLength ?? src.embed.byteLength;
  for (const l of src.layers) {
    const mlps = l.mlp ? [l.mlp] : l.experts;
    for (const lin of [l.q, l.k, l.v, l.o, ...mlps.flatMap((m) => [m.gate, m.up, m.down])]) n += lin?.data.byteLength ?? 0;
  }
  return n;
}

export function buildEngine(src: ModelSource, opts: EngineOptions & { weightsLabel: string; generationConfig?: ModelGenerationConfig; fallbacks?: string[] }, cfg: ModelConfig): InferenceModel {
  if (cfg.family !== 'gpt2' && cfg.family !== 'llama') throw new InferError('UNSUPPORTED_MODEL', `model family "${String(cfg.family)}" is not supported; the engine runs gpt2 and llama (MoE included).`);
  if (cfg.family === 'llama' && cfg.headDim % 2 !== 0) throw new InferError('UNSUPPORTED_MODEL', `llama needs an even headDim for RoPE, got ${cfg.headDim}.`);
  const blockTokens = positiveInt('blockTokens', opts.blockTokens ?? 16, 4096);
  const maxTokens = opts.maxTokens === undefined ? undefined : positiveInt('maxTokens', opts.maxTokens, 2 ** 26);
  const maxN = positiveInt('maxBatchTokens', opts.maxBatchTokens ?? 64, 65536);
  const threads = opts.threads === undefined || opts.threads === 'auto' ? autoThreads(linearBytes(src)) : positiveInt('threads', opts.threads, 64);
  const act = opts.activations ?? 'auto';
  if (!ACTIVATIONS.includes(act)) throw new InferError('INVALID_ARGUMENT', `activations must be one of ${ACTIVATIONS.join(', ')}, got ${String(act)}.`);
  const blocks = maxTokens === undefined ? 4 * Math.ceil(cfg.blockSize / blockTokens) : Math.ceil(maxTokens / blockTokens);
  const arena = new Arena(createMemory(2));
  const wasm = instantiate(arena.memory);
  const packed = packModel(arena, src, { maxN, blockTokens, blocks, threads, activations: act === 'f32' ? 'f32' : 'q8' });
  const pool = threads > 1 ? new WorkerPool(engineModule(), arena.memory, threads) : null;
  return new InferenceModel({ config: cfg, generationConfig: opts.generationConfig ?? {}, weights: opts.weightsLabel, fallbacks: opts.fallbacks ?? [], arena, wasm, packed, pool });
}
