/**
 * The tuner of one LoRA / DoRA / IA3 / bottleneck adapter: it wraps the target linears of a
 * TransformerLM through the module tree (one wrapper per linear, shared by every adapter of the
 * same kind), adds trainable copies for modules_to_save, and knows its weights by PEFT's
 * checkpoint names (`base_model.model.<module>.lora_A.weight`, …).
 *
 *   const t = new LayerTuner(model, 'default', resolvePeftConfig({ peftType: 'LORA', r: 4 }));
 *   t.stateDict()[0][0]; // 'base_model.model.transformer.h.0.attn.c_attn.lora_A.weight'
 *
 * Dimension legend: C in features, O out features, R rank, Bn bottleneck width.
 */
import { tf, Rng, hashSeed } from '@llm/tensor-gpu';
import { Linear, type LinearModule, type TransformerLM } from '@llm/transformer';
import { PeftError } from '../errors.js';
import { isPissa, loraScaling, patternValue, type PeftType, type ResolvedLayerConfig } from '../config.js';
import { DEFAULT_IA3_FEEDFORWARD, defaultTargets, fullMatch, matchTargets } from '../targets.js';
import type { Tuner } from '../tuner.js';
import { isAdapterLayer, type AdapterLayer } from '../layers/adapter-layer.js';
import { LoraLinear, sameShape } from '../layers/lora-linear.js';
import { Ia3Linear } from '../layers/ia3-linear.js';
import { BottleneckLinear } from '../layers/bottleneck-linear.js';
import { ModulesToSaveLinear } from '../layers/modules-to-save.js';
import { kaimingUniformA5, normal } from '../layers/init.js';
import { svd } from '../layers/svd.js';
import { assignOutIn, weightOutIn } from '../layers/base-weight.js';

/** The prefix PEFT puts in front of every module name in adapter_model.safetensors. */
export const STATE_PREFIX = 'base_model.model.';

export interface LayerTunerOptions {
  /** Adapter weights trainable (default true; loadAdapter passes isTrainable). */
  trainable?: boolean;
}

export class LayerTuner implements Tuner {
  readonly peftType: PeftType;
  readonly adapterName: string;
  readonly config: ResolvedLayerConfig;
  /** Wrapped target modules by name, in model order. */
  readonly layers = new Map<string, AdapterLayer>();
  /** modules_to_save wrappers by name. */
  readonly saved = new Map<string, ModulesToSaveLinear>();
  private readonly model: TransformerLM;
  private disposed = false;

  constructor(model: TransformerLM, adapterName: string, config: ResolvedLayerConfig, opts: LayerTunerOptions = {}) {
    this.model = model;
    this.adapterName = adapterName;
    this.peftType = config.peftType;
    const cfg = { ...config, extra: { ...config.extra } } as ResolvedLayerConfig;
    this.config = cfg;
    const family = model.config.family;
    const available = model.linearNames();
    // The module names a file or a config can name: plain names (wrappers keep their module name).
    let spec = cfg.targetModules ?? defaultTargets(cfg.peftType, family);
    const names = matchTargets(available, spec, {
      exclude: 'excludeModules' in cfg ? cfg.excludeModules : null,
      modulesToSave: cfg.modulesToSave,
      ...(cfg.peftType === 'LORA' ? { layersToTransform: cfg.layersToTransform, layersPattern: cfg.layersPattern } : {}),
    });
    // PEFT writes the resolved list: the family default, or every name for 'all-linear'.
    if (typeof spec === 'string' && spec.toLowerCase() === 'all-linear') spec = names;
    cfg.targetModules = typeof spec === 'string' ? spec : [...spec];
    const trainable = opts.trainable ?? true;
    const created: Array<[string, LinearModule]> = [];
    try {
      for (const name of names) this.attach(name, trainable, created);
      for (const name of this.savedNames(available)) {
        const cur = model.getModule(name);
        let w: ModulesToSaveLinear;
        if (cur instanceof ModulesToSaveLinear) w = cur;
        else {
          if (isAdapterLayer(cur)) throw new PeftError('UNSUPPORTED', `modules_to_save "${name}" is already wrapped by a ${cur.kind} adapter; a module cannot be both a target and saved whole.`);
          w = new ModulesToSaveLinear(cur);
          model.replaceModule(name, w);
          created.push([name, cur]);
        }
        w.addCopy(adapterName, trainable);
        this.saved.set(name, w);
      }
    } catch (e) {
      this.dispose();
      for (const [name, orig] of created.reverse()) {
        const m = model.getModule(name);
        if (m !== orig && isAdapterLayer(m) && m.adapterNames().length === 0) model.replaceModule(name, orig);
      }
      throw e;
    }
  }

