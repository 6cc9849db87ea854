/**
 * Sampling primitives over one row of logits [V] on the host: argmax, softmax, logSoftmax and
 * seeded categorical sampling. All arithmetic is done in float64 and stored as float32.
 *
 * Logits may hold −Infinity (a banned token, probability 0); NaN and +Infinity are rejected with a
 * SampleError('INVALID_ARGUMENT'), an empty row with SampleError('SHAPE_MISMATCH').
 *
 *   const logits = Float32Array.of(2, 1, -Infinity);
 *   argmax(logits);                      // 0
 *   softmax(logits);                     // [0.7311, 0.2689, 0]
 *   sampleToken(logits, () => 0.9);      // 1   (0.9 ≥ 0.7311, the cumulative mass of token 0)
 */
import { SampleError } from './errors.js';

/**
 * Throws unless `logits` is a usable row: non-empty, no NaN, no +Infinity, at least one finite value.
 * Returns the largest value (finite).
 *
 *   assertValidLogits(Float32Array.of(0, -Infinity));   // 0
 *   assertValidLogits(Float32Array.of(NaN));            // throws SampleError('INVALID_ARGUMENT')
 */
export function assertValidLogits(logits: Float32Array): number {
  if (logits.length === 0) {
    throw new SampleError('SHAPE_MISMATCH', 'logits is empty (V = 0): pass one row of V ≥ 1 scores');
  }
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) {
    const x = logits[i]!;
    if (Number.isNaN(x) || x === Infinity) {
      throw new SampleError(
        'INVALID_ARGUMENT',
        `logits[${i}] is ${x}: logits must be finite or −Infinity (a banned token); check the model output / processors`,
      );
    }
    if (x > max) max = x;
  }
  if (max === -Infinity) {
    throw new SampleError(
      'INVALID_ARGUMENT',
      'every logit is −Infinity: all tokens are banned; loosen allowedTokens / badWords / logitBias / the constraint',
    );
  }
  return max;
}

/**
 * Checks one row of logits straight from the model, before any processor touches it: NaN or
 * +Infinity anywhere, or no finite value at all, means broken weights (NaN in a checkpoint, a
 * diverged run), not a banned token — SampleError('NON_FINITE_LOGITS') naming `where` (row and
 * step) and the first bad index. O(V): negligible beside the forward pass.
 *
 *   checkModelLogits(Float32Array.of(0, NaN), 'row 0, step 3');   // throws "row 0, step 3: the model's logits[1] is NaN …"
 */
export function checkModelLogits(row: Float32Array, where: string): void {
  let finite = false;
  for (let i = 0; i < row.length; i++) {
    const x = row[i]!;
    if (x !== x || x === Infinity) {
      throw new SampleError(
        'NON_FINITE_LOGITS',
        `${where}: the model's logits[${i}] is ${x}: its weights or activations are not finite (a NaN/Inf checkpoint or a diverged training run); check the model`,
      );
    }
    if (x > -Infinity) finite = true;
  }
  if (!finite) throw new SampleError('NON_FINITE_LOGITS', `${where}: every logit the model produced is −Infinity; check the model`);
}

/**
 * Index of the largest logit; the first one on ties (as torch.argmax / numpy.argmax).
 *
 *   argmax(Float32Array.of(1, 3, 3));   // 1
 */
export function argmax(logits: Float32Array): number {
  const max = assertValidLogits(logits);
  return logits.indexOf(max);
}

/**
 * Numerically stable softmax: exp(l − max) / Σ exp(l − max); −Infinity → probability 0.
 *
 *   softmax(Float32Array.of(0, Math.log(3), -Infinity));   // [0.25, 0.75, 0]
 */
export function softmax(logits: Float32Array): Float32Array {
  const max = assertValidLogits(logits);
  const out = new Float32Array(logits.length);
  let total = 0;
  const w = new Float64Array(logits.length);
  for (let i = 0; i < logits.length; i++) {
    w[i] = Math.exp(logits[i]! - max); // exp(−Infinity) = 0
    total += w[i]!;
  }
  for (let i = 0; i < logits.length; i++) out[i] = w[i]! / total;
  return out;
}

/**
 * Numerically stable log-softmax: l − max − log Σ exp(l − max); −Infinity stays −Infinity.
 *
 *   logSoftmax(Float32Array.of(0, 0));   // [−0.6931, −0.6931]   (log ½)
 */
export function logSoftmax(logits: Float32Array): Float32Array {
  const max = assertValidLogits(logits);
  let total = 0;
  for (let i = 0; i < logits.length; i++) total += Math.exp(logits[i]! - max);
  const logTotal = Math.log(total);
  const out = new Float32Array(logits.length);
  for (let i = 0; i < logits.length; i++) out[i] = logits[i]! - max - logTotal; // shift first: no cancellation
  return out;
}

/**
 * Draws one token from softmax(logits) with exactly one call to `rng` (uniform on [0, 1)):
 * the first token whose cumulative (unnormalized, float64) weight exceeds u · Σ weights. Tokens at
 * −Infinity are never drawn. The same rng state gives the same token, so a seeded rng gives a
 * reproducible sequence.
 *
 *   // weights exp([0, log 3]) = [1, 3], total 4: u·4 < 1 → token 0, otherwise token 1
 *   sampleToken(Float32Array.of(0, Math.log(3)), () => 0.2);   // 0   (0.8 < 1)
 *   sampleToken(Float32Array.of(0, Math.log(3)), () => 0.3);   // 1   (1.2 ≥ 1)
 */
export function sampleToken(logits: Float32Array, rng: () => number): number {
  const max = assertValidLogits(logits);
  const u = rng();
  if (!(u >= 0 && u < 1)) {
    throw new SampleError('INVALID_ARGUMENT', `rng() returned ${u}: it must return a number in [0, 1)`);
  }
  const w = new Float64Array(logits.length);
  let total = 0;
  let last = 0; // last token with a positive weight: the answer if rounding leaves target ≥ cum
  for (let i = 0; i < logits.length; i++) {
    const wi = Math.exp(logits[i]! - max);
    w[i] = wi;
    total += wi;
    if (wi > 0) last = i;
  }
  const target = u * total;
  let cum = 0;
  for (let i = 0; i < logits.length; i++) {
    cum += w[i]!;
    if (cum > target) return i; // a zero-weight token can never be the first to cross
  }
  return last;
}
