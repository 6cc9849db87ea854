/**
 * What PeftModel needs of one adapter, whatever its method: its weights by PEFT state-dict name,
 * loading them, switching it on and off, and (prompt learning) run options for the base model.
 * Layer tuners (LoRA, DoRA, IA3, bottleneck) wrap linears through the module tree; prompt and
 * prefix tuning add inputs instead.
 *
 *   const t = model.tuner('default');
 *   t.stateDict().map(([n]) => n); // ['base_model.model.transformer.h.0.attn.c_attn.lora_A.weight', …]
 */
import type { tf } from '@llm/tensor-gpu';
import type { RunOptions } from '@llm/transformer';
import type { PeftType, ResolvedPeftConfig } from './config.js';

export interface Tuner {
  readonly peftType: PeftType;
  readonly adapterName: string;
  readonly config: ResolvedPeftConfig;
  /**
   * Tensors by PEFT state-dict name as saved (no adapter name), e.g.
   * 'base_model.model.transformer.h.0.attn.c_attn.lora_A.weight'. Variables, except where PEFT saves
   * a computed tensor (a projected prefix): saveAdapter disposes any non-Variable after writing.
   */
  stateDict(): Array<[string, tf.Tensor]>;
  /** The weights to train when they differ from stateDict's (a projected prefix's embedding + MLP). */
  parameters?(): Array<[string, tf.Variable]>;
  /** Copy weights from a loaded adapter file; shape or name mismatch → PeftError naming the tensor and module. */
  loadStateDict(weights: ReadonlyMap<string, tf.Tensor>): void;
  /** Make this adapter the one that runs (true) or take it out of the forward (false). */
  setEnabled(on: boolean): void;
  /** Prompt learning only: positions the tuner puts in front of every sequence (createCache adds them). */
  readonly virtualTokens?: number;
  /**
   * Prompt learning only: extra options for base.run when a sequence starts (no cache or an empty
   * cache). PeftModel passes the caller's options as `opts` and spreads the result over them, so a
   * tuner that must extend e.g. the attention mask reads it from `opts` and returns the new one.
   */
  runOptions?(batch: number, opts?: RunOptions): Partial<RunOptions>;
  /**
   * The adapter_config.json object for this adapter (snake_case, PEFT's fields). Optional: without
   * it saveAdapter uses toAdapterConfigJson(config), which knows LORA, IA3 and BOTTLENECK_ADAPTER.
   */
  configJson?(): Record<string, unknown>;
  /** Layer tuners: fold the adapter into the base weights / take it back out (PeftError UNSUPPORTED where it cannot). */
  merge?(): void;
  unmerge?(): void;
  /** Remove the adapter from the model and free its weights. */
  dispose(): void;
}
