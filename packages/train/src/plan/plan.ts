/**
 * A training plan from one of: a parameter count (→ 20·N tokens), a token count (→ D/20 params),
 * or a wall-clock budget (→ the tokens the model trains on in that time at the measured rate, and
 * the compute-optimal N and D for that many FLOPs). FLOPs are 6·N·D; time is FLOPs over the
 * measured training FLOP rate (6 · N_probe · tokens/s of the probe, so exact for the probed model
 * and an extrapolation at a constant FLOP rate for other sizes); memory is the model config's.
 *
 *   makePlan({ params: 1e6 })
 *   // → { params: 1e6, tokens: 2e7, flops: 1.2e14, tokensPerParam: 20, optimal: { params: 1e6, tokens: 2e7 } }
 *   makePlan({ minutes: 10, model: { config, batchSize: 12 }, probe: { tokensPerSec: 1500 } })
 *   // → tokens 900,000 for the config's N, steps 1,172, seconds 600, memory …
 */
import type { ModelConfig, ModelConfigInput } from '@llm/transformer';
import { TrainError } from '../errors.js';
import { chinchillaParams, chinchillaTokens, computeOptimal, trainingFlops } from './scaling.js';
import { trainingMemory, type TrainingMemory } from './memory.js';

export interface PlanInput {
  /** Exactly one of params, tokens, minutes. */
  params?: number;
  tokens?: number;
  minutes?: number;
  /** The model that is (or would be) trained: memory, steps, and the probe's model. */
  model?: { config: ModelConfigInput | ModelConfig; batchSize: number };
  /** Measured training throughput of `model` on this machine. */
  probe?: { tokensPerSec: number };
}

export interface Plan {
  params: number;
  tokens: number;
  flops: number;
  tokensPerParam: number;
  /** The compute-optimal model and data for `flops` (Chinchilla). */
  optimal: { params: number; tokens: number };
  /** For the model config: its memory at the batch size, and optimizer steps for `tokens`. */
  memory?: TrainingMemory;
  steps?: number;
  /** Measured: tokens/s of the probe and the training FLOP rate 6·N·tokens/s. */
  throughput?: { tokensPerSec: number; flopsPerSec: number };
  /** Estimated training time at the measured FLOP rate. */
  seconds?: number;
}

export function makePlan(input: PlanInput): Plan {
  const given = (['params', 'tokens', 'minutes'] as const).filter((k) => input[k] !== undefined);
  if (given.length !== 1) throw new TrainError('INVALID_ARGUMENT', `a plan needs exactly one of params, tokens, minutes (got ${given.length ? given.join(', ') : 'none'})`);
  const memory = input.model ? trainingMemory(input.model.config, input.model.batchSize) : undefined;
  const throughput = input.probe && memory ? { tokensPerSec: input.probe.tokensPerSec, flopsPerSec: 6 * memory.params * input.probe.tokensPerSec } : undefined;
  let params: number;
  let tokens: number;
  if (input.params !== undefined) {
    params = input.params;
    tokens = chinchillaTokens(params);
  } else if (input.tokens !== undefined) {
    tokens = input.tokens;
    params = chinchillaParams(tokens);
  } else {
    if (!memory || !throughput) throw new TrainError('INVALID_ARGUMENT', 'a plan for a time budget needs the model config and a probe of its throughput');
    if (!(input.minutes! > 0)) throw new TrainError('INVALID_ARGUMENT', `minutes must be a positive number, got ${input.minutes}`);
    params = memory.params;
    tokens = throughput.tokensPerSec * 60 * input.minutes!;
  }
  const flops = trainingFlops(params, tokens);
  const tokensPerStep = input.model ? input.model.batchSize * resolvedBlock(input.model.config) : undefined;
  return {
    params,
    tokens,
    flops,
    tokensPerParam: tokens / params,
    optimal: computeOptimal(flops),
    ...(memory ? { memory } : {}),
    ...(tokensPerStep ? { steps: Math.ceil(tokens / tokensPerStep) } : {}),
    ...(throughput ? { throughput, seconds: flops / throughput.flopsPerSec } : {}),
  };
}

const resolvedBlock = (c: ModelConfigInput | ModelConfig) => c.blockSize;

/** "1.23 GB", "512 B" (powers of 1024). */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let u = 0;
  while (n >= 1024 && u < units.length - 1) {
    n /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${n.toFixed(2)} ${units[u]}`;
}
