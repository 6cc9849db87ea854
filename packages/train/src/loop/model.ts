/**
 * What the training loop needs from a model: the CausalLM contract plus a training forward, its
 * trainable weights, the dropout RNG state (exact resume) and a save. `TransformerLM` is one; an
 * adapter-wrapped model from @llm/peft is another (its weights to train are the adapter's, its save
 * writes the adapter), so the same loop, checkpoints and resume serve full fine-tuning and PEFT.
 *
 *   await train(model, data, config);           // model: TransformerLM or a PeftModel
 */
import type { tf } from '@llm/tensor-gpu';
import type { CausalLM, ModelOutput, RunOptions } from '@llm/transformer';

export interface TrainableModel extends CausalLM {
  run(ids: tf.Tensor, opts?: RunOptions): ModelOutput;
  trainableParameters(): Array<[string, tf.Variable]>;
  getDropoutState(): number;
  setDropoutState(state: number): void;
  /** Write what a checkpoint directory holds of the model (a full model, or an adapter). */
  save(dir: string): Promise<void>;
  dispose(): void;
}
