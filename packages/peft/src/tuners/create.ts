/**
 * The tuner for a config: the one place a new method plugs in (prompt and prefix tuning add
 * their cases here).
 *
 *   const t = createTuner(model, 'default', resolvePeftConfig({ peftType: 'IA3' }));
 */
import type { TransformerLM } from '@llm/transformer';
import { PeftError } from '../errors.js';
import type { ResolvedPeftConfig } from '../config.js';
import type { Tuner } from '../tuner.js';
import { LayerTuner } from './layer-tuner.js';
import { resolvePromptConfig, type PromptLearningConfig, type ResolvedPrefixTuningConfig, type ResolvedPromptTuningConfig } from '../prompt/config.js';
import { PromptTuner } from '../prompt/prompt-tuning.js';
import { PrefixTuner } from '../prompt/prefix-tuning.js';

export interface CreateTunerOptions {
  /** Adapter weights trainable (default true). */
  trainable?: boolean;
  /** Encodes promptTuningInitText (prompt tuning, init 'TEXT'). */
  tokenizer?: { encode(text: string): number[] };
  /** The config came from a file: a projected prefix is built as its saved table. */
  fromFile?: boolean;
}

export function createTuner(model: TransformerLM, adapterName: string, config: ResolvedPeftConfig | PromptLearningConfig, opts: CreateTunerOptions = {}): Tuner {
  switch (config.peftType) {
    case 'PROMPT_TUNING': {
      const c = resolvePromptConfig(config, model.config) as ResolvedPromptTuningConfig;
      return new PromptTuner(adapterName, c, model, opts);
    }
    case 'PREFIX_TUNING': {
      const c = resolvePromptConfig(config, model.config) as ResolvedPrefixTuningConfig;
      return new PrefixTuner(adapterName, c, { flat: opts.fromFile === true, trainable: opts.trainable ?? true });
    }
    case 'LORA':
    case 'IA3':
    case 'BOTTLENECK_ADAPTER':
      return new LayerTuner(model, adapterName, config, opts);
    default:
      throw new PeftError('UNSUPPORTED_PEFT_TYPE', `peft_type ${JSON.stringify((config as { peftType: unknown }).peftType)} has no tuner here yet.`);
  }
}
