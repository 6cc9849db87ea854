// nanoGPT's CPU configuration for Tiny Shakespeare, shared by benchmarks/train/shakespeare.mjs and
// parallel.mjs (and the workers' setup module of trainParallel: `setup` below).
//
// Config (nanoGPT README's CPU command): n_layer 4, n_head 4, n_embd 128, block 64, batch 12, lr 1e-3,
// min_lr 1e-4, warmup 100, max_iters 2000, lr_decay_iters 2000, dropout 0, beta2 0.99, weight decay 0.1
// (nanoGPT decays every 2-D weight: decayRule all-2d), grad clip 1.0, bias False, exact-erf GELU
// (nn.GELU()), eval_iters 20, first 90% train / last 10% val.
import { TransformerLM } from '@llm/transformer';
import { TokenShard, splitTokens, WindowSampler } from '@llm/train';

export const BLOCK = 64;
export const BATCH = 12;
export const modelConfig = (vocabSize, seed = 1337) => ({ family: 'gpt2', vocabSize, nLayer: 4, nHead: 4, nEmbd: 128, blockSize: BLOCK, bias: false, dropout: 0, activation: 'gelu', seed });
export const CONFIG = { lr: 1e-3, minLr: 1e-4, warmupIters: 100, lrDecayIters: 2000, weightDecay: 0.1, decayRule: 'all-2d', beta1: 0.9, beta2: 0.99, gradClip: 1, evalIters: 20 };

/** Train / val / train-eval samplers of a shard (first 90% train) for a seed; `batchSize` per replica. */
export function samplers(shard, seed, batchSize = BATCH) {
  const { train: tr, val } = splitTokens(shard, 0.1);
  return {
    train: new WindowSampler(tr, { batchSize, blockSize: BLOCK, seed }),
    val: new WindowSampler(val, { batchSize: BATCH, blockSize: BLOCK, seed: seed + 1 }),
    trainEval: new WindowSampler(tr, { batchSize: BATCH, blockSize: BLOCK, seed: seed + 2 }),
  };
}

/**
 * trainParallel's setup module: each replica opens the shard and builds the same model and samplers.
 * args: { shard, model, batchSize, seed, evals } (evals: also val / train-eval samplers).
 */
export async function setup(args) {
  const shard = await TokenShard.open(args.shard);
  const s = samplers(shard, args.seed ?? 7, args.batchSize);
  return { model: new TransformerLM(args.model), data: args.evals ? s : { train: s.train } };
}
