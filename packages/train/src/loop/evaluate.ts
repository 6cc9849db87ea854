/**
 * Evaluation: the mean loss over a number of batches, no dropout, no gradients.
 *
 *   evaluate(model, val, 20);                            // next-token cross-entropy
 *   evaluateObjective(model, val, 20, dpo);              // { loss, metrics } of any objective
 */
import { tf, crossEntropy } from '@llm/tensor-gpu';
import type { BatchSource } from '../data/batches.js';
import type { TrainableModel } from './model.js';
import type { Objective } from './objective.js';
import { batchTensors } from './default-loss.js';
import { addMetrics, keepMetrics } from './metric-sums.js';

/** Mean loss (and metrics) of the objective over `iters` batches, no gradients; the default objective is evaluate(). */
export function evaluateObjective(model: TrainableModel, source: BatchSource<unknown>, iters: number, objective?: Objective<unknown>): { loss: number; metrics: Record<string, number> } {
  if (!objective) return { loss: evaluate(model, source as BatchSource, iters), metrics: {} };
  let sum = 0;
  const metrics: Record<string, number> = {};
  for (let i = 0; i < iters; i++) {
    const raw = source.next();
    let kept: Record<string, tf.Scalar | number> = {};
    sum += tf.tidy(() => {
      const r = objective.loss(model, raw, { training: false });
      kept = keepMetrics(r.metrics);
      return r.loss.dataSync()[0]!;
    });
    addMetrics(metrics, kept, iters);
    objective.release?.(raw);
  }
  return { loss: sum / iters, metrics };
}

/** Mean next-token cross-entropy over `iters` batches: no dropout, no gradients, no MoE aux term. */
export function evaluate(model: TrainableModel, source: BatchSource, iters: number): number {
  let sum = 0;
  for (let i = 0; i < iters; i++) {
    const b = batchTensors(source.next());
    sum += tf.tidy(() => crossEntropy(model.forward(b.inputs, b.mask ? { attentionMask: b.mask } : {}), b.targets).dataSync()[0]!);
    tf.dispose([b.inputs, b.targets]);
  }
  return sum / iters;
}
