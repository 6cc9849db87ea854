/**
 * Registers tensor-gpu's kernels on a tfjs backend. Idempotent; `uninstallKernels` restores the
 * stock kernel set exactly (used by benchmarks to compare stock tfjs with tensor-gpu in one run).
 *
 *   wasm: BatchMatMul and _FusedMatMul (SIMD kernel on tfjs's own heap, all transposes and batches),
 *         UnsortedSegmentSum (missing in tfjs 4.22: the gradient of gather),
 *         LlmXentLoss / LlmXentGrad (fused cross-entropy)
 *   cpu:  LlmXentLoss / LlmXentGrad
 */
import { tf } from '../tf.js';
import { unsortedSegmentSumKernel } from './unsorted-segment-sum.js';
import { xentGradKernel, xentLossKernel } from './cross-entropy-kernels.js';
import { registerWasmMatMul, unregisterWasmMatMul } from './matmul-wasm.js';

/** Kernels we add (never replace) per backend. */
function addedKernels(backendName: string): tf.KernelConfig[] {
  const host = [xentLossKernel(backendName), xentGradKernel(backendName)];
  if (backendName === 'wasm') return [unsortedSegmentSumKernel('wasm'), ...host];
  if (backendName === 'cpu') return host;
  return [];
}

/** Register only the kernels tfjs lacks on `backendName` (UnsortedSegmentSum on wasm). */
export function registerMissingKernels(backendName: string = tf.getBackend()): void {
  if (backendName !== 'wasm' || tf.getKernel('UnsortedSegmentSum', 'wasm')) return;
  tf.registerKernel(unsortedSegmentSumKernel('wasm'));
}

/** Install our kernels on `backendName` (default: the active backend). */
export function installKernels(backendName: string = tf.getBackend()): void {
  for (const config of addedKernels(backendName)) {
    if (!tf.getKernel(config.kernelName, backendName)) tf.registerKernel(config);
  }
  if (backendName === 'wasm') registerWasmMatMul();
}

/** Remove what installKernels added and restore stock kernels. */
export function uninstallKernels(backendName: string = tf.getBackend()): void {
  for (const config of addedKernels(backendName)) {
    if (tf.getKernel(config.kernelName, backendName)) tf.unregisterKernel(config.kernelName, backendName);
  }
  if (backendName === 'wasm') unregisterWasmMatMul();
}

/** True if our fused kernel `name` can run on the active backend. */
export function hasKernel(name: string): boolean {
  return tf.getKernel(name, tf.getBackend()) !== undefined;
}