  /** modules_to_save names resolved against the model (PEFT: the module name or its tail after a dot). */
  private savedNames(available: readonly string[]): string[] {
    const want = this.config.modulesToSave ?? [];
    const out: string[] = [];
    for (const m of want) {
      const hit = available.filter((n) => n === m || n.endsWith(`.${m}`));
      if (hit.length === 0) throw new PeftError('TARGET_NOT_FOUND', `modules_to_save "${m}" matches no linear module; the linears are: ${available.join(', ')}. (Only linear modules can be saved whole here.)`);
      out.push(...hit);
    }
    return [...new Set(out)];
  }

  private attach(name: string, trainable: boolean, created: Array<[string, LinearModule]>): void {
    const cfg = this.config;
    const cur = this.model.getModule(name);
    let layer: AdapterLayer;
    if (isAdapterLayer(cur)) {
      if (cur.kind !== cfg.peftType) throw new PeftError('UNSUPPORTED', `"${name}" already carries a ${cur.kind} adapter; one model holds adapters of one kind (merge or delete the other first).`);
      layer = cur;
    } else {
      layer = cfg.peftType === 'LORA' ? new LoraLinear(cur) : cfg.peftType === 'IA3' ? new Ia3Linear(cur) : new BottleneckLinear(cur);
      this.model.replaceModule(name, layer);
      created.push([name, cur]);
    }
    const base = layer.base;
    const C = base.inFeatures;
    const O = base.outFeatures;
    const seed = (label: string) => new Rng(hashSeed(cfg.seed, `${name}.${label}`));
    if (cfg.peftType === 'LORA') {
      // PEFT flips fan_in_fan_out to match the layer type (Conv1D → true, nn.Linear → false) and saves that.
      cfg.fanInFanOut = base instanceof Linear && base.layout === 'in_out';
      const r = patternValue(cfg.rankPattern, name) ?? cfg.r;
      const alpha = patternValue(cfg.alphaPattern, name) ?? cfg.loraAlpha;
      const init = cfg.initLoraWeights;
      const scaling = loraScaling(r, alpha, cfg.useRslora);
      let a: Float32Array, b: Float32Array;
      if (isPissa(init)) [a, b] = pissaInit(base, name, r, scaling); // [R, C], [O, R]; the base now holds the residual
      else {
        a = init === 'gaussian' ? normal(seed('lora_A'), r * C, 1 / r) : kaimingUniformA5(seed('lora_A'), r, C); // [R, C]
        b = init === false ? kaimingUniformA5(seed('lora_B'), O, r) : new Float32Array(O * r); // [O, R]
      }
      const A = tf.tensor2d(a, [r, C]);
      const B = tf.tensor2d(b, [O, r]);
      try {
        (layer as LoraLinear).addAdapter(this.adapterName, { r, scaling, dropout: cfg.loraDropout, A, B, useDora: cfg.useDora, trainable });
      } finally {
        tf.dispose([A, B]);
      }
    } else if (cfg.peftType === 'IA3') {
      cfg.fanInFanOut = base instanceof Linear && base.layout === 'in_out';
      const ff = cfg.feedforwardModules ?? [...DEFAULT_IA3_FEEDFORWARD[this.model.config.family]];
      cfg.feedforwardModules = ff;
      // PEFT's _check_target_module_feedforward: fullmatch for a string, plain endswith for a list.
      const feedforward = typeof ff === 'string' ? fullMatch(ff, name) : ff.some((k) => name.endsWith(k));
      const shape = (layer as Ia3Linear).shapeFor(feedforward);
      const init = cfg.initIa3Weights ? tf.ones(shape) : tf.tensor2d(normal(seed('ia3_l'), shape[0] * shape[1], 1), shape);
      try {
        (layer as Ia3Linear).addAdapter(this.adapterName, { feedforward, init, trainable });
      } finally {
        init.dispose();
      }
    } else {
      const bn = cfg.bottleneckSize ?? Math.max(1, Math.ceil(O / cfg.reductionFactor));
      const downW = tf.tensor2d(normal(seed('adapter_down'), bn * O, cfg.initStd), [bn, O]); // [Bn, O]
      const upW = tf.zeros([O, bn]); // [O, Bn]
      try {
        (layer as BottleneckLinear).addAdapter(this.adapterName, { act: cfg.nonLinearity, downW, upW, trainable });
      } finally {
        tf.dispose([downW, upW]);
      }
    }
    this.layers.set(name, layer);
  }

