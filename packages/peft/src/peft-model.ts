/**
 * PeftModel: a TransformerLM with adapters attached through its module tree. It implements the
 * CausalLM contract (forward, createCache, config) and what @llm/train's loop uses (run,
 * trainableParameters, dropout state, save), so sampling and training take it unchanged.
 *
 *   const peft = getPeftModel(model, { peftType: 'LORA', r: 8, loraAlpha: 16 });
 *   peft.trainableParameters();               // only lora_A / lora_B
 *   peft.withAdaptersDisabled(() => peft.forward(ids)); // the base model's logits
 *   const merged = peft.mergeAndUnload();     // a plain TransformerLM, W' = W + s·BA
 *
 * One adapter is active at a time (setAdapter); all adapters of a model are of one peft type
 * (PEFT's rule). Dropout on adapter inputs is on when run/forward get `training: true`: its
 * masks come from a stream seeded by the base model's dropout state, which each training call
 * advances, so getDropoutState/setDropoutState (delegated to the base) also resume them exactly.
 */
import { tf, Rng, hashSeed } from '@llm/tensor-gpu';
import { type CausalLM, type ForwardOptions, type KVCache, type LinearModule, type ModelConfig, type ModelGenerationConfig, type ModelOutput, type RunOptions, type TransformerLM } from '@llm/transformer';
import { QuantizedLinear } from '@llm/quant';
import { PeftError } from './errors.js';
import { isPromptLearning, resolvePeftConfig, type PeftConfig, type ResolvedPeftConfig } from './config.js';
import type { Tuner } from './tuner.js';
import { createTuner } from './tuners/create.js';
import { isAdapterLayer, type AdapterLayer } from './layers/adapter-layer.js';
import { BottleneckLinear } from './layers/bottleneck-linear.js';
import { ModulesToSaveLinear } from './layers/modules-to-save.js';
import { dropoutFn } from './layers/dropout.js';
import { saveAdapter } from './format/save.js';

export interface GetPeftModelOptions {
  /** Name of the first adapter. Default 'default'. */
  adapterName?: string;
  /** Encodes promptTuningInitText (prompt tuning with promptTuningInit 'TEXT'). */
  tokenizer?: { encode(text: string): number[] };
}

export interface AddAdapterOptions {
  /** Its weights trainable (default: not config.inferenceMode, as PEFT). */
  trainable?: boolean;
  /** Encodes promptTuningInitText (prompt tuning with promptTuningInit 'TEXT'). */
  tokenizer?: { encode(text: string): number[] };
  /** @internal The config came from a file (a projected prefix loads as its saved table). */
  fromFile?: boolean;
}

/** A tuner's trainable weights: parameters() where it has them, else its state dict (Variables). */
function tunerWeights(t: Tuner): Array<[string, tf.Variable]> {
  return t.parameters?.() ?? (t.stateDict() as Array<[string, tf.Variable]>);
}

/**
 * Freeze every base weight, then attach the adapter `config` as `adapterName` (active).
 * Throws PeftError TARGET_NOT_FOUND when the targets match no module.
 */
export function getPeftModel(model: TransformerLM, config: PeftConfig, opts: GetPeftModelOptions = {}): PeftModel {
  model.setTrainable(/./, false);
  const peft = new PeftModel(model);
  peft.addAdapter(opts.adapterName ?? 'default', config, opts.tokenizer ? { tokenizer: opts.tokenizer } : {});
  return peft;
}

export class PeftModel implements CausalLM {
  /** The wrapped model (its linears are adapter wrappers while adapters are attached). */
  readonly base: TransformerLM;
  private readonly tuners = new Map<string, Tuner>();
  private readonly trainableFlag = new Map<string, boolean>();
  private activeName: string | null = null;
  private enabled = true;
  private mergedName: string | null = null;
  private spent = false;

  /** Wrap `base` with no adapter yet (getPeftModel is the usual entry; addAdapter attaches). */
  constructor(base: TransformerLM) {
    this.base = base;
  }

