/**
 * Shared pieces of the weight-only quantizers: the matrix type, float32 rounding helpers and
 * checks. Every quantizer works on a weight matrix [out, in] (row-major, nn.Linear's layout) and
 * computes in float32 exactly as PyTorch does (Math.fround after every float op), so its bytes
 * match the committed PyTorch fixtures (fixtures/make_quant_fixtures.py).
 */
import { QuantError } from '../errors.js';

/** A weight matrix [out, in], row-major float32 (nn.Linear's layout). */
export interface WeightMatrix {
  data: Float32Array;
  /** [out, in] */
  shape: readonly [number, number];
}

export const f32 = Math.fround;

/**
 * Round half to even (torch.round / CUDA __float2int_rn), keeping the sign of a zero result as
 * torch does: roundHalfEven(2.5) = 2, roundHalfEven(-0.5) = -0.
 */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  const r = d > 0.5 ? f + 1 : d < 0.5 ? f : f % 2 === 0 ? f : f + 1;
  return r === 0 && x < 0 ? -0 : r;
}

/** Checks a weight matrix: shape [out, in] of positive integers matching the data, finite values. */
export function checkMatrix(w: WeightMatrix, what: string): [number, number] {
  const [out, inF] = w.shape;
  if (!Number.isInteger(out) || !Number.isInteger(inF) || out < 1 || inF < 1 || w.shape.length !== 2) {
    throw new QuantError('INVALID_ARGUMENT', `${what}: shape must be [out, in] of positive integers, got [${w.shape.join(', ')}].`);
  }
  if (!(w.data instanceof Float32Array) || w.data.length !== out * inF) {
    throw new QuantError('INVALID_ARGUMENT', `${what}: data must be a Float32Array of ${out}·${inF} = ${out * inF} values, got ${w.data?.length}.`);
  }
  for (let i = 0; i < w.data.length; i++) {
    const v = w.data[i]!;
    if (v - v !== 0) throw new QuantError('INVALID_ARGUMENT', `${what}: weight value ${v} at flat index ${i} is not finite; only finite weights can be quantized.`);
  }
  return [out, inF];
}

/** Checks an integer option is in a set of allowed values. */
export function checkChoice(value: number, allowed: readonly number[], what: string): void {
  if (!allowed.includes(value)) throw new QuantError('INVALID_ARGUMENT', `${what} must be one of ${allowed.join(', ')}, got ${value}.`);
}
