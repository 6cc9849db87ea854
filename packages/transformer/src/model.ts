/**
 * TransformerLM: one decoder-only implementation for the GPT-2 and Llama families (and their MoE
 * variants), configured by a single ModelConfig. It implements the CausalLM contract.
 *
 *   const model = new TransformerLM({ family: 'gpt2', vocabSize: 65, nLayer: 4, nHead: 4, nEmbd: 128, blockSize: 64 });
 *   const logits = model.forward(tf.tensor2d([[1, 2, 3]], [1, 3], 'int32')); // [1, 3, 65]
 *
 * Dimension legend: B batch, T new tokens, N = B·T, C width (nEmbd), V vocab, P positions
 * (blockSize), D head dim, S cached positions, E experts.
 *
 * Weights live in tf.Variables named (in this object, not in tfjs) by their HF checkpoint names;
 * linear layers are modules a caller can look up and replace by name (LoRA, quantized linears).
 */
import { tf, layerNorm, rmsNorm, ropeTables } from '@llm/tensor-gpu';
import { resolveConfig, type ModelConfig, type ModelConfigInput } from './config.js';
import { TransformerError } from './errors.js';
import { KVCache } from './cache.js';
import { checkCacheSize, resolveLimits, type LimitOptions, type ModelLimits } from './limits.js';
import { modelLayout, blockPrefix, type ModelLayout } from './layout.js';
import { Linear, type LinearModule } from './modules/linear.js';
import { attention } from './modules/attention.js';
import { denseMlp, moeMlp, ffnPrefix, loadBalancingLoss } from './modules/mlp.js';
import type { ForwardContext, Parts } from './modules/context.js';
import { Rng, hashSeed, ownedVariable } from '@llm/tensor-gpu';
import { randn, dropoutMask } from './random.js';
import { embedIds, readIds, readMask } from './inputs.js';
import { readPrefix, withPrefixMask, dropPrefix, broadcastRows, type Prefix, type PrefixOptions } from './prefix.js';
import { saveModel, type SaveOptions } from './save.js';
import type { ModelGenerationConfig } from './generation-config.js';

/** Mask as a tensor [B, W] or rows of 0/1; W = T (new tokens) or S + T (cached and new, HF style). */
export type AttentionMaskInput = tf.Tensor | ArrayLike<ArrayLike<number>>;

export interface ForwardOptions extends PrefixOptions {
  /** Append to (and attend over) this cache. */
  cache?: KVCache;
  /** 1 for real tokens, 0 for padding (e.g. left-padded prompts). Default: all real. */
  attentionMask?: AttentionMaskInput;
  /** Dropout on (training mode). Default false. */
  training?: boolean;
  /** Compute logits only for the last n positions (e.g. 1 when generating). Default all T. */
  logitsToKeep?: number;
}

export interface RunOptions extends ForwardOptions {
  /** Compute logits at all (false: hidden states only, for heads and embeddings). Default true. */
  logits?: boolean;
}

export interface ModelOutput {
  /** [B, T', V] with T' = logitsToKeep ?? T; null when logits: false. */
  logits: tf.Tensor3D | null;
  /** Last hidden states after the final norm [B, T, C] (the LM head's input). */
  hidden: tf.Tensor3D;
  /** Load-balancing loss (HF Mixtral's, unscaled: multiply by config.routerAuxLossCoef); null for dense models. */
  auxLoss: tf.Scalar | null;
}

/** The model contract sample, align and peft consume. */
export interface CausalLM {
  readonly config: ModelConfig;
  /** Generation defaults (a checkpoint's generation_config.json); @llm/sample uses them below explicit options. */
  readonly generationConfig?: ModelGenerationConfig;
  forward(ids: tf.Tensor, opts?: ForwardOptions): tf.Tensor3D;
  createCache(batch: number, maxLen?: number): KVCache;
}

