/**
 * UnsortedSegmentSum for the cpu-memory backends (registered on wasm, where tfjs 4.22 lacks it).
 * It is the gradient of `gather`, so without it no embedding can be trained on wasm.
 *
 *   out[s, ...] = Σ_{i : ids[i] = s} x[i, ...]      x [N, ...rest], ids [N] → out [S, ...rest]
 *
 * Ids outside [0, S) are dropped, as in TensorFlow.
 */
import type { tf } from '../tf.js';
import { hostAccess, size } from './host.js';

export function unsortedSegmentSumKernel(backendName: string): tf.KernelConfig {
  return {
    kernelName: 'UnsortedSegmentSum',
    backendName,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x, segmentIds } = inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
      const numSegments = (attrs as { numSegments: number }).numSegments;
      const host = hostAccess(backend, backendName)!;
      const rest = x.shape.slice(segmentIds.shape.length); // trailing dims summed as rows
      const out = host.output([numSegments, ...rest], x.dtype);
      segmentSum(host.read(x), host.read(segmentIds), host.view(out), size(rest), numSegments);
      return out;
    },
  };
}

/** out[s*row + c] = Σ x[i*row + c] over i with ids[i] = s. `out` is overwritten. */
export function segmentSum(x: ArrayLike<number>, ids: ArrayLike<number>, out: { [i: number]: number; length: number; fill(v: number): unknown }, row: number, numSegments: number): void {
  out.fill(0);
  for (let i = 0; i < ids.length; i++) {
    const s = ids[i]!;
    if (s < 0 || s >= numSegments) continue;
    const src = i * row;
    const dst = s * row;
    for (let c = 0; c < row; c++) out[dst + c] = out[dst + c]! + x[src + c]!;
  }
}
