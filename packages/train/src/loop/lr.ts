/**
 * The learning rate of a step under the config's schedule (linear warmup, then cosine decay to minLr, or constant).
 *
 *   learningRate(cfg, step);   // cosineLr(step, { lr, minLr, warmupIters, decayIters: lrDecayIters, decay: decayLr })
 */
import { cosineLr } from '../optim/schedule.js';
import type { TrainConfig } from './config.js';

export function learningRate(cfg: TrainConfig, step: number): number {
  return cosineLr(step, { lr: cfg.lr, minLr: cfg.minLr, warmupIters: cfg.warmupIters, decayIters: cfg.lrDecayIters, decay: cfg.decayLr });
}