  get config(): ModelConfig {
    return this.base.config;
  }
  get generationConfig(): ModelGenerationConfig {
    return this.base.generationConfig;
  }
  /** The active adapter's name (null before the first addAdapter). */
  get activeAdapter(): string | null {
    return this.activeName;
  }
  /** Whether adapters run (false after disableAdapters()). */
  get adaptersEnabled(): boolean {
    return this.enabled;
  }
  /** The adapter merged into the base weights, or null. */
  get merged(): string | null {
    return this.mergedName;
  }
  /** Every adapter's resolved config by name (PEFT's peft_config). */
  get peftConfig(): Record<string, ResolvedPeftConfig> {
    return Object.fromEntries([...this.tuners].map(([n, t]) => [n, t.config]));
  }
  adapterNames(): string[] {
    return [...this.tuners.keys()];
  }
  tuner(name: string): Tuner {
    const t = this.tuners.get(name);
    if (!t) throw new PeftError('ADAPTER_NOT_FOUND', `no adapter "${name}"; this model has ${this.adapterNames().map((n) => `"${n}"`).join(', ') || 'none'}.`);
    return t;
  }

  // ---- adapters ----------------------------------------------------------------------------

  /** Attach another adapter (inactive unless it is the first one; setAdapter switches). */
  addAdapter(name: string, config: PeftConfig | ResolvedPeftConfig, opts: AddAdapterOptions = {}): Tuner {
    this.alive();
    const resolved = isPromptLearning(config) ? config : resolvePeftConfig(config);
    const first = [...this.tuners.values()][0];
    if (first && first.peftType !== resolved.peftType) throw mixed(first.peftType, resolved.peftType);
    const extra = { ...(opts.tokenizer ? { tokenizer: opts.tokenizer } : {}), ...(opts.fromFile ? { fromFile: true } : {}) };
    return this.addTuner(name, (trainable) => createTuner(this.base, name, resolved, { trainable, ...extra }), opts.trainable ?? !(resolved.inferenceMode ?? false));
  }

  /**
   * Attach a tuner built by `make` (for methods that bring their own Tuner class, e.g. prompt
   * tuning): checks the name and the peft type, then activates it if it is the first adapter.
   */
  addTuner(name: string, make: (trainable: boolean) => Tuner, trainable = true): Tuner {
    this.alive();
    if (typeof name !== 'string' || name === '' || name.includes('/') || name.includes('\\') || name === '..') throw new PeftError('INVALID_ARGUMENT', `adapter name must be a non-empty string without path separators, got ${JSON.stringify(name)}.`);
    if (this.tuners.has(name)) throw new PeftError('ADAPTER_EXISTS', `an adapter named "${name}" already exists; deleteAdapter("${name}") first or pick another name.`);
    if (this.mergedName !== null) throw new PeftError('UNSUPPORTED', `addAdapter: adapter "${this.mergedName}" is merged into the base weights; unmerge() first.`);
    const tuner = make(trainable);
    const first = [...this.tuners.values()][0];
    if (first && first.peftType !== tuner.peftType) {
      tuner.dispose();
      throw mixed(first.peftType, tuner.peftType);
    }
    this.tuners.set(name, tuner);
    this.trainableFlag.set(name, trainable);
    if (this.activeName === null) this.setAdapter(name);
    else {
      tuner.setEnabled(false);
      this.refreshTrainable();
    }
    return tuner;
  }

  /** Make `name` the adapter that runs (and the only trainable one). Unmerges a merged adapter first. */
  setAdapter(name: string): void {
    this.alive();
    const t = this.tuner(name);
    if (this.mergedName !== null) this.unmerge();
    for (const o of this.tuners.values()) o.setEnabled(false);
    this.activeName = name;
    if (this.enabled) t.setEnabled(true);
    this.refreshTrainable();
  }

  /** Run the base model alone (PEFT's disable_adapter_layers); a merged adapter is unmerged first. */
  disableAdapters(): void {
    this.alive();
    if (this.mergedName !== null) this.unmerge();
    for (const t of this.tuners.values()) t.setEnabled(false);
    this.enabled = false;
  }

  enableAdapters(): void {
    this.alive();
    this.enabled = true;
    if (this.activeName !== null) this.tuner(this.activeName).setEnabled(true);
  }

  /**
   * Run `fn` with adapters off (the "reference model = base without adapter" of DPO-style losses),
   * restoring the previous state afterwards, also when fn throws or its promise rejects.
   */
  withAdaptersDisabled<T>(fn: () => T): T {
    const was = this.enabled;
    this.disableAdapters();
    let result: T;
    try {
      result = fn();
    } catch (e) {
      if (was) this.enableAdapters();
      throw e;
    }
    if (was && result instanceof Promise) return result.finally(() => this.enableAdapters()) as T;
    if (was) this.enableAdapters();
    return result;
  }

