/**
 * The optimizer update of a step: global-norm clipping (as torch.nn.utils.clip_grad_norm_), then AdamW.
 *
 *   const gradNorm = applyUpdate(grads, opt, lr, cfg.gradClip);   // the gradients are freed
 */
import { tf } from '@llm/tensor-gpu';
import type { AdamW } from '../optim/adamw.js';

/** Clip the gradients to global norm `gradClip` (0: off), apply AdamW at `lr` and free them. Returns the norm before clipping. */
export function applyUpdate(grads: Map<string, tf.Tensor>, opt: AdamW, lr: number, gradClip: number): number {
  const gradNorm = tf.tidy(() => tf.sqrt(tf.addN([...grads.values()].map((g) => g.square().sum()))).dataSync()[0]!);
  if (gradClip > 0 && gradNorm > gradClip) {
    const scale = gradClip / (gradNorm + 1e-6); // torch.nn.utils.clip_grad_norm_
    for (const [n, g] of grads) {
      grads.set(n, g.mul(scale));
      g.dispose();
    }
  }
  opt.step(grads, lr);
  tf.dispose([...grads.values()]);
  return gradNorm;
}
