// @llm/peft — parameter-efficient fine-tuning (LoRA, DoRA, QLoRA, IA3, bottleneck adapters, prompt and prefix tuning) in
// HF PEFT's adapter format. Public surface (named exports only).
export { PeftError, type PeftErrorCode } from './errors.js';
export {
  resolvePeftConfig,
  toAdapterConfigJson,
  fromAdapterConfigJson,
  loraScaling,
  isPromptLearning,
  type PeftType,
  type LayerPeftConfig,
  type ResolvedLayerConfig,
  type PeftConfig,
  type LoraConfig,
  type IA3Config,
  type BottleneckConfig,
  type BottleneckActivation,
  type LoraBias,
  type TargetModules,
  type ResolvedPeftConfig,
  type ResolvedLoraConfig,
  type ResolvedIA3Config,
  type ResolvedBottleneckConfig,
} from './config.js';
export { DEFAULT_TARGETS, DEFAULT_IA3_FEEDFORWARD, matchTargets, defaultTargets } from './targets.js';
export type { Tuner } from './tuner.js';
export { resolvePromptConfig, promptConfigToJson, type PromptLearningConfig, type PromptTuningConfig, type PrefixTuningConfig, type PromptTuningInit, type ResolvedPromptConfig, type ResolvedPromptTuningConfig, type ResolvedPrefixTuningConfig } from './prompt/config.js';
export { PromptTuner, type PromptInitOptions } from './prompt/prompt-tuning.js';
export { PrefixTuner } from './prompt/prefix-tuning.js';
export { PeftModel, getPeftModel, type GetPeftModelOptions, type AddAdapterOptions } from './peft-model.js';
export { LoraLinear, type LoraAdapter, type LoraAdapterInit } from './layers/lora-linear.js';
export { Ia3Linear, type Ia3Adapter } from './layers/ia3-linear.js';
export { BottleneckLinear, type BottleneckAdapter } from './layers/bottleneck-linear.js';
export { ModulesToSaveLinear } from './layers/modules-to-save.js';
export { isAdapterLayer, type AdapterLayer, type DropoutFn } from './layers/adapter-layer.js';
export { LayerTuner, STATE_PREFIX } from './tuners/layer-tuner.js';
export { createTuner, type CreateTunerOptions } from './tuners/create.js';
export { saveAdapter, adapterConfigText, ADAPTER_CONFIG_NAME, ADAPTER_WEIGHTS_NAME, type SaveAdapterOptions } from './format/save.js';
export { loadAdapter, type LoadAdapterOptions } from './format/load.js';
export { pythonJson } from './format/python-json.js';
export { prepareQlora } from './qlora.js';
export { trainableParameters, memoryFootprint, type TrainableCount, type MemoryFootprint } from './count.js';
