/**
 * A SequenceClassifier (reward model, classifier, regressor) as a model @llm/train's `train()` takes.
 * `train()` needs the TrainableModel surface — CausalLM (config, forward, createCache), run(),
 * trainableParameters(), get/setDropoutState(), save(), dispose() — and SequenceClassifier has none
 * of it but save(); HeadModel supplies them from the backbone and adds `scores()`, what the reward,
 * classifier and regressor objectives call.
 *
 *   const rm = new HeadModel(new SequenceClassifier(backbone, { numLabels: 1 }), { freezeBackbone: true });
 *   await train(rm, { train: pairSource(pairs, …) }, config, { objective: rewardObjective() });
 *   rm.scores(ids, { attentionMask });   // [B, 1] rewards
 *
 * freezeBackbone: only `score.weight` trains (the backbone's weights are left as they are, not
 * flagged: the same backbone can serve elsewhere). Dimension legend: B rows, T positions, L labels.
 */
import type { tf } from '@llm/tensor-gpu';
import type { TrainableModel } from '@llm/train';
import type { ForwardOptions, ModelConfig, ModelOutput, RunOptions, SequenceClassifier, KVCache, ModelGenerationConfig } from '@llm/transformer';

export interface HeadModelOptions {
  /** Train only the head (default false: backbone and head). */
  freezeBackbone?: boolean;
}

export class HeadModel implements TrainableModel {
  readonly freezeBackbone: boolean;

  constructor(readonly classifier: SequenceClassifier, opts: HeadModelOptions = {}) {
    this.freezeBackbone = opts.freezeBackbone === true;
  }

  get config(): ModelConfig {
    return this.classifier.backbone.config;
  }
  get generationConfig(): ModelGenerationConfig | undefined {
    return this.classifier.backbone.generationConfig;
  }
  get numLabels(): number {
    return this.classifier.numLabels;
  }

  /** ids [B, T] → head outputs [B, L] at each row's last real token. */
  scores(ids: tf.Tensor, opts: Pick<ForwardOptions, 'attentionMask' | 'training'> = {}): tf.Tensor2D {
    return this.classifier.forward(ids, opts);
  }

  forward(ids: tf.Tensor, opts?: ForwardOptions): tf.Tensor3D {
    return this.classifier.backbone.forward(ids, opts);
  }
  run(ids: tf.Tensor, opts?: RunOptions): ModelOutput {
    return this.classifier.backbone.run(ids, opts);
  }
  createCache(batch: number, maxLen?: number): KVCache {
    return this.classifier.backbone.createCache(batch, maxLen);
  }

  trainableParameters(): Array<[string, tf.Variable]> {
    const head: Array<[string, tf.Variable]> = [['score.weight', this.classifier.score.weight]];
    return this.freezeBackbone ? head : [...this.classifier.backbone.trainableParameters(), ...head];
  }
  getDropoutState(): number {
    return this.classifier.backbone.getDropoutState();
  }
  setDropoutState(state: number): void {
    this.classifier.backbone.setDropoutState(state);
  }
  /** HF *ForSequenceClassification directory (SequenceClassifier.save). */
  save(dir: string): Promise<void> {
    return this.classifier.save(dir);
  }
  /** Frees the head and the backbone. */
  dispose(): void {
    this.classifier.dispose();
    this.classifier.backbone.dispose();
  }
}