export class TransformerLM implements CausalLM, Parts {
  readonly config: ModelConfig;
  readonly layout: ModelLayout;
  /** The size limits this model was built under (MODEL_LIMITS unless raised); createCache checks against them. */
  readonly limits: ModelLimits;
  /**
   * Generation defaults, HF generation_config.json camelCased: loadModel fills it from the file, save
   * writes it back (unknown fields included). {} = none (save then writes HF's from_model_config
   * file: bos / eos / pad of the config). Plain data; assign or edit it freely.
   */
  generationConfig: ModelGenerationConfig = {};
  private readonly params = new Map<string, tf.Variable>();
  private readonly modules = new Map<string, LinearModule>();
  /** RoPE tables (llama) for positions [0, rows): grown as longer inputs come (ropeRows), so their memory follows use, not blockSize. */
  private rope: { cos: tf.Tensor2D; sin: tf.Tensor2D } | null = null;
  private readonly dropoutRng: Rng;

  /**
   * Build a model with GPT-2 style init (N(0, initStd²), residual projections / √(2·nLayer), norms 1,
   * biases 0), seeded by config.seed and each weight's name. `weights` (HF name → tensor of the
   * checkpoint's shape) replaces the init; it is copied, the caller keeps ownership. The config's
   * sizes are checked against `opts.limits` (MODEL_LIMITS by default) before anything is allocated.
   */
  constructor(config: ModelConfigInput | ModelConfig, weights?: ReadonlyMap<string, tf.Tensor>, opts: LimitOptions = {}) {
    this.limits = resolveLimits(opts.limits);
    this.config = resolveConfig(config, opts);
    this.layout = modelLayout(this.config);
    const cfg = this.config;
    const init = (name: string, shape: number[], kind: 'normal' | 'ones' | 'zeros', std: number): tf.Variable => {
      const given = weights?.get(name);
      if (given) return ownedVariable(given.clone(), true);
      if (kind === 'ones') return ownedVariable(tf.ones(shape), true);
      if (kind === 'zeros') return ownedVariable(tf.zeros(shape), true);
      const n = shape.reduce((a, b) => a * b, 1);
      return ownedVariable(tf.tensor(randn(n, new Rng(hashSeed(cfg.seed, name)), std), shape), true);
    };
    for (const p of this.layout.params) this.params.set(p.name, init(p.name, p.shape, p.init, p.std));
    for (const l of this.layout.linears) {
      const tiedHead = l.name === 'lm_head' && this.layout.tied;
      const shape = l.layout === 'in_out' ? [l.inFeatures, l.outFeatures] : [l.outFeatures, l.inFeatures];
      const weight = tiedHead ? this.params.get(this.layout.embedName)! : init(`${l.name}.weight`, shape, 'normal', l.std);
      const bias = l.bias ? weights?.get(`${l.name}.bias`) : undefined;
      this.modules.set(l.name, new Linear({ inFeatures: l.inFeatures, outFeatures: l.outFeatures, layout: l.layout, bias: l.bias, weight, ...(bias ? { biasValue: bias } : {}) }));
    }
    this.dropoutRng = new Rng(hashSeed(cfg.seed, 'dropout'));
  }

  // ---- module tree -------------------------------------------------------------------------

  linear(name: string): LinearModule {
    const m = this.modules.get(name);
    if (!m) throw new TransformerError('MODULE_NOT_FOUND', `no linear module "${name}"; see model.linearNames().`);
    return m;
  }

  param(name: string): tf.Variable {
    const p = this.params.get(name);
    if (!p) throw new TransformerError('MODULE_NOT_FOUND', `no weight "${name}".`);
    return p;
  }

  /** HF-style names of every linear module, in forward order (lm_head last). */
  linearNames(): string[] {
    return [...this.modules.keys()];
  }

  /** Alias of linear(name). */
  getModule(name: string): LinearModule {
    return this.linear(name);
  }

  /**
   * Put `module` where the linear `name` was (same in/out features) and return the old one,
   * which the caller now owns (a wrapper usually keeps it as its base layer).
   *
   *   const old = model.replaceModule('model.layers.0.self_attn.q_proj', new LoraLinear(model.getModule(...)));
   */
  replaceModule(name: string, module: LinearModule): LinearModule {
    const old = this.linear(name);
    if (module.inFeatures !== old.inFeatures || module.outFeatures !== old.outFeatures) {
      throw new TransformerError('SHAPE_MISMATCH', `replaceModule("${name}"): the new module maps ${module.inFeatures} → ${module.outFeatures} features, the old one ${old.inFeatures} → ${old.outFeatures}.`);
    }
    this.modules.set(name, module);
    return old;
  }

