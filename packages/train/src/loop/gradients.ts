/**
 * The gradient of one step: each micro-batch's loss/scale is differentiated (through the objective,
 * or the default next-token loss with an optional distillation teacher) and the gradients are summed
 * in micro-batch order.
 *
 *   const g = accumulateGradients(model, params, microBatches(train, cfg.gradAccumSteps), cfg.gradAccumSteps, cfg);
 *   g.grads;   // weight name → summed gradient (a weight the loss does not reach has none)
 *   g.loss;    // Σ loss/scale; g.tokens, g.metrics (Σ metric/scale) alike
 */
import { tf } from '@llm/tensor-gpu';
import type { CausalLM } from '@llm/transformer';
import type { BatchSource, HostBatch } from '../data/batches.js';
import type { TrainConfig } from './config.js';
import type { TrainableModel } from './model.js';
import type { Objective } from './objective.js';
import { batchLoss, batchTensors } from './default-loss.js';
import { addMetrics, keepMetrics } from './metric-sums.js';

export interface StepGradients {
  grads: Map<string, tf.Tensor>;
  loss: number;
  tokens: number;
  metrics: Record<string, number>;
}

/** The next `n` batches of a source. */
export function* microBatches<B>(source: BatchSource<B>, n: number): Generator<B> {
  for (let k = 0; k < n; k++) yield source.next();
}

/** Gradients of Σ loss(b)/scale over the batches (drawn one at a time), with the loss, tokens and metric sums. */
export function accumulateGradients(model: TrainableModel, params: Array<[string, tf.Variable]>, batches: Iterable<unknown>, scale: number, cfg: TrainConfig, teacher?: CausalLM, objective?: Objective<unknown>): StepGradients {
  const byVar = new Map(params.map(([n, v]) => [v.name, n]));
  const acc = new Map<string, tf.Tensor>();
  let lossSum = 0;
  let tokens = 0;
  const metrics: Record<string, number> = {};
  for (const raw of batches) {
    let value: tf.Scalar;
    let grads: tf.NamedTensorMap;
    if (objective) {
      let kept: Record<string, tf.Scalar | number> = {};
      ({ value, grads } = tf.variableGrads(() => {
        const r = objective.loss(model, raw, { training: true });
        kept = keepMetrics(r.metrics);
        return r.loss.div(scale) as tf.Scalar;
      }, params.map(([, v]) => v)));
      addMetrics(metrics, kept, scale);
      tokens += objective.tokens?.(raw) ?? 0;
      objective.release?.(raw);
    } else {
      const b = batchTensors(raw as HostBatch);
      tokens += b.tokens;
      const teacherLogits = teacher ? tf.tidy(() => teacher.forward(b.inputs, b.mask ? { attentionMask: b.mask } : {})) : null;
      ({ value, grads } = tf.variableGrads(() => batchLoss(model, b.inputs, b.targets, b.mask, true, teacherLogits, cfg).div(scale) as tf.Scalar, params.map(([, v]) => v)));
      tf.dispose([b.inputs, b.targets, teacherLogits ?? []]);
    }
    lossSum += value.dataSync()[0]!;
    value.dispose();
    for (const [vn, g] of Object.entries(grads)) {
      const n = byVar.get(vn)!;
      const prev = acc.get(n);
      if (!prev) {
        acc.set(n, g);
        continue;
      }
      acc.set(n, prev.add(g));
      prev.dispose();
      g.dispose();
    }
  }
  return { grads: acc, loss: lossSum, tokens, metrics };
}
