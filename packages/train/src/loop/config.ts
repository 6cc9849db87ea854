/**
 * The training-loop config: one object, defaults from nanoGPT, unknown keys rejected.
 *
 *   resolveTrainConfig({ maxIters: 2000, lr: 1e-3, minLr: 1e-4, warmupIters: 100, beta2: 0.99 })
 *   // → { …, lrDecayIters: 2000, weightDecay: 0.1, gradClip: 1, evalInterval: 250, evalIters: 20, … }
 */
import { TrainError } from '../errors.js';

export interface TrainConfig {
  /** Optimizer updates to run (in total, counting those before a resume). */
  maxIters: number;
  /** Micro-batches per update (gradients averaged). Default 1. */
  gradAccumSteps: number;
  lr: number;
  minLr: number;
  warmupIters: number;
  /** Cosine decay length (default maxIters). */
  lrDecayIters: number;
  /** false: constant lr after warmup. Default true. */
  decayLr: boolean;
  weightDecay: number;
  /** Which weights decay: 'linear-2d' (linear layers only) or 'all-2d' (nanoGPT, embeddings too). */
  decayRule: 'linear-2d' | 'all-2d';
  beta1: number;
  beta2: number;
  eps: number;
  /** Global-norm gradient clipping (0 = off). Default 1. */
  gradClip: number;
  /** Evaluate every n updates (0 = only at the end). Default 250. */
  evalInterval: number;
  /** Batches per loss estimate. Default 20. */
  evalIters: number;
  /** Also estimate the train loss at each eval (as nanoGPT). Default true. */
  evalTrain: boolean;
  /** Log a metrics line every n updates. Default 10. */
  logInterval: number;
  /** Stop after this many evals without a better val loss (0 = never). Default 0. */
  earlyStopPatience: number;
  /** Directory for metrics.jsonl, loss.svg, checkpoint/ and best/ (null: write nothing). */
  outDir: string | null;
  /** Save out/best when the val loss improves. Default true. */
  saveBest: boolean;
  /** Distillation (with a teacher): temperature T and weight alpha of the KL term. */
  distillTemperature: number;
  distillAlpha: number;
}

export const TRAIN_DEFAULTS: Omit<TrainConfig, 'maxIters' | 'lrDecayIters'> = {
  gradAccumSteps: 1,
  lr: 6e-4,
  minLr: 6e-5,
  warmupIters: 100,
  decayLr: true,
  weightDecay: 0.1,
  decayRule: 'linear-2d',
  beta1: 0.9,
  beta2: 0.95,
  eps: 1e-8,
  gradClip: 1,
  evalInterval: 250,
  evalIters: 20,
  evalTrain: true,
  logInterval: 10,
  earlyStopPatience: 0,
  outDir: null,
  saveBest: true,
  distillTemperature: 2,
  distillAlpha: 0.5,
};

export type TrainConfigInput = Partial<TrainConfig> & Pick<TrainConfig, 'maxIters'>;

const KEYS = [...Object.keys(TRAIN_DEFAULTS), 'maxIters', 'lrDecayIters'];

export function resolveTrainConfig(input: TrainConfigInput): TrainConfig {
  const unknown = Object.keys(input).filter((k) => !KEYS.includes(k));
  if (unknown.length) throw new TrainError('CONFIG_UNKNOWN_KEY', `training config: unknown key${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')}; valid keys are ${KEYS.join(', ')}.`);
  const c = { ...TRAIN_DEFAULTS, lrDecayIters: input.maxIters, ...input } as TrainConfig;
  const fail = (k: string, want: string) => {
    throw new TrainError('CONFIG_INVALID', `training config: ${k} must be ${want}, got ${JSON.stringify((c as unknown as Record<string, unknown>)[k])}.`);
  };
  const int = (k: keyof TrainConfig, min: number) => {
    const v = c[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) fail(k, `an integer ≥ ${min}`);
  };
  const num = (k: keyof TrainConfig, lo: number, hi: number) => {
    const v = c[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi) fail(k, `a number in [${lo}, ${hi}]`);
  };
  int('maxIters', 1);
  int('gradAccumSteps', 1);
  num('lr', 0, 10);
  num('minLr', 0, 10);
  int('warmupIters', 0);
  int('lrDecayIters', 0);
  num('weightDecay', 0, 10);
  num('beta1', 0, 0.999999);
  num('beta2', 0, 0.999999);
  num('eps', 1e-20, 1);
  num('gradClip', 0, 1e9);
  int('evalInterval', 0);
  int('evalIters', 1);
  int('logInterval', 1);
  int('earlyStopPatience', 0);
  num('distillTemperature', 1e-3, 1e3);
  num('distillAlpha', 0, 1);
  for (const k of ['decayLr', 'evalTrain', 'saveBest'] as const) if (typeof c[k] !== 'boolean') fail(k, 'true or false');
  if (c.decayRule !== 'linear-2d' && c.decayRule !== 'all-2d') fail('decayRule', '"linear-2d" or "all-2d"');
  if (c.outDir !== null && typeof c.outDir !== 'string') fail('outDir', 'a path or null');
  if (c.minLr > c.lr) fail('minLr', `≤ lr (${c.lr})`);
  return c;
}