  /**
   * Every weight by HF name (embeddings, norms, then each linear module's weights as
   * `${module}.${name}`). A tied lm_head is not listed (it is the embedding).
   */
  namedParameters(): Array<[string, tf.Variable]> {
    const out: Array<[string, tf.Variable]> = [...this.params.entries()];
    const seen = new Set(out.map(([, v]) => v));
    for (const [name, m] of this.modules) {
      for (const [rel, v] of m.namedParameters()) {
        if (seen.has(v)) continue;
        seen.add(v);
        out.push([`${name}.${rel}`, v]);
      }
    }
    return out;
  }

  /** Trainable weights only (what an optimizer should update). */
  trainableParameters(): Array<[string, tf.Variable]> {
    return this.namedParameters().filter(([, v]) => v.trainable);
  }

  /**
   * Freeze or unfreeze weights whose name matches (a RegExp, a predicate, or a list of names).
   * Returns how many weights changed. Unknown names in a list are an error.
   *
   *   model.setTrainable(/./, false);             // freeze everything
   *   model.setTrainable(/\.ln_|norm/, true);      // then train only the norms
   */
  setTrainable(match: RegExp | ((name: string) => boolean) | readonly string[], trainable: boolean): number {
    const all = this.namedParameters();
    let test: (n: string) => boolean;
    if (Array.isArray(match)) {
      const names = new Set(all.map(([n]) => n));
      const missing = (match as readonly string[]).filter((n) => !names.has(n));
      if (missing.length) throw new TransformerError('MODULE_NOT_FOUND', `setTrainable: no weight named ${missing.map((n) => `"${n}"`).join(', ')}.`);
      const set = new Set(match as readonly string[]);
      test = (n) => set.has(n);
    } else if (match instanceof RegExp) {
      test = (n) => match.test(n);
    } else {
      test = match as (n: string) => boolean;
    }
    let changed = 0;
    for (const [n, v] of all) {
      if (test(n) && v.trainable !== trainable) {
        v.trainable = trainable;
        changed++;
      }
    }
    return changed;
  }

  /** State of the dropout RNG (for exact resume); setDropoutState restores it. */
  getDropoutState(): number {
    return this.dropoutRng.getState();
  }
  setDropoutState(state: number): void {
    this.dropoutRng.setState(state);
  }

  // ---- forward -----------------------------------------------------------------------------

  /**
   * A KV cache for `batch` rows of up to `maxLen` positions (default blockSize). Its full size is
   * checked against limits.maxCachePositions and limits.maxCacheBytes before anything is allocated.
   */
  createCache(batch: number, maxLen: number = this.config.blockSize): KVCache {
    checkCacheSize(this.config, batch, maxLen, this.limits);
    return new KVCache(batch, maxLen, this.config.nLayer);
  }

  /**
   * ids [B, T] int32 → logits [B, T', V] (T' = logitsToKeep ?? T). The ids are never read back to
   * the host: an id outside [0, V) is caught by the backend's gather where it checks (cpu, wasm,
   * tfjs-node CPU → TransformerError INVALID_ARGUMENT); on a GPU check host ids before upload.
   */
  forward(ids: tf.Tensor, opts: ForwardOptions = {}): tf.Tensor3D {
    const out = this.run(ids, opts);
    out.hidden.dispose();
    out.auxLoss?.dispose();
    return out.logits!;
  }

