/**
 * Plain-loop references for the loss tests: no tensors, float64 arithmetic over flat arrays.
 * logits are row-major [N, V]; targets [N] with −100 = ignored.
 */

/** log-softmax of one row. */
export function logSoftmaxRow(row: ArrayLike<number>): number[] {
  let max = -Infinity;
  for (let v = 0; v < row.length; v++) max = Math.max(max, row[v]!);
  let sum = 0;
  for (let v = 0; v < row.length; v++) sum += Math.exp(row[v]! - max);
  const lse = max + Math.log(sum);
  return Array.from(row, (x) => x - lse);
}

/** Row n of a flat [N, V] array, divided by `scale`. */
function row(flat: ArrayLike<number>, n: number, V: number, scale = 1): number[] {
  return Array.from({ length: V }, (_, v) => flat[n * V + v]! / scale);
}

/** Mean cross-entropy over rows whose target ≠ −100 (0 when none). */
export function referenceCrossEntropy(logits: ArrayLike<number>, targets: ArrayLike<number>, V: number): number {
  let total = 0;
  let count = 0;
  for (let n = 0; n < targets.length; n++) {
    const t = targets[n]!;
    if (t === -100) continue;
    total -= logSoftmaxRow(row(logits, n, V))[t]!;
    count++;
  }
  return count === 0 ? 0 : total / count;
}

/** Mean over rows whose target ≠ −100 of KL(softmax(teacher/T) ‖ softmax(student/T)) (0 when none). */
export function referenceKl(student: ArrayLike<number>, teacher: ArrayLike<number>, targets: ArrayLike<number>, V: number, T: number): number {
  let total = 0;
  let count = 0;
  for (let n = 0; n < targets.length; n++) {
    if (targets[n] === -100) continue;
    const logQ = logSoftmaxRow(row(student, n, V, T));
    const logP = logSoftmaxRow(row(teacher, n, V, T));
    for (let v = 0; v < V; v++) total += Math.exp(logP[v]!) * (logP[v]! - logQ[v]!);
    count++;
  }
  return count === 0 ? 0 : total / count;
}