  /** Remove an adapter and free its weights; deleting the active one activates the first remaining (or none). */
  deleteAdapter(name: string): void {
    this.alive();
    const t = this.tuner(name);
    if (this.mergedName === name) this.unmerge();
    t.dispose();
    this.tuners.delete(name);
    this.trainableFlag.delete(name);
    if (this.activeName === name) {
      this.activeName = null;
      const next = this.adapterNames()[0];
      if (next !== undefined) this.setAdapter(next);
    }
  }

  // ---- merge -------------------------------------------------------------------------------

  /** Fold the active adapter into the base weights (float bases; bottleneck adapters: UNSUPPORTED). */
  merge(): void {
    this.alive();
    const t = this.activeTuner('merge');
    if (this.mergedName !== null) return;
    if (!t.merge) throw new PeftError('UNSUPPORTED', `${t.peftType} adapters cannot be merged into the base weights.`);
    t.merge();
    this.mergedName = t.adapterName;
  }

  /** Take the merged adapter back out (LoRA exactly up to float rounding; IA3 divides, as PEFT). */
  unmerge(): void {
    this.alive();
    if (this.mergedName === null) return;
    this.tuner(this.mergedName).unmerge?.();
    this.mergedName = null;
  }

  /**
   * A plain TransformerLM: every wrapped linear becomes a float `Linear` (in the model's layout)
   * with the active adapter folded in (W' = W + s·BA; DoRA W' = m ⊙ (W + s·BA)/‖W + s·BA‖; IA3
   * W ⊙ l), modules_to_save copies replace their originals, and adapter weights are freed. With
   * adapters disabled the bases come back unchanged. An NF4 / quantized base is merged into its
   * dequantized float32 weight. Bottleneck adapters cannot merge (PeftError UNSUPPORTED). This
   * PeftModel is spent afterwards; the returned model is the same object as `base`.
   */
  mergeAndUnload(): TransformerLM {
    this.alive();
    const active = this.enabled && this.activeName !== null ? this.tuner(this.activeName) : null;
    if (active && !active.merge) throw new PeftError('UNSUPPORTED', `${active.peftType} adapters cannot be merged into the base weights.`);
    const model = this.base;
    const layers = model.linearNames().map((n) => [n, model.getModule(n)] as const).filter((e): e is readonly [string, AdapterLayer] => isAdapterLayer(e[1]));
    const use = active?.adapterName ?? null;
    for (const [name, l] of layers) {
      if (use !== null && l instanceof BottleneckLinear && l.adapterNames().includes(use)) {
        throw new PeftError('UNSUPPORTED', `mergeAndUnload: "${name}" carries a bottleneck adapter, which cannot be merged into the base weights (a nonlinearity sits between its projections). Keep the PeftModel, or disableAdapters() to unload without merging.`);
      }
      if (use !== null && l instanceof ModulesToSaveLinear && l.adapterNames().includes(use) && name === 'lm_head' && model.layout.tied) {
        throw new PeftError('UNSUPPORTED', 'mergeAndUnload: lm_head is in modules_to_save but tied to the token embedding; a plain model with a tied head cannot hold a separate trained head. Untie the head (tieWordEmbeddings: false) before training it.');
      }
    }
    if (this.mergedName !== null) this.unmerge();
    const tied = model.layout.tied ? model.param(model.layout.embedName) : null;
    for (const [name, l] of layers) {
      let next: LinearModule = l.base;
      if (use !== null && l.adapterNames().includes(use)) {
        const layout = model.layout.linears.find((s) => s.name === name)?.layout ?? 'out_in';
        next = l.mergedModule(use, layout);
        if (l.base instanceof QuantizedLinear) l.base.dispose();
        else for (const [, v] of l.base.namedParameters()) if (v !== tied && !v.isDisposed) v.dispose();
        for (const [, v] of next.namedParameters()) if (v !== tied) v.trainable = false;
      }
      model.replaceModule(name, next);
    }
    for (const t of this.tuners.values()) t.dispose();
    this.tuners.clear();
    this.spent = true;
    return model;
  }

  // ---- forward -----------------------------------------------------------------------------

  createCache(batch: number, maxLen?: number): KVCache {
    this.alive();
    const vt = this.activeRunning()?.virtualTokens ?? 0;
    return vt === 0 && maxLen === undefined ? this.base.createCache(batch) : this.base.createCache(batch, (maxLen ?? this.base.config.blockSize) + vt);
  }

  forward(ids: tf.Tensor, opts: ForwardOptions = {}): tf.Tensor3D {
    const out = this.run(ids, opts);
    out.hidden.dispose();
    out.auxLoss?.dispose();
    return out.logits!;
  }