  /** Logits, last hidden states and the MoE aux loss in one pass. */
  run(ids: tf.Tensor, opts: RunOptions = {}): ModelOutput {
    const cfg = this.config;
    const { B, T } = readIds(ids);
    const cache = opts.cache ?? null;
    if (cache && cache.batch !== B) throw new TransformerError('SHAPE_MISMATCH', `forward: the cache holds ${cache.batch} rows, ids have ${B}.`);
    if (cache && cache.nLayer !== cfg.nLayer) throw new TransformerError('INVALID_ARGUMENT', `forward: the cache was made for ${cache.nLayer} layers, the model has ${cfg.nLayer}.`);
    const keep = opts.logitsToKeep ?? T;
    if (!Number.isInteger(keep) || keep < 1 || keep > T) throw new TransformerError('INVALID_ARGUMENT', `forward: logitsToKeep must be an integer in [1, ${T}], got ${keep}.`);
    const prefix = readPrefix(opts, B, cfg, cache);
    // Positions P + T: the prefix's P in front of every row (1 in the mask), then the ids'.
    const fullMask = withPrefixMask(readMask(opts.attentionMask, B, T, cache), B, T, prefix.P);
    const allPositions = this.positionIds(fullMask, B, prefix.P + T, cache);
    if (cfg.family === 'llama') this.ropeRows(allPositions.reduce((a, b) => Math.max(a, b), 0) + 1);
    cache?.begin(prefix.P + T);
    try {
      const out = tf.tidy(() => this.runTidy(ids, fullMask, allPositions, prefix, keep, opts) as unknown as tf.TensorContainer) as unknown as ModelOutput;
      cache?.commit(fullMask);
      return out;
    } catch (e) {
      cache?.rollback();
      throw e;
    }
  }

  /**
   * fullMask / allPositions cover P + T positions per row. Queries are all of them when the prefix
   * is input vectors, the ids' T when it is past keys/values (or there is none).
   */
  private runTidy(ids: tf.Tensor, fullMask: Uint8Array, allPositions: Int32Array, prefix: Prefix, keep: number, opts: RunOptions): ModelOutput {
    const cfg = this.config;
    const [B, Tids] = ids.shape as [number, number];
    const P = prefix.P;
    const T = prefix.kind === 'embeds' ? P + Tids : Tids; // query positions
    const queries = prefix.kind === 'past' ? (m: Uint8Array) => dropPrefix(m, B, Tids, P) : (m: Uint8Array) => m;
    const tokenMask = queries(fullMask);
    const positions = prefix.kind === 'past' ? dropPrefix(allPositions, B, Tids, P) : allPositions;
    const N = B * T;
    const C = cfg.nEmbd;
    const cache = opts.cache ?? null;
    const training = opts.training ?? false;
    const pos = tf.tensor2d(positions, [B, T], 'int32'); // [B, T]
    const ctx: ForwardContext = {
      B,
      T,
      training,
      dropout: (x, p) => (training && p > 0 ? x.mul(tf.tensor(dropoutMask(x.size, p, this.dropoutRng), x.shape)) : x),
      rope: this.rope ? { cos: tf.gather(this.rope.cos, pos).expandDims(1), sin: tf.gather(this.rope.sin, pos).expandDims(1) } : null, // [B, 1, T, D/2]
      keyMask: keyMaskTensor(fullMask, B, P + Tids, cache),
      tokenMask,
      realTokens: tokenMask.reduce((a, b) => a + b, 0),
      cache,
      past: prefix.kind === 'past' ? opts.past! : null,
      router: [],
    };
    let x: tf.Tensor = embedIds(this.param(this.layout.embedName), ids.reshape([B * Tids]), cfg.vocabSize); // [B·Tids, C]
    if (prefix.kind === 'embeds') x = tf.concat([broadcastRows(opts.prefixEmbeds!, B), x.reshape([B, Tids, C])], 1).reshape([N, C]); // [N, C], N = B·(P + Tids)
    if (cfg.family === 'gpt2') x = x.add(tf.gather(this.param('transformer.wpe.weight'), pos.reshape([N]))); // [N, C]
    x = ctx.dropout(x, cfg.dropout);
    const moe = cfg.nExperts > 0;
    for (let l = 0; l < cfg.nLayer; l++) {
      const p = blockPrefix(cfg, l);
      const gpt2 = cfg.family === 'gpt2';
      const a = attention(this, p, l, this.norm(gpt2 ? `${p}.ln_1` : `${p}.input_layernorm`, x), ctx); // [N, C]
      x = x.add(ctx.dropout(a, cfg.dropout)); // [N, C]
      const h = this.norm(gpt2 ? `${p}.ln_2` : `${p}.post_attention_layernorm`, x); // [N, C]
      const f = ffnPrefix(cfg.family, p, moe);
      x = x.add(ctx.dropout(moe ? moeMlp(this, f, h, ctx) : denseMlp(this, f, h), cfg.dropout)); // [N, C]
    }
    x = this.norm(cfg.family === 'gpt2' ? 'transformer.ln_f' : 'model.norm', x); // [N, C]
    let hidden = x.reshape([B, T, C]) as tf.Tensor3D; // [B, T, C]
    if (T !== Tids) {
      hidden = hidden.slice([0, T - Tids, 0], [B, Tids, C]); // [B, Tids, C]: the ids' positions only
      x = hidden.reshape([B * Tids, C]);
    }
    let logits: tf.Tensor3D | null = null;
    if (opts.logits ?? true) {
      const last = keep === Tids ? x : hidden.slice([0, Tids - keep, 0], [B, keep, C]).reshape([B * keep, C]); // [B·T', C]
      logits = this.linear('lm_head').apply(last).reshape([B, keep, cfg.vocabSize]) as tf.Tensor3D; // [B, T', V]
    }
    const auxLoss = moe ? loadBalancingLoss(ctx.router, tokenMask, cfg.nExperts) : null;
    return { logits, hidden, auxLoss };
  }