  stateDict(): Array<[string, tf.Variable]> {
    const out: Array<[string, tf.Variable]> = [];
    for (const [name, layer] of this.layers) for (const [rel, v] of layer.adapterParams(this.adapterName)) out.push([`${STATE_PREFIX}${name}.${rel}`, v]);
    for (const [name, w] of this.saved) for (const [rel, v] of w.adapterParams(this.adapterName)) out.push([`${STATE_PREFIX}${name}.${rel}`, v]);
    out.push(...this.biasParams());
    return out;
  }

  /** Base biases the bias mode trains and saves (peft/tuners/tuners_utils.py _get_learnable_bias_state_dict). */
  biasParams(): Array<[string, tf.Variable]> {
    const mode = this.config.peftType === 'LORA' ? this.config.bias : 'none';
    if (mode === 'none') return [];
    if (mode === 'lora_only') {
      const out: Array<[string, tf.Variable]> = [];
      for (const [name, layer] of this.layers) {
        const b = layer.base.namedParameters().find(([n]) => n === 'bias');
        if (b) out.push([`${STATE_PREFIX}${name}.base_layer.bias`, b[1]]);
      }
      return out;
    }
    return this.model
      .namedParameters()
      .filter(([n]) => n.endsWith('.bias') && !n.includes('.modules_to_save.') && !/\.(lora_|ia3_|adapter_)/.test(n))
      .map(([n, v]) => [`${STATE_PREFIX}${n}`, v]);
  }

  /**
   * Copy weights from a file's tensors: every expected name must be there with the expected shape,
   * and every tensor must belong to this adapter; nothing is written unless all of it checks.
   */
  loadStateDict(weights: ReadonlyMap<string, tf.Tensor>): void {
    const expected = new Map(this.stateDict());
    for (const [key, t] of weights) {
      const v = expected.get(key);
      if (!v) throw this.unexpected(key);
      if (!sameShape(t.shape, v.shape)) {
        throw new PeftError('SHAPE_MISMATCH', `adapter tensor "${key}" has shape [${t.shape}], but module "${moduleOf(key)}" of this model needs [${v.shape}] — the adapter was made for another model (architecture or size).`);
      }
    }
    const missing = [...expected.keys()].filter((k) => !weights.has(k));
    if (missing.length) throw new PeftError('ADAPTER_INVALID', `the adapter file lacks ${missing.length} tensor(s) its config implies, e.g. "${missing[0]}".`);
    for (const [key, t] of weights) expected.get(key)!.assign(t.toFloat());
  }

  private unexpected(key: string): PeftError {
    const mod = moduleOf(key);
    const names = this.model.linearNames();
    if (!names.includes(mod) && !this.model.namedParameters().some(([n]) => n === key.slice(STATE_PREFIX.length))) {
      return new PeftError('TARGET_NOT_FOUND', `adapter tensor "${key}" is for module "${mod}", which this model does not have (its linears: ${names.slice(0, 8).join(', ')}${names.length > 8 ? ', …' : ''}).`);
    }
    return new PeftError('ADAPTER_INVALID', `adapter tensor "${key}" does not belong to a ${this.peftType} adapter with this config (module "${mod}" is not a target, or the tensor kind is unknown).`);
  }

