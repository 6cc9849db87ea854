// Config resolution, PEFT's target matching rules, and the adapter_config.json mapping.
import { describe, expect, it } from 'vitest';
import { expectError } from '@llm/kit';
import { PeftError, fromAdapterConfigJson, loraScaling, matchTargets, resolvePeftConfig, toAdapterConfigJson, type ResolvedLayerConfig } from './index.js';

const NAMES = ['transformer.h.0.attn.c_attn', 'transformer.h.0.attn.c_proj', 'transformer.h.0.mlp.c_fc', 'transformer.h.0.mlp.c_proj', 'transformer.h.1.attn.c_attn', 'lm_head'];

describe('targets (PEFT check_target_module_exists)', () => {
  it('a list entry matches the full name or its tail after a dot, never a partial segment', () => {
    expect(matchTargets(NAMES, ['c_attn'])).toEqual(['transformer.h.0.attn.c_attn', 'transformer.h.1.attn.c_attn']);
    expect(matchTargets(NAMES, ['mlp.c_proj'])).toEqual(['transformer.h.0.mlp.c_proj']);
    expect(matchTargets(NAMES, ['lm_head'])).toEqual(['lm_head']);
    expectError(() => matchTargets(NAMES, ['attn']), 'TARGET_NOT_FOUND', 'transformer.h.0.attn.c_attn', PeftError);
  });
  it('a string is a full-match regex; all-linear is everything but lm_head; exclude and layer filters', () => {
    expect(matchTargets(NAMES, String.raw`.*\.c_(fc|proj)`)).toEqual(['transformer.h.0.attn.c_proj', 'transformer.h.0.mlp.c_fc', 'transformer.h.0.mlp.c_proj']);
    expectError(() => matchTargets(NAMES, 'c_attn'), 'TARGET_NOT_FOUND', undefined, PeftError);
    expect(matchTargets(NAMES, 'all-linear')).toEqual(NAMES.slice(0, 5));
    expect(matchTargets(NAMES, 'all-linear', { exclude: ['c_proj'] })).toEqual(['transformer.h.0.attn.c_attn', 'transformer.h.0.mlp.c_fc', 'transformer.h.1.attn.c_attn']);
    expect(matchTargets(NAMES, ['c_attn'], { layersToTransform: 1, layersPattern: 'h' })).toEqual(['transformer.h.1.attn.c_attn']);
  });
});

describe('configs', () => {
  it('PEFT defaults; scaling α/r and α/√r', () => {
    const c = resolvePeftConfig({ peftType: 'LORA' });
    expect(c).toMatchObject({ r: 8, loraAlpha: 8, loraDropout: 0, bias: 'none', initLoraWeights: true, useDora: false, useRslora: false, taskType: 'CAUSAL_LM', seed: 0 });
    expect(loraScaling(16, 32, false)).toBe(2);
    expect(loraScaling(16, 32, true)).toBe(8);
  });
  it('bad values → CONFIG_INVALID; unknown peft types and unsupported options are named', () => {
    expectError(() => resolvePeftConfig({ peftType: 'LORA', r: 0 }), 'CONFIG_INVALID', 'r must be', PeftError);
    expectError(() => resolvePeftConfig({ peftType: 'LORA', bias: 'some' as never }), 'CONFIG_INVALID', 'bias', PeftError);
    expectError(() => resolvePeftConfig({ peftType: 'LORA', initLoraWeights: 'olora' as never }), 'UNSUPPORTED', 'olora', PeftError);
    expectError(() => resolvePeftConfig({ peftType: 'LOHA' } as never), 'UNSUPPORTED_PEFT_TYPE', 'LOHA', PeftError);
    expectError(() => fromAdapterConfigJson({ peft_type: 'LORA', use_qalora: true }), 'UNSUPPORTED', 'use_qalora', PeftError);
    expectError(() => fromAdapterConfigJson([1]), 'ADAPTER_INVALID', undefined, PeftError);
  });
  it('adapter_config.json ↔ config: snake_case fields, unknown fields kept, inference_mode true when written', () => {
    const c = fromAdapterConfigJson({ peft_type: 'LORA', r: 4, lora_alpha: 16, target_modules: ['q_proj'], use_dora: true, custom_field: { a: 1 }, peft_version: '0.17.0' });
    expect(c).toMatchObject({ peftType: 'LORA', r: 4, loraAlpha: 16, targetModules: ['q_proj'], useDora: true });
    const j = toAdapterConfigJson(c as ResolvedLayerConfig);
    expect(j).toMatchObject({ peft_type: 'LORA', r: 4, lora_alpha: 16, use_dora: true, custom_field: { a: 1 }, peft_version: '0.17.0', inference_mode: true, megatron_core: 'megatron.core', loftq_config: {} });
    expect(toAdapterConfigJson(resolvePeftConfig({ peftType: 'IA3' }))).toEqual({
      auto_mapping: null, base_model_name_or_path: null, exclude_modules: null, fan_in_fan_out: false, feedforward_modules: null,
      inference_mode: true, init_ia3_weights: true, modules_to_save: null, peft_type: 'IA3', revision: null, target_modules: null, task_type: 'CAUSAL_LM',
    });
  });
});
