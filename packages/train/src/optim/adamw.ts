/**
 * AdamW (Loshchilov & Hutter) with decoupled weight decay, as torch.optim.AdamW:
 *
 *   p ← p · (1 − lr·wd)                       (only for weights the decay rule selects)
 *   m ← β1·m + (1 − β1)·g,   v ← β2·v + (1 − β2)·g²
 *   p ← p − lr/(1 − β1ᵗ) · m / (√v / √(1 − β2ᵗ) + ε)
 *
 * Which weights decay is explicit: 'linear-2d' (default) decays the 2-D weights of linear layers
 * only — not embeddings (wte, wpe, embed_tokens, so not a tied head), norms or biases; 'all-2d'
 * decays every weight of rank ≥ 2 (nanoGPT's rule, embeddings included); or pass a predicate.
 *
 *   const opt = new AdamW(model.trainableParameters(), { weightDecay: 0.1, beta2: 0.99 });
 *   opt.decayed;      // ['transformer.h.0.attn.c_attn.weight', …]
 *   opt.step(grads, 1e-3);
 */
import { tf, ownedVariable } from '@llm/tensor-gpu';
import { TrainError } from '../errors.js';

export type DecayRule = 'linear-2d' | 'all-2d' | ((name: string, param: tf.Variable) => boolean);

export interface AdamWConfig {
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
  decay?: DecayRule;
}

const EMBEDDING = /(^|\.)(wte|wpe|embed_tokens)\.weight$/;

export function decaySelector(rule: DecayRule = 'linear-2d'): (name: string, p: tf.Variable) => boolean {
  if (typeof rule === 'function') return rule;
  if (rule === 'all-2d') return (_n, p) => p.rank >= 2;
  if (rule === 'linear-2d') return (n, p) => p.rank >= 2 && !EMBEDDING.test(n);
  throw new TrainError('CONFIG_INVALID', `weight decay rule must be "linear-2d", "all-2d" or a function, got ${JSON.stringify(rule)}.`);
}

export class AdamW {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  /** Names of the weights that decay / do not. */
  readonly decayed: string[] = [];
  readonly notDecayed: string[] = [];
  /** Updates done so far (t in the bias corrections). */
  stepCount = 0;
  private readonly params: Array<[string, tf.Variable]>;
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();
  private readonly decays = new Set<string>();

  constructor(params: Array<[string, tf.Variable]>, cfg: AdamWConfig = {}) {
    this.beta1 = cfg.beta1 ?? 0.9;
    this.beta2 = cfg.beta2 ?? 0.999;
    this.eps = cfg.eps ?? 1e-8;
    this.weightDecay = cfg.weightDecay ?? 0.01;
    for (const [k, x] of [['beta1', this.beta1], ['beta2', this.beta2]] as const) {
      if (!(x >= 0 && x < 1)) throw new TrainError('CONFIG_INVALID', `AdamW ${k} must be in [0, 1), got ${x}.`);
    }
    if (!(this.eps > 0)) throw new TrainError('CONFIG_INVALID', `AdamW eps must be > 0, got ${this.eps}.`);
    if (!(this.weightDecay >= 0)) throw new TrainError('CONFIG_INVALID', `weight decay must be ≥ 0, got ${this.weightDecay}.`);
    this.params = params;
    const select = decaySelector(cfg.decay);
    for (const [name, p] of params) {
      this.m.set(name, ownedVariable(tf.zerosLike(p), false));
      this.v.set(name, ownedVariable(tf.zerosLike(p), false));
      if (select(name, p)) {
        this.decays.add(name);
        this.decayed.push(name);
      } else {
        this.notDecayed.push(name);
      }
    }
  }

  /** One update with learning rate lr; grads by weight name (missing ones are skipped). */
  step(grads: ReadonlyMap<string, tf.Tensor>, lr: number): void {
    this.stepCount++;
    const t = this.stepCount;
    const bc1 = 1 - this.beta1 ** t;
    const sqrtBc2 = Math.sqrt(1 - this.beta2 ** t);
    tf.tidy(() => {
      for (const [name, p] of this.params) {
        const g = grads.get(name);
        if (!g) continue;
        const m = this.m.get(name)!;
        const v = this.v.get(name)!;
        m.assign(m.mul(this.beta1).add(g.mul(1 - this.beta1)));
        v.assign(v.mul(this.beta2).add(g.square().mul(1 - this.beta2)));
        const decayed = this.decays.has(name) && this.weightDecay > 0 ? p.mul(1 - lr * this.weightDecay) : p;
        p.assign(decayed.sub(m.div(v.sqrt().div(sqrtBc2).add(this.eps)).mul(lr / bc1)));
      }
    });
  }

  /** Moments as `${name}.exp_avg` / `${name}.exp_avg_sq` (the tensors themselves; do not dispose). */
  stateTensors(): Map<string, tf.Tensor> {
    const out = new Map<string, tf.Tensor>();
    for (const [name] of this.params) {
      out.set(`${name}.exp_avg`, this.m.get(name)!);
      out.set(`${name}.exp_avg_sq`, this.v.get(name)!);
    }
    return out;
  }

  /** Restore moments (from stateTensors' names) and the step count. Every weight must be present. */
  loadState(tensors: ReadonlyMap<string, tf.Tensor>, stepCount: number): void {
    for (const [name, p] of this.params) {
      for (const [suffix, store] of [['exp_avg', this.m], ['exp_avg_sq', this.v]] as const) {
        const t = tensors.get(`${name}.${suffix}`);
        if (!t) throw new TrainError('CHECKPOINT_INVALID', `optimizer state lacks "${name}.${suffix}" (was the checkpoint made for another model or another set of trainable weights?).`);
        if (t.shape.join() !== p.shape.join()) throw new TrainError('CHECKPOINT_INVALID', `optimizer state "${name}.${suffix}" has shape [${t.shape}], the weight [${p.shape}].`);
        store.get(name)!.assign(t);
      }
    }
    this.stepCount = stepCount;
  }

  dispose(): void {
    tf.dispose([...this.m.values(), ...this.v.values()]);
  }
}
