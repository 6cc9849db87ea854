/**
 * A tf.Variable that takes over a tensor's data. `tf.variable(t)` shares t's data but leaves t
 * alive as a second counted tensor, which leaks unless t is disposed; this disposes it.
 *
 *   const v = ownedVariable(tf.zeros([4]), true); // one tensor, not two
 */
import { tf } from '@llm/tensor-gpu';

export function ownedVariable(t: tf.Tensor, trainable: boolean): tf.Variable {
  const v = tf.variable(t, trainable);
  t.dispose();
  return v;
}
