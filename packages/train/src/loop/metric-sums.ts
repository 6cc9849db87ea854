/**
 * An objective's metrics, averaged: kept out of the tape or tidy that computed them, then read,
 * freed and added into running means.
 *
 *   let kept = {};
 *   tf.tidy(() => { const r = objective.loss(model, batch, ctx); kept = keepMetrics(r.metrics); … });
 *   addMetrics(sums, kept, n);                           // sums[k] += v / n
 */
import { tf } from '@llm/tensor-gpu';

/** The metrics with their tensors kept (tf.keep), so they outlive the enclosing tidy or gradient tape. */
export function keepMetrics(metrics: Record<string, tf.Scalar | number> | undefined): Record<string, tf.Scalar | number> {
  return Object.fromEntries(Object.entries(metrics ?? {}).map(([m, v]) => [m, typeof v === 'number' ? v : tf.keep(v)]));
}

/** sums[k] += v / n for each metric (tensors read and freed). */
export function addMetrics(sums: Record<string, number>, metrics: Record<string, tf.Scalar | number>, n: number): void {
  for (const [k, v] of Object.entries(metrics)) {
    const x = typeof v === 'number' ? v : v.dataSync()[0]!;
    if (typeof v !== 'number') v.dispose();
    sums[k] = (sums[k] ?? 0) + x / n;
  }
}