  setEnabled(on: boolean): void {
    for (const l of [...this.layers.values(), ...this.saved.values()]) {
      if (on) l.active = this.adapterName;
      else if (l.active === this.adapterName) l.active = null;
    }
  }

  /** Fold into the base weights of every target (checked for all layers before any changes). */
  merge(): void {
    for (const [name, l] of this.layers) {
      if (l instanceof BottleneckLinear) l.merge();
      if (l.merged !== null && l.merged !== this.adapterName) throw new PeftError('UNSUPPORTED', `merge: "${name}" already has adapter "${l.merged}" merged; unmerge() first.`);
      if (!(l.base instanceof Linear)) l.merge(this.adapterName); // throws UNSUPPORTED for quantized bases
    }
    for (const l of this.layers.values()) if (l.merged === null) l.merge(this.adapterName);
  }

  unmerge(): void {
    for (const l of this.layers.values()) if (l.merged === this.adapterName) l.unmerge();
  }

  /** Remove this adapter from every layer; a layer left without adapters gives its base back to the model. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const [name, l] of [...this.layers, ...this.saved] as Array<[string, AdapterLayer]>) {
      l.removeAdapter(this.adapterName);
      if (l.adapterNames().length === 0 && this.model.getModule(name) === l) this.model.replaceModule(name, l.base);
    }
    this.layers.clear();
    this.saved.clear();
  }
}

/** The module part of a saved key: 'base_model.model.a.b.lora_A.weight' → 'a.b'. */
export function moduleOf(key: string): string {
  const k = key.startsWith(STATE_PREFIX) ? key.slice(STATE_PREFIX.length) : key;
  const m = /^(.*?)\.(lora_A\.weight|lora_B\.weight|lora_magnitude_vector|ia3_l|adapter_(?:down|up)\.(?:weight|bias)|base_layer\.bias|weight|bias)$/.exec(k);
  return m ? m[1]! : k;
}


/**
 * PiSSA (peft/tuners/lora/layer.py pissa_init): W [O, C] = V S Uhᵀ; with the top r, Sr = S/s,
 * A = diag(√Sr)·Uh_r [R, C], B = V_r·diag(√Sr) [O, R], and the base weight becomes W − s·B·A.
 */
function pissaInit(base: LinearModule, name: string, r: number, scaling: number): [Float32Array, Float32Array] {
  if (!(base instanceof Linear)) throw new PeftError('UNSUPPORTED', `PiSSA init of "${name}" needs a float base weight (PEFT: "initialize PiSSA under float32"); quantize after initializing, not before.`);
  const O = base.outFeatures;
  const C = base.inFeatures;
  if (r > Math.min(O, C)) throw new PeftError('CONFIG_INVALID', `PiSSA on "${name}": r = ${r} exceeds min(out, in) = ${Math.min(O, C)}.`);
  const wt = weightOutIn(base);
  const w = Float64Array.from(wt.dataSync() as Float32Array); // [O, C]
  wt.dispose();
  const { u, s, vt, k } = svd(w, O, C);
  const a = new Float32Array(r * C);
  const b = new Float32Array(O * r);
  for (let j = 0; j < r; j++) {
    const root = Math.sqrt(s[j]! / scaling);
    for (let c = 0; c < C; c++) a[j * C + c] = root * vt[j * C + c]!;
    for (let o = 0; o < O; o++) b[o * r + j] = u[o * k + j]! * root;
  }
  const res = new Float32Array(O * C);
  for (let o = 0; o < O; o++) for (let c = 0; c < C; c++) {
    let ba = 0;
    for (let j = 0; j < r; j++) ba += b[o * r + j]! * a[j * C + c]!;
    res[o * C + c] = w[o * C + c]! - scaling * ba;
  }
  const t = tf.tensor2d(res, [O, C]);
  assignOutIn(base, t);
  t.dispose();
  return [a, b];
}
