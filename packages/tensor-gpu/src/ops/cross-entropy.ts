/**
 * Cross-entropy over the last axis with an ignore index, as torch.nn.functional.cross_entropy.
 * Never builds a one-hot [N, V] tensor on cpu/wasm (fused kernels, one pass per row); other
 * backends use composite ops (logSumExp − gather; the gradient uses one scatter).
 *
 *   logits [B, T, V] float32, targets [B, T] int32 (−100 = ignore)
 *   crossEntropy(logits, targets)                      → scalar, mean over non-ignored targets
 *   crossEntropy(logits, targets, { reduction: 'none' }) → [B, T], 0 at ignored positions
 *
 *   e.g. logits [[0, 0]], targets [1] → log(2) ≈ 0.6931
 *
 * With every target ignored, 'mean' returns 0 (and a zero gradient) rather than PyTorch's NaN,
 * so a fully-masked batch cannot poison a training run.
 */
import { tf } from '../tf.js';
import { TensorGpuError } from '../errors.js';
import { XENT_GRAD, XENT_LOSS } from '../kernels/cross-entropy-kernels.js';
import { hasKernel } from '../kernels/install.js';

/**
 * The target value that `crossEntropy` skips by default: PyTorch's `ignore_index` (−100). Label
 * builders (SFT response masks, padding) write it; losses skip it.
 *
 *   crossEntropy(logits, tf.tensor2d([[IGNORE_INDEX, 7]], [1, 2], 'int32'))  // loss of position 1 only
 */
export const IGNORE_INDEX = -100;

export interface CrossEntropyOptions {
  /** Targets equal to this are skipped (default IGNORE_INDEX = −100, as PyTorch). */
  ignoreIndex?: number;
  /** 'mean' over non-ignored targets (default), 'sum', or 'none' (per-position losses). */
  reduction?: 'mean' | 'sum' | 'none';
}

export function crossEntropy(logits: tf.Tensor, targets: tf.Tensor, opts: CrossEntropyOptions = {}): tf.Tensor {
  const ignoreIndex = opts.ignoreIndex ?? IGNORE_INDEX;
  const reduction = opts.reduction ?? 'mean';
  checkInputs(logits, targets, reduction);
  const v = logits.shape[logits.shape.length - 1]!;
  const lead = targets.shape;
  return tf.tidy(() => {
    const x2 = logits.reshape([-1, v]); // [N, V]
    const t1 = targets.reshape([-1]); // [N]
    const valid = tf.notEqual(t1, tf.scalar(ignoreIndex, 'int32')).toFloat(); // [N]
    const perRow = rowLosses(x2, t1, valid, ignoreIndex); // [N]
    if (reduction === 'none') return perRow.reshape(lead);
    const total = perRow.sum();
    if (reduction === 'sum') return total;
    return total.div(tf.maximum(valid.sum(), tf.scalar(1)));
  });
}

/** Per-row loss [N] with a custom gradient w.r.t. logits. */
function rowLosses(x: tf.Tensor, t: tf.Tensor, valid: tf.Tensor, ignoreIndex: number): tf.Tensor {
  const f = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [logits, save] = args as [tf.Tensor, tf.GradSaveFunc];
    // Targets and mask go through `save` too: the tape keeps saved tensors alive until backprop,
    // while anything merely captured here is disposed by the caller's tidy before then.
    save([logits, t, valid]);
    const value = lossForward(logits, t, valid, ignoreIndex); // [N]
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sx, st, sv] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
      return lossBackward(sx, st, sv, dy.mul(sv), ignoreIndex);
    };
    return { value, gradFunc };
  });
  return f(x) as tf.Tensor;
}

function lossForward(x: tf.Tensor, t: tf.Tensor, valid: tf.Tensor, ignoreIndex: number): tf.Tensor {
  if (hasKernel(XENT_LOSS)) {
    return tf.engine().runKernel(XENT_LOSS, { logits: x, targets: t }, { ignoreIndex }) as tf.Tensor;
  }
  const [n, v] = x.shape as [number, number];
  const safeT = tf.where(valid.cast('bool'), t, tf.zerosLike(t)); // [N]
  const flat = tf.range(0, n, 1, 'int32').mul(tf.scalar(v, 'int32')).add(safeT); // [N]
  const picked = tf.gather(x.reshape([-1]), flat); // [N]
  return tf.logSumExp(x, -1).sub(picked).mul(valid); // [N]
}

function lossBackward(x: tf.Tensor, t: tf.Tensor, valid: tf.Tensor, coef: tf.Tensor, ignoreIndex: number): tf.Tensor {
  if (hasKernel(XENT_GRAD)) {
    return tf.engine().runKernel(XENT_GRAD, { logits: x, targets: t, coef }, { ignoreIndex }) as tf.Tensor;
  }
  const [n, v] = x.shape as [number, number];
  const safeT = tf.where(valid.cast('bool'), t, tf.zerosLike(t)); // [N]
  const idx = tf.stack([tf.range(0, n, 1, 'int32'), safeT], 1); // [N, 2]
  const hot = tf.scatterND(idx, coef, [n, v]); // [N, V], coef at the targets
  return tf.softmax(x).mul(coef.expandDims(1)).sub(hot); // [N, V]
}

function checkInputs(logits: tf.Tensor, targets: tf.Tensor, reduction: string): void {
  if (logits.dtype !== 'float32') {
    throw new TensorGpuError('DTYPE_MISMATCH', `crossEntropy: logits must be float32, got ${logits.dtype}.`);
  }
  if (targets.dtype !== 'int32') {
    throw new TensorGpuError('DTYPE_MISMATCH', `crossEntropy: targets must be int32 token ids, got ${targets.dtype}.`);
  }
  const lead = logits.shape.slice(0, -1);
  if (logits.rank < 2 || lead.join(',') !== targets.shape.join(',')) {
    throw new TensorGpuError(
      'SHAPE_MISMATCH',
      `crossEntropy: logits [${logits.shape}] need shape [...targets, V] with targets [${targets.shape}].`,
    );
  }
  if (!['mean', 'sum', 'none'].includes(reduction)) {
    throw new TensorGpuError('INVALID_ARGUMENT', `crossEntropy: unknown reduction "${reduction}" (use mean, sum or none).`);
  }
}
