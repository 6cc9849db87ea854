/**
 * Compute-optimal sizing (Hoffmann et al. 2022, "Chinchilla"): about 20 training tokens per
 * parameter, and training compute C ≈ 6·N·D FLOPs (forward 2·N·D + backward 4·N·D, attention's
 * T-dependent term left out, as in the paper's approximation). With D = 20·N, a budget C gives
 * N = √(C / 120) and D = 20·N.
 *
 *   chinchillaTokens(70e9)          // → 1.4e12  (Chinchilla: 70B params, 1.4T tokens)
 *   trainingFlops(70e9, 1.4e12)     // → 5.88e23 (the paper's Chinchilla/Gopher budget is 5.76e23)
 *   computeOptimal(5.88e23)         // → { params: 7e10, tokens: 1.4e12 }
 */
import { TrainError } from '../errors.js';

/** Chinchilla's rule of thumb: tokens per parameter at the compute-optimal point. */
export const CHINCHILLA_TOKENS_PER_PARAM = 20;

const positive = (name: string, v: number) => {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new TrainError('INVALID_ARGUMENT', `${name} must be a positive number, got ${v}`);
};

/** Compute-optimal training tokens for N parameters: 20·N. */
export function chinchillaTokens(params: number): number {
  positive('params', params);
  return CHINCHILLA_TOKENS_PER_PARAM * params;
}

/** Compute-optimal parameters for D training tokens: D / 20. */
export function chinchillaParams(tokens: number): number {
  positive('tokens', tokens);
  return tokens / CHINCHILLA_TOKENS_PER_PARAM;
}

/** Training FLOPs for N parameters and D tokens: 6·N·D. */
export function trainingFlops(params: number, tokens: number): number {
  positive('params', params);
  positive('tokens', tokens);
  return 6 * params * tokens;
}

/** The compute-optimal (N, D) for a FLOP budget C: C = 6·N·D with D = 20·N → N = √(C/120). */
export function computeOptimal(flops: number): { params: number; tokens: number } {
  positive('flops', flops);
  const params = Math.sqrt(flops / (6 * CHINCHILLA_TOKENS_PER_PARAM));
  return { params, tokens: CHINCHILLA_TOKENS_PER_PARAM * params };
}
