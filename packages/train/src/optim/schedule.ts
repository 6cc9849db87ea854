/**
 * Learning-rate schedule: linear warmup, then cosine decay to minLr (nanoGPT's get_lr).
 *
 *   lr(it) = lr · (it + 1) / (warmup + 1)                         it < warmup
 *          = minLr                                                it > decayIters
 *          = minLr + ½ (1 + cos(π · (it − warmup)/(decayIters − warmup))) · (lr − minLr)   otherwise
 *
 *   cosineLr(0,   { lr: 1e-3, minLr: 1e-4, warmupIters: 100, decayIters: 2000 });  // 9.9e-6
 *   cosineLr(100, …) // 1e-3;   cosineLr(1050, …) // 5.5e-4;   cosineLr(2000, …) // 1e-4
 */
export interface LrSchedule {
  lr: number;
  minLr: number;
  warmupIters: number;
  decayIters: number;
  /** false: constant lr after warmup (nanoGPT's decay_lr = False). Default true. */
  decay?: boolean;
}

export function cosineLr(it: number, s: LrSchedule): number {
  if (it < s.warmupIters) return (s.lr * (it + 1)) / (s.warmupIters + 1);
  if (s.decay === false) return s.lr;
  if (it > s.decayIters) return s.minLr;
  const ratio = (it - s.warmupIters) / Math.max(1, s.decayIters - s.warmupIters);
  return s.minLr + 0.5 * (1 + Math.cos(Math.PI * ratio)) * (s.lr - s.minLr);
}