  /**
   * Make the RoPE tables cover positions [0, n) (n ≤ blockSize): rebuilt, at least doubling, when
   * an input reaches past them. Rows are the same whatever the table length.
   */
  private ropeRows(n: number): void {
    const have = this.rope?.cos.shape[0] ?? 0;
    if (n <= have) return;
    const rows = Math.min(this.config.blockSize, Math.max(n, 2 * have, 256));
    const next = ropeTables({ positions: rows, headDim: this.config.headDim, theta: this.config.ropeTheta });
    tf.keep(next.cos); // outlives any tf.tidy the caller runs forward in
    tf.keep(next.sin);
    this.rope?.cos.dispose();
    this.rope?.sin.dispose();
    this.rope = next;
  }

  private norm(name: string, x: tf.Tensor): tf.Tensor {
    const cfg = this.config;
    if (cfg.family === 'llama') return rmsNorm(x, this.param(`${name}.weight`), cfg.normEps);
    return layerNorm(x, this.param(`${name}.weight`), this.params.get(`${name}.bias`) ?? null, cfg.normEps);
  }

  /** HF generate's position ids: per row, real tokens count up from the cache's next position; pads get 0. */
  private positionIds(tokenMask: Uint8Array, B: number, T: number, cache: KVCache | null): Int32Array {
    const pos = new Int32Array(B * T);
    for (let b = 0; b < B; b++) {
      let p = cache ? cache.nextPosition[b]! : 0;
      for (let t = 0; t < T; t++) {
        if (!tokenMask[b * T + t]) continue;
        if (p >= this.config.blockSize) {
          throw new TransformerError('CONTEXT_OVERFLOW', `forward: row ${b} reaches position ${p}, but the model has ${this.config.blockSize} positions (blockSize). Trim the input or use a model with a longer context.`);
        }
        pos[b * T + t] = p++;
      }
    }
    return pos;
  }

  /** Write an HF-compatible directory (config.json, model.safetensors, generation_config.json); atomic per file. */
  async save(dir: string, opts?: SaveOptions): Promise<void> {
    await saveModel(this, dir, opts);
  }

  /** Free every weight (and the RoPE tables). Replaced-out modules are the caller's. */
  dispose(): void {
    const seen = new Set<tf.Variable>();
    for (const [, v] of this.namedParameters()) {
      if (!seen.has(v)) v.dispose();
      seen.add(v);
    }
    this.rope?.cos.dispose();
    this.rope?.sin.dispose();
    this.rope = null;
  }
}

/** [B, S + T] key mask (stored + new) when any key is padding, else null. */
function keyMaskTensor(tokenMask: Uint8Array, B: number, T: number, cache: KVCache | null): tf.Tensor | null {
  const stored = cache ? cache.storedMask() : null;
  const S = cache?.length ?? 0;
  const anyPad = tokenMask.includes(0) || (stored !== null && stored.some((r) => r.includes(0)));
  if (!anyPad) return null;
  const m = new Float32Array(B * (S + T));
  for (let b = 0; b < B; b++) {
    if (stored) m.set(stored[b]!, b * (S + T));
    for (let t = 0; t < T; t++) m[b * (S + T) + S + t] = tokenMask[b * T + t]!;
  }
  return tf.tensor2d(m, [B, S + T]);
}
