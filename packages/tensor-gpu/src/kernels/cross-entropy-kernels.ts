/**
 * Two fused kernels behind `crossEntropy` on the cpu-memory backends (cpu, wasm). Neither builds
 * a one-hot [N, V] tensor; each makes one pass over a row of logits.
 *
 *   LlmXentLoss: logits [N, V], targets [N] → loss [N],  loss[n] = logsumexp(x[n]) − x[n, t[n]]
 *                (0 where t[n] = ignoreIndex)
 *   LlmXentGrad: logits [N, V], targets [N], coef [N] → dlogits [N, V],
 *                dlogits[n] = coef[n] · (softmax(x[n]) − onehot(t[n]))   (0 where ignored)
 *
 * A target outside [0, V) that is not the ignore index makes the kernel throw a TensorGpuError.
 */
import type { tf } from '../tf.js';
import { TensorGpuError } from '../errors.js';
import { hostAccess } from './host.js';

export const XENT_LOSS = 'LlmXentLoss';
export const XENT_GRAD = 'LlmXentGrad';

type Attrs = { ignoreIndex: number };
type Inputs = { logits: tf.TensorInfo; targets: tf.TensorInfo; coef?: tf.TensorInfo };

export function xentLossKernel(backendName: string): tf.KernelConfig {
  return {
    kernelName: XENT_LOSS,
    backendName,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { logits, targets } = inputs as Inputs;
      const host = hostAccess(backend, backendName)!;
      const [n, v] = logits.shape as [number, number];
      const out = host.output([n], 'float32');
      const x = host.read(logits);
      const t = host.read(targets);
      const loss = host.view(out);
      for (let r = 0; r < n; r++) {
        const target = checkTarget(t[r]!, v, (attrs as Attrs).ignoreIndex, r);
        loss[r] = target < 0 ? 0 : logSumExp(x, r * v, v) - x[r * v + target]!;
      }
      return out;
    },
  };
}

export function xentGradKernel(backendName: string): tf.KernelConfig {
  return {
    kernelName: XENT_GRAD,
    backendName,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { logits, targets, coef } = inputs as Required<Inputs>;
      const host = hostAccess(backend, backendName)!;
      const [n, v] = logits.shape as [number, number];
      const out = host.output([n, v], 'float32');
      const x = host.read(logits);
      const t = host.read(targets);
      const c = host.read(coef);
      const g = host.view(out);
      for (let r = 0; r < n; r++) {
        const target = checkTarget(t[r]!, v, (attrs as Attrs).ignoreIndex, r);
        softmaxRowGrad(x, g, r * v, v, target < 0 ? 0 : c[r]!, target);
      }
      return out;
    },
  };
}

/** −1 for an ignored row, else the validated target. */
function checkTarget(t: number, v: number, ignoreIndex: number, row: number): number {
  if (t === ignoreIndex) return -1;
  if (t < 0 || t >= v || !Number.isInteger(t)) {
    throw new TensorGpuError(
      'SHAPE_MISMATCH',
      `crossEntropy: target ${t} at flat position ${row} is outside the vocabulary [0, ${v}) ` +
        `and is not the ignore index ${ignoreIndex}.`,
    );
  }
  return t;
}

function logSumExp(x: ArrayLike<number>, start: number, v: number): number {
  let max = -Infinity;
  for (let j = 0; j < v; j++) if (x[start + j]! > max) max = x[start + j]!;
  let sum = 0;
  for (let j = 0; j < v; j++) sum += Math.exp(x[start + j]! - max);
  return max + Math.log(sum);
}

/** g[row] = coef · (softmax(x[row]) − onehot(target)); zeros when coef is 0. */
function softmaxRowGrad(x: ArrayLike<number>, g: { [i: number]: number }, start: number, v: number, coef: number, target: number): void {
  if (coef === 0) {
    for (let j = 0; j < v; j++) g[start + j] = 0;
    return;
  }
  let max = -Infinity;
  for (let j = 0; j < v; j++) if (x[start + j]! > max) max = x[start + j]!;
  let sum = 0;
  for (let j = 0; j < v; j++) {
    const e = Math.exp(x[start + j]! - max);
    g[start + j] = e;
    sum += e;
  }
  const scale = coef / sum;
  for (let j = 0; j < v; j++) g[start + j] = g[start + j]! * scale;
  g[start + target] = g[start + target]! - coef;
}
