/**
 * Leak checks. `trackTensors(fn)` runs fn and throws a TensorGpuError if it leaves more live
 * tensors than it returns, so tests can assert that generation and training loops clean up.
 *
 *   const { result, leaked } = await trackTensors(() => model.forward(ids), { allow: 1 });
 *   // allow: tensors fn hands back to the caller (here the logits)
 */
import { tf } from './tf.js';
import { TensorGpuError } from './errors.js';

export interface TrackOptions {
  /** Number of tensors fn may leave alive on purpose (its outputs). Default: counted from the result. */
  allow?: number;
  /** Report instead of throwing. */
  throwOnLeak?: boolean;
}

export interface TrackResult<T> {
  result: T;
  /** Live tensors after fn minus before, minus the allowance. */
  leaked: number;
}

export async function trackTensors<T>(fn: () => T | Promise<T>, opts: TrackOptions = {}): Promise<TrackResult<T>> {
  const before = tf.memory().numTensors;
  const result = await fn();
  const allow = opts.allow ?? countTensors(result);
  const leaked = tf.memory().numTensors - before - allow;
  if (leaked > 0 && (opts.throwOnLeak ?? true)) {
    throw new TensorGpuError(
      'TENSOR_LEAK',
      `${leaked} tensor(s) leaked: ${before} live before, ${tf.memory().numTensors} after, ${allow} returned. ` +
        `Wrap the work in tf.tidy or dispose intermediates.`,
    );
  }
  return { result, leaked };
}

/** Tensors reachable in a returned value (tensor, array or plain object of tensors). */
function countTensors(value: unknown, seen = new Set<unknown>()): number {
  if (value instanceof tf.Tensor) return seen.has(value) ? 0 : (seen.add(value), 1);
  if (Array.isArray(value)) return value.reduce((n: number, v) => n + countTensors(v, seen), 0);
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.values(value).reduce((n: number, v) => n + countTensors(v, seen), 0);
  }
  return 0;
}

/**
 * A tf.Variable that takes over `t`'s data. `tf.variable(t)` shares t's buffer but leaves the
 * tensor `t` registered, so every weight created as `tf.variable(tf.zeros(…))` counts one tensor
 * that nobody can dispose; here `t` is disposed once the variable holds the data.
 *
 *   const w = ownedVariable(tf.zeros([4, 4]));        // tf.memory().numTensors grows by 1, not 2
 */
export function ownedVariable(t: tf.Tensor, trainable = true, name?: string): tf.Variable {
  const v = tf.variable(t, trainable, name);
  t.dispose();
  return v;
}
