/**
 * Measure this machine: a short run of the real training loop (`train`, AdamW, clipping, the
 * model's own forward/backward) on random tokens, timed after a few warm-up steps (kernel
 * compilation, first allocations, optimizer state) as the median step time; and the engine's peak bytes during a training
 * step (tf.profile over two steps, so AdamW's moments exist while the second step's backward runs).
 *
 *   const p = await probeThroughput(model, { batchSize: 12 });   // 5 warm-up + 10 timed steps
 *   p.tokensPerSec   // e.g. 1,520 (= batch · blockSize / the median step time after warm-up)
 */
import { tf } from '@llm/tensor-gpu';
import { TrainError } from '../errors.js';
import { TokenShard } from '../data/shard.js';
import { WindowSampler } from '../data/batches.js';
import { train } from '../loop/train.js';
import type { TrainableModel } from '../loop/model.js';

export interface ProbeOptions {
  batchSize: number;
  /** Timed steps (their median time counts). Default 10. */
  steps?: number;
  /** Untimed steps first (V8 and wasm tier up over the first few). Default 5. */
  warmup?: number;
  /** Seed of the random tokens. Default 1. */
  seed?: number;
}

export interface ProbeResult {
  tokensPerSec: number;
  msPerStep: number;
  /** Steps timed. */
  steps: number;
  /** Tokens per step (batch · blockSize). */
  tokensPerStep: number;
}

/** Random token windows for the model's vocabulary and context. */
function randomSampler(model: TrainableModel, batchSize: number, seed: number): WindowSampler {
  const { vocabSize, blockSize } = model.config;
  const n = Math.max(4 * (blockSize + 1), 4096);
  let x = seed >>> 0 || 1;
  const ids = Array.from({ length: n }, () => ((x = (Math.imul(x, 1664525) + 1013904223) >>> 0), x % vocabSize));
  const shard = TokenShard.fromIds(ids, { vocabSize, tokenizer: { name: 'probe', hash: 'probe' }, documents: 1, sources: [] });
  return new WindowSampler({ shard, start: 0, end: n }, { batchSize, blockSize, seed });
}

/** Training throughput of `model` at `batchSize` through the real loop (the model's weights change: probe a copy or a fresh model). */
export async function probeThroughput(model: TrainableModel, opts: ProbeOptions): Promise<ProbeResult> {
  const steps = opts.steps ?? 10;
  const warmup = opts.warmup ?? 5;
  if (!Number.isInteger(steps) || steps < 1) throw new TrainError('INVALID_ARGUMENT', `probe steps must be an integer ≥ 1, got ${steps}`);
  if (!Number.isInteger(warmup) || warmup < 1) throw new TrainError('INVALID_ARGUMENT', `probe warmup must be an integer ≥ 1, got ${warmup}`);
  const at: number[] = [];
  await train(model, { train: randomSampler(model, opts.batchSize, opts.seed ?? 1) }, { maxIters: warmup + steps, warmupIters: 0, evalInterval: 0, logInterval: 1_000_000, outDir: null }, { onStep: (s) => void at.push(s.elapsedMs) });
  // the median step time: a probe is short, and on a shared machine one slow step would skew a mean
  const per = Array.from({ length: steps }, (_, i) => at[warmup + i]! - at[warmup + i - 1]!).sort((a, b) => a - b);
  const ms = steps % 2 ? per[(steps - 1) / 2]! : (per[steps / 2 - 1]! + per[steps / 2]!) / 2;
  const tokensPerStep = opts.batchSize * model.config.blockSize;
  return { tokensPerSec: (tokensPerStep * 1000) / ms, msPerStep: ms, steps, tokensPerStep };
}

/**
 * Peak bytes the tfjs engine held during two training steps at `batchSize` (weights included), and
 * the bytes held before (weights and whatever else was live).
 */
export async function measureTrainingPeak(model: TrainableModel, batchSize: number): Promise<{ peakBytes: number; startBytes: number }> {
  const startBytes = tf.memory().numBytes;
  const info = await tf.profile(async () => {
    await train(model, { train: randomSampler(model, batchSize, 1) }, { maxIters: 2, warmupIters: 0, evalInterval: 0, logInterval: 1_000_000, outDir: null });
    return tf.scalar(0);
  });
  tf.dispose(info.result as tf.Tensor);
  return { peakBytes: info.peakBytes, startBytes };
}