  /** The base model's run with the active adapter in place (and, for prompt learning, its run options at a sequence start). */
  run(ids: tf.Tensor, opts: RunOptions = {}): ModelOutput {
    this.alive();
    const t = this.activeRunning();
    const starts = t?.runOptions && (!opts.cache || opts.cache.length === 0) ? t : null;
    const layers = opts.training ? this.adapterLayers() : [];
    if (layers.length > 0) {
      const state = this.base.getDropoutState();
      const drop = dropoutFn(new Rng(hashSeed(state, 'peft-dropout')));
      this.base.setDropoutState(hashSeed(state, 'peft-dropout-next'));
      for (const l of layers) l.dropout = drop;
    }
    try {
      if (!starts) return this.base.run(ids, opts);
      // Prompt learning: the prompt's tensors (embeddings, a prefix's keys/values) are made per
      // forward inside this tidy, so gradients reach the prompt weights and nothing but the outputs
      // outlives the call.
      const B = ids.shape[0] ?? 1;
      return tf.tidy(() => this.base.run(ids, { ...opts, ...starts.runOptions!(B, opts) }) as unknown as tf.TensorContainer) as unknown as ModelOutput;
    } finally {
      for (const l of layers) l.dropout = null;
    }
  }

  // ---- weights -----------------------------------------------------------------------------

  /** Every weight: the base's (wrappers name theirs PEFT-style: base_layer.weight, lora_A.<adapter>.weight, …) and tuner weights outside the module tree. */
  namedParameters(): Array<[string, tf.Variable]> {
    this.alive();
    const out = this.base.namedParameters();
    const seen = new Set(out.map(([, v]) => v));
    for (const t of this.tuners.values()) for (const [n, v] of tunerWeights(t)) if (!seen.has(v)) {
      seen.add(v);
      out.push([n, v]);
    }
    return out;
  }

  /** What an optimizer should update: the active adapter's weights (+ modules_to_save copies and bias-mode biases). */
  trainableParameters(): Array<[string, tf.Variable]> {
    return this.namedParameters().filter(([, v]) => v.trainable);
  }

  getDropoutState(): number {
    return this.base.getDropoutState();
  }
  setDropoutState(state: number): void {
    this.base.setDropoutState(state);
  }

  /** Write the adapters in HF PEFT's format (saveAdapter): `dir` for 'default', `dir/<name>` for the others. */
  async save(dir: string, opts: { adapterName?: string | readonly string[] } = {}): Promise<void> {
    await saveAdapter(this, dir, opts);
  }

  /** Free the adapters and the base model (quantized modules' packed state included). */
  dispose(): void {
    if (this.spent) return;
    for (const t of this.tuners.values()) t.dispose();
    this.tuners.clear();
    for (const n of this.base.linearNames()) {
      const m = this.base.getModule(n);
      if (m instanceof QuantizedLinear) m.dispose();
    }
    this.base.dispose();
    this.spent = true;
  }

  // ---- internals ---------------------------------------------------------------------------

  private refreshTrainable(): void {
    const order = [...this.tuners.entries()].sort(([a], [b]) => Number(a === this.activeName) - Number(b === this.activeName));
    for (const [name, t] of order) {
      const on = name === this.activeName && (this.trainableFlag.get(name) ?? true);
      for (const [, v] of tunerWeights(t)) v.trainable = on;
    }
  }

  private activeTuner(what: string): Tuner {
    if (this.activeName === null) throw new PeftError('ADAPTER_NOT_FOUND', `${what}: this model has no adapter.`);
    if (!this.enabled) throw new PeftError('UNSUPPORTED', `${what}: adapters are disabled; enableAdapters() first.`);
    return this.tuner(this.activeName);
  }

  private activeRunning(): Tuner | null {
    return this.enabled && this.activeName !== null ? this.tuners.get(this.activeName) ?? null : null;
  }

  private adapterLayers(): AdapterLayer[] {
    return this.base.linearNames().map((n) => this.base.getModule(n)).filter(isAdapterLayer);
  }

  private alive(): void {
    if (this.spent) throw new PeftError('UNSUPPORTED', 'this PeftModel was unloaded (mergeAndUnload) or disposed; use the model it returned, or build a new PeftModel.');
  }
}

function mixed(a: string, b: string): PeftError {
  return new PeftError('UNSUPPORTED', `cannot combine adapters of different peft types ("${a}" and "${b}") in one model (PEFT's rule); use a second PeftModel.`);
}
