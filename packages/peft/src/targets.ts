/**
 * Which linears an adapter wraps, by PEFT's rules (peft/tuners/tuners_utils.py
 * check_target_module_exists, _maybe_include_all_linear_layers; defaults from
 * peft/utils/constants.py):
 *   - a list matches a module whose name equals an entry or ends with `.${entry}`;
 *   - a string is a regex that must match the whole name (re.fullmatch);
 *   - 'all-linear' is every linear except the output head (lm_head);
 *   - omitted: the family default (LoRA gpt2 ['c_attn'], llama ['q_proj', 'v_proj']; IA3 gpt2
 *     ['c_attn', 'mlp.c_proj'], llama ['k_proj', 'v_proj', 'down_proj']).
 * modules_to_save and exclude_modules are never targets.
 *
 *   matchTargets(['transformer.h.0.attn.c_attn', 'lm_head'], ['c_attn']); // ['transformer.h.0.attn.c_attn']
 */
import type { ModelFamily } from '@llm/transformer';
import { PeftError } from './errors.js';
import type { PeftType } from './config.js';

/** TRANSFORMERS_MODELS_TO_{LORA,IA3}_TARGET_MODULES_MAPPING and our bottleneck placement. */
export const DEFAULT_TARGETS: Readonly<Record<'LORA' | 'IA3' | 'BOTTLENECK_ADAPTER', Readonly<Record<ModelFamily, readonly string[]>>>> = {
  LORA: { gpt2: ['c_attn'], llama: ['q_proj', 'v_proj'] },
  IA3: { gpt2: ['c_attn', 'mlp.c_proj'], llama: ['k_proj', 'v_proj', 'down_proj'] },
  BOTTLENECK_ADAPTER: { gpt2: ['attn.c_proj', 'mlp.c_proj'], llama: ['o_proj', 'down_proj'] },
};
/** TRANSFORMERS_MODELS_TO_IA3_FEEDFORWARD_MODULES_MAPPING. */
export const DEFAULT_IA3_FEEDFORWARD: Readonly<Record<ModelFamily, readonly string[]>> = { gpt2: ['mlp.c_proj'], llama: ['down_proj'] };

/** The default target list of a method for a family. */
export function defaultTargets(type: PeftType, family: ModelFamily): string[] {
  if (type !== 'LORA' && type !== 'IA3' && type !== 'BOTTLENECK_ADAPTER') throw new PeftError('UNSUPPORTED', `${type} has no target modules.`);
  return [...DEFAULT_TARGETS[type][family]];
}

/** PEFT's list rule: equal, or ends with `.${entry}`. */
export function matchesName(name: string, list: readonly string[]): boolean {
  return list.some((t) => name === t || name.endsWith(`.${t}`));
}

/** re.fullmatch of a PEFT regex string. */
export function fullMatch(pattern: string, name: string): boolean {
  let re: RegExp;
  try {
    re = new RegExp(`^(?:${pattern})$`);
  } catch {
    throw new PeftError('CONFIG_INVALID', `target_modules ${JSON.stringify(pattern)} is not a valid regular expression.`);
  }
  return re.test(name);
}

/** Whether a name is selected by a target spec (list or regex). */
export function selects(spec: readonly string[] | string, name: string): boolean {
  return typeof spec === 'string' ? fullMatch(spec, name) : matchesName(name, spec);
}

export interface MatchOptions {
  exclude?: readonly string[] | string | null;
  modulesToSave?: readonly string[] | null;
  layersToTransform?: number | readonly number[] | null;
  layersPattern?: string | readonly string[] | null;
}

/**
 * The names among `available` that `spec` selects, in model order. 'all-linear' → every name but
 * lm_head. Selecting nothing is PeftError TARGET_NOT_FOUND listing the names there are.
 */
export function matchTargets(available: readonly string[], spec: readonly string[] | string, opts: MatchOptions = {}): string[] {
  const all = typeof spec === 'string' && spec.toLowerCase() === 'all-linear';
  const out = available.filter((name) => {
    if (opts.exclude && selects(opts.exclude, name)) return false;
    if (opts.modulesToSave && opts.modulesToSave.some((m) => new RegExp(`(^|.*\\.)${escapeRe(m)}($|\\..*)`).test(name))) return false;
    if (all) return name !== 'lm_head';
    if (!selects(spec, name)) return false;
    return typeof spec === 'string' ? true : inLayers(name, opts.layersToTransform ?? null, opts.layersPattern ?? null);
  });
  if (out.length === 0) {
    throw new PeftError('TARGET_NOT_FOUND', `target_modules ${JSON.stringify(spec)} match no linear module of this model; its linears are: ${available.join(', ')}. Use names from that list (PEFT matches the full name or its tail after a dot), a full-match regex, or "all-linear".`);
  }
  return out;
}

/** PEFT's layers_to_transform filter: the first numbered segment (after layers_pattern if given) is the layer index. */
function inLayers(name: string, layers: number | readonly number[] | null, pattern: string | readonly string[] | null): boolean {
  if (layers === null || (Array.isArray(layers) && layers.length === 0)) return true;
  let m: RegExpExecArray | null = null;
  const patterns = pattern === null ? [] : typeof pattern === 'string' ? [pattern] : pattern;
  if (patterns.length === 0) m = /^.*?\.[^.]*\.(\d+)\./.exec(name);
  else for (const p of patterns) if ((m = new RegExp(`^.*?\\.${p}\\.(\\d+)\\.`).exec(name))) break;
  if (!m) return false;
  const idx = Number(m[1]);
  return typeof layers === 'number' ? idx === layers : (layers as readonly number[]).includes(idx);
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
