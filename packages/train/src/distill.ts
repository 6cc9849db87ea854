/**
 * Knowledge distillation loss (Hinton et al., 2015): the student matches the teacher's softened
 * distribution and, with weight 1 − alpha, the true next tokens.
 *
 *   const student = model.forward(inputs, { attentionMask: mask });         // [B, T, V]
 *   const teacher = tf.tidy(() => teacherModel.forward(inputs, { attentionMask: mask })); // [B, T, V]
 *   const loss = distillationLoss(student, teacher, targets, { temperature: 2, alpha: 0.5 });
 *
 * `targets` are collate's next-token targets: positions with −100 (prompt, padding) count in
 * neither term.
 */
import { tf, crossEntropy, IGNORE_INDEX } from '@llm/tensor-gpu';
import { TrainError } from './errors.js';

export interface DistillOptions {
  /** Softening temperature T > 0 (default 2). */
  temperature?: number;
  /** Weight of the distillation term in [0, 1] (default 0.5); 1 − alpha weighs the cross-entropy. */
  alpha?: number;
  /** Targets equal to this are skipped in both terms (default −100). */
  ignoreIndex?: number;
}

/**
 * alpha · T² · KL(softmax(teacher/T) ‖ softmax(student/T)) + (1 − alpha) · CE(student, targets),
 * each averaged over the positions whose target is not ignoreIndex (0 when there are none). The
 * T² keeps the gradient of the soft term on the scale of the hard one as T changes.
 *
 * No gradient reaches the teacher: its logits pass through a stop-gradient (their gradient is
 * exactly zero), so a teacher computed under the same tape is not trained by mistake.
 *
 *   // one position, V = 2, T = 1, alpha = 1: teacher [0, 0] (p = [.5, .5]), student [0, ln 3] (q = [.25, .75])
 *   distillationLoss(tf.tensor2d([[0, Math.log(3)]]), tf.tensor2d([[0, 0]]), tf.tensor1d([1], 'int32'),
 *                    { temperature: 1, alpha: 1 })
 *   // → .5·ln(.5/.25) + .5·ln(.5/.75) = .5·ln(4/3) ≈ 0.1438
 */
export function distillationLoss(
  studentLogits: tf.Tensor,
  teacherLogits: tf.Tensor,
  targets: tf.Tensor,
  opts: DistillOptions = {},
): tf.Scalar {
  const { temperature = 2, alpha = 0.5, ignoreIndex = IGNORE_INDEX } = opts;
  checkInputs(studentLogits, teacherLogits, targets, temperature, alpha);
  return tf.tidy(() => {
    let loss: tf.Tensor = tf.scalar(0);
    if (alpha > 0) {
      const kl = softKl(studentLogits, stopGradient(teacherLogits), temperature); // [N]
      loss = maskedMean(kl, targets, ignoreIndex).mul(alpha * temperature * temperature);
    }
    if (alpha < 1) loss = loss.add(crossEntropy(studentLogits, targets, { ignoreIndex }).mul(1 - alpha));
    return loss as tf.Scalar;
  });
}

/** Per-position KL(softmax(teacher/T) ‖ softmax(student/T)), flattened to [N]. */
function softKl(student: tf.Tensor, teacher: tf.Tensor, temperature: number): tf.Tensor {
  const v = student.shape[student.rank - 1]!;
  const logQ = tf.logSoftmax(student.reshape([-1, v]).div(temperature)); // [N, V] student
  const logP = tf.logSoftmax(teacher.reshape([-1, v]).div(temperature)); // [N, V] teacher
  return tf.exp(logP).mul(logP.sub(logQ)).sum(-1); // [N]
}

/** Mean of perPosition [N] over positions whose target ≠ ignoreIndex (0 if none). */
function maskedMean(perPosition: tf.Tensor, targets: tf.Tensor, ignoreIndex: number): tf.Tensor {
  const valid = tf.notEqual(targets.reshape([-1]), tf.scalar(ignoreIndex, 'int32')).toFloat(); // [N]
  return perPosition.mul(valid).sum().div(tf.maximum(valid.sum(), tf.scalar(1)));
}

/** Identity forward, zero gradient backward (tfjs has no stop_gradient op). */
function stopGradient(x: tf.Tensor): tf.Tensor {
  const f = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const input = args[0] as tf.Tensor;
    return { value: input.clone(), gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy) };
  });
  return f(x) as tf.Tensor;
}

function checkInputs(student: tf.Tensor, teacher: tf.Tensor, targets: tf.Tensor, temperature: number, alpha: number): void {
  const shapes = `student [${student.shape}], teacher [${teacher.shape}], targets [${targets.shape}]`;
  if (student.shape.join(',') !== teacher.shape.join(',')) {
    throw new TrainError('INVALID_ARGUMENT', `distillationLoss: student and teacher logits differ in shape (${shapes}). Use the same batch and the same vocabulary.`);
  }
  if (student.rank < 2 || student.shape.slice(0, -1).join(',') !== targets.shape.join(',')) {
    throw new TrainError('INVALID_ARGUMENT', `distillationLoss: logits must be [...targets, V] (${shapes}).`);
  }
  if (student.dtype !== 'float32' || teacher.dtype !== 'float32' || targets.dtype !== 'int32') {
    throw new TrainError('INVALID_ARGUMENT', `distillationLoss: logits must be float32 and targets int32 (got ${student.dtype}, ${teacher.dtype}, ${targets.dtype}).`);
  }
  if (!(Number.isFinite(temperature) && temperature > 0)) {
    throw new TrainError('INVALID_ARGUMENT', `distillationLoss: temperature must be a finite number > 0, got ${temperature}.`);
  }
  if (!(alpha >= 0 && alpha <= 1)) throw new TrainError('INVALID_ARGUMENT', `distillationLoss: alpha must be in [0, 1], got ${alpha}.`);
}
