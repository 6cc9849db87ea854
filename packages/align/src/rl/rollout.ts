/**
 * What PPO and GRPO share: the policy / reference / reward contracts, prompts, rollouts with
 * @llm/sample, the per-token log-probs of completions (recomputed with one forward: `generate`
 * returns token ids only), rewards, and one AdamW update with global-norm clipping.
 *
 *   const batch = rollout(policy, prompts, { maxNewTokens: 8, temperature: 1, seed: 3 });
 *   const { logps } = completionForward(policy, batch, { temperature: 1 });   // [B, R]
 *
 * Dimension legend: B rows, P padded prompt length, R padded completion length, V vocab, C width.
 */
import { tf, Rng, hashSeed, IGNORE_INDEX } from '@llm/tensor-gpu';
import { generate } from '@llm/sample';
import { TransformerLM, type CausalLM, type ModelOutput, type RunOptions, type ValueHead } from '@llm/transformer';
import { AdamW, cosineLr, type LrSchedule } from '@llm/train';
import { AlignError } from '../errors.js';
import { tokenLogps } from '../logps.js';
import { entropyFromLogits } from './core.js';

/** A policy: TransformerLM or @llm/peft's PeftModel (then only the adapter trains). */
export interface RlPolicy extends CausalLM {
  run(ids: tf.Tensor, opts?: RunOptions): ModelOutput;
  trainableParameters(): Array<[string, tf.Variable]>;
}

/** A frozen reference: anything with run() and a config (TransformerLM, a PeftModel). */
export interface RlReference {
  readonly config: { readonly vocabSize: number };
  run(ids: tf.Tensor, opts?: RunOptions): ModelOutput;
}

/** A reward function: the prompt (its text when prompts were given as text, else its ids), the completion ids and text (null without a tokenizer). */
export type RewardFunction = (prompt: string | readonly number[], completion: readonly number[], completionText: string | null) => number;

/** A reward model: @llm/transformer's SequenceClassifier with numLabels 1, or anything that maps ids [B, T] to [B, 1] or [B]. */
export interface RewardModel {
  forward(ids: tf.Tensor, opts?: { attentionMask?: number[][] }): tf.Tensor;
  readonly numLabels?: number;
  readonly backbone?: { readonly config: { readonly vocabSize: number } };
}

/** Encode prompts given as text and decode completions for reward functions (@llm/tokenizer-bpe's Tokenizer has both). */
export interface RlTokenizer {
  encode(text: string): number[];
  decode(ids: ArrayLike<number>): string;
}

export type Prompt = string | readonly number[];

/** A PeftModel (structurally): its reference is itself with the adapter off. */
interface AdapterModel {
  withAdaptersDisabled<T>(fn: () => T): T;
  readonly base: TransformerLM;
}
export const isAdapterModel = (m: unknown): m is AdapterModel => typeof (m as AdapterModel | null)?.withAdaptersDisabled === 'function' && (m as AdapterModel).base instanceof TransformerLM;

/** The backbone a ValueHead goes on (the base model of a PeftModel). */
export function backboneOf(policy: RlPolicy): TransformerLM {
  if (policy instanceof TransformerLM) return policy;
  if (isAdapterModel(policy)) return policy.base;
  throw new AlignError('CONFIG_INVALID', 'the policy is neither a TransformerLM nor a PeftModel: pass a valueHead built on its backbone.');
}

/** How the reference is run: a given model, the adapter-disabled policy, or a frozen snapshot (owned: disposed at the end). */
export interface ResolvedReference {
  run<T>(fn: (model: RlReference) => T): T;
  dispose(): void;
}

/** The reference of `policy`: `given`; else the PeftModel with its adapter off; else a frozen copy of the policy's current weights. */
export function resolveReference(policy: RlPolicy, given: RlReference | undefined): ResolvedReference {
  if (given) {
    checkVocab(policy, given.config.vocabSize, 'the reference model');
    return { run: (fn) => fn(given), dispose: () => {} };
  }
  if (isAdapterModel(policy)) return { run: (fn) => policy.withAdaptersDisabled(() => fn(policy as unknown as RlReference)), dispose: () => {} };
  if (policy instanceof TransformerLM) {
    const copy = new TransformerLM(policy.config, new Map(policy.namedParameters()));
    copy.setTrainable(/./, false);
    return { run: (fn) => fn(copy), dispose: () => copy.dispose() };
  }
  throw new AlignError('CONFIG_INVALID', 'no reference model: pass `reference` (a frozen copy of the initial policy) for a policy that is neither a TransformerLM nor a PeftModel.');
}

export function checkVocab(policy: { config: { vocabSize: number } }, vocab: number, what: string): void {
  if (vocab !== policy.config.vocabSize) throw new AlignError('VOCAB_MISMATCH', `${what} has a vocabulary of ${vocab} tokens, the policy ${policy.config.vocabSize}: they must share one tokenizer.`);
}

/** Prompt ids (text through the tokenizer), checked: non-empty, ids in the vocabulary, room for ≥ 1 new token. */
export function encodePrompts(prompts: readonly Prompt[], policy: RlPolicy, tokenizer: RlTokenizer | undefined): number[][] {
  if (!Array.isArray(prompts) || prompts.length === 0) throw new AlignError('INVALID_ARGUMENT', 'prompts must be a non-empty list of strings or token-id arrays.');
  const V = policy.config.vocabSize;
  return prompts.map((p, i) => {
    let ids: number[];
    if (typeof p === 'string') {
      if (!tokenizer) throw new AlignError('CONFIG_INVALID', `prompt ${i} is text: pass a tokenizer.`);
      ids = tokenizer.encode(p);
    } else ids = Array.from(p);
    if (ids.length === 0) throw new AlignError('DATA_INVALID', `prompt ${i} is empty.`);
    const bad = ids.find((x) => !Number.isInteger(x) || x < 0 || x >= V);
    if (bad !== undefined) throw new AlignError('DATA_INVALID', `prompt ${i} has token id ${bad}, outside the vocabulary [0, ${V}).`);
    if (ids.length >= policy.config.blockSize) throw new AlignError('SEQUENCE_TOO_LONG', `prompt ${i} has ${ids.length} tokens: no room for a completion in the context of ${policy.config.blockSize}.`);
    return ids;
  });
}

/** Seeded endless walk over prompt indices, reshuffled each pass (TRL's shuffled dataloader). */
export class PromptSampler {
  private order: number[] = [];
  private at = 0;
  private pass = 0;
  constructor(private readonly n: number, private readonly seed: number) {}
  next(): number {
    if (this.at >= this.order.length) {
      this.order = permutation(this.n, new Rng(hashSeed(this.seed, `prompts:${this.pass++}`)));
      this.at = 0;
    }
    return this.order[this.at++]!;
  }
}

/** Fisher–Yates permutation of [0, n). */
export function permutation(n: number, rng: Rng): number[] {
  const a = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

/** One batch of prompts and their sampled completions, laid out [left-padded prompt | right-padded completion]. */
export interface RolloutBatch {
  B: number;
  P: number;
  R: number;
  prompts: number[][];
  completions: number[][];
  /** ids [B·(P + R)] and attention mask rows. */
  ids: Int32Array;
  attention: number[][];
  /** Completion-token mask [B·R] (1 = a generated token). */
  mask: Float32Array;
  /** Completion labels [B·R] (IGNORE_INDEX on padding). */
  labels: Int32Array;
  /** Whether each completion ended with an EOS id. */
  endedWithEos: boolean[];
}

export interface RolloutOptions {
  maxNewTokens: number;
  temperature: number;
  seed: number;
  eosTokenId?: number | number[] | null;
  signal?: AbortSignal;
}

/** Sample one completion per prompt row with @llm/sample (seeded, one stream per row); null when aborted. */
export function rollout(policy: RlPolicy, prompts: number[][], o: RolloutOptions): RolloutBatch | null {
  const r = generate(policy, prompts, {
    maxNewTokens: o.maxNewTokens,
    temperature: o.temperature,
    doSample: o.temperature > 0,
    seed: o.seed,
    ...(o.eosTokenId !== undefined ? { eosTokenId: o.eosTokenId } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
  });
  if (r.finishReasons.some((f) => f === 'aborted')) return null;
  return layout(prompts, r.sequences, r.finishReasons.map((f) => f === 'eos'));
}

/** Lay prompts and completions out as one batch (exported for tests). */
export function layout(prompts: number[][], completions: number[][], endedWithEos: boolean[]): RolloutBatch {
  const B = prompts.length;
  const P = Math.max(...prompts.map((p) => p.length));
  const R = Math.max(1, ...completions.map((c) => c.length));
  const T = P + R;
  const ids = new Int32Array(B * T);
  const attention: number[][] = [];
  const mask = new Float32Array(B * R);
  const labels = new Int32Array(B * R).fill(IGNORE_INDEX);
  for (let b = 0; b < B; b++) {
    const p = prompts[b]!;
    const c = completions[b]!;
    const row = new Array<number>(T).fill(0);
    for (let i = 0; i < p.length; i++) {
      ids[b * T + P - p.length + i] = p[i]!;
      row[P - p.length + i] = 1;
    }
    for (let t = 0; t < c.length; t++) {
      ids[b * T + P + t] = c[t]!;
      row[P + t] = 1;
      mask[b * R + t] = 1;
      labels[b * R + t] = c[t]!;
    }
    attention.push(row);
  }
  return { B, P, R, prompts, completions, ids, attention, mask, labels, endedWithEos };
}

/** The rows `rows` of a batch as tensors (ids [b, P + R], labels [b, R], mask [b, R]) and their attention rows. */
export function batchRows(batch: RolloutBatch, rows: readonly number[]): { ids: tf.Tensor2D; labels: tf.Tensor2D; mask: tf.Tensor2D; attention: number[][] } {
  const { P, R } = batch;
  const T = P + R;
  const n = rows.length;
  const ids = new Int32Array(n * T);
  const labels = new Int32Array(n * R);
  const mask = new Float32Array(n * R);
  rows.forEach((b, k) => {
    ids.set(batch.ids.subarray(b * T, (b + 1) * T), k * T);
    labels.set(batch.labels.subarray(b * R, (b + 1) * R), k * R);
    mask.set(batch.mask.subarray(b * R, (b + 1) * R), k * R);
  });
  return {
    ids: tf.tensor2d(ids, [n, T], 'int32'),
    labels: tf.tensor2d(labels, [n, R], 'int32'),
    mask: tf.tensor2d(mask, [n, R]),
    attention: rows.map((b) => batch.attention[b]!),
  };
}

export interface CompletionForward {
  /** log π(y_t | …) of each completion token [n, R] (0 on padding), from logits / temperature. */
  logps: tf.Tensor2D;
  /** Entropy of the (tempered) next-token distribution at each completion position [n, R]. */
  entropy?: tf.Tensor2D;
  /** Value-head output at the position before each completion token [n, R] (TRL: full_value[:, context_length − 1 : −1]). */
  values?: tf.Tensor2D;
}

/**
 * One forward of `model` over rows of the batch: the completion tokens' log-probs (TRL
 * selective_log_softmax of logits[:, P − 1 : −1] / temperature), optionally the entropy and a
 * value head on the same hidden states. Differentiable; call inside tf.tidy / variableGrads.
 */
export function completionForward(model: RlReference, t: { ids: tf.Tensor2D; labels: tf.Tensor2D; attention: number[][] }, P: number, o: { temperature: number; entropy?: boolean; valueHead?: ValueHead }): CompletionForward {
  const [n, T] = t.ids.shape;
  const R = T - P;
  const out = model.run(t.ids, { attentionMask: t.attention, logitsToKeep: R + 1 });
  out.auxLoss?.dispose();
  const V = out.logits!.shape[2];
  let logits: tf.Tensor = out.logits!.slice([0, 0, 0], [n, R, V]); // positions P − 1 … T − 2 predict the R completion tokens
  if (o.temperature > 0 && o.temperature !== 1) logits = logits.div(o.temperature);
  const res: CompletionForward = { logps: tokenLogps(logits as tf.Tensor3D, t.labels) };
  if (o.entropy) res.entropy = entropyFromLogits(logits) as tf.Tensor2D;
  if (o.valueHead) {
    const C = out.hidden.shape[2];
    res.values = o.valueHead.apply(out.hidden.slice([0, P - 1, 0], [n, R, C]));
  }
  return res;
}

/** Scores of a batch: a reward model on [prompt | completion], or each reward function per row (weighted sum); also each function's column. */
export function scoreBatch(batch: RolloutBatch, rewards: ReadonlyArray<RewardFunction | RewardModel>, weights: readonly number[], promptsFor: (b: number) => Prompt, tokenizer: RlTokenizer | undefined): { total: Float32Array; perSource: Float32Array[] } {
  const perSource = rewards.map((src, k) => {
    const col = new Float32Array(batch.B);
    if (typeof src === 'function') {
      for (let b = 0; b < batch.B; b++) {
        const c = batch.completions[b]!;
        const v = src(promptsFor(b), c, tokenizer ? tokenizer.decode(c) : null);
        if (typeof v !== 'number' || !Number.isFinite(v)) throw new AlignError('INVALID_ARGUMENT', `reward function ${k} returned ${String(v)} for row ${b}: rewards must be finite numbers.`);
        col[b] = v;
      }
    } else {
      const T = batch.P + batch.R;
      const s = tf.tidy(() => {
        const out = src.forward(tf.tensor2d(batch.ids, [batch.B, T], 'int32'), { attentionMask: batch.attention });
        if (out.size !== batch.B) throw new AlignError('CONFIG_INVALID', `the reward model returned ${out.size} values for ${batch.B} rows: it must have one label (numLabels 1).`);
        return out.dataSync() as Float32Array;
      });
      for (let b = 0; b < batch.B; b++) {
        if (!Number.isFinite(s[b]!)) throw new AlignError('INVALID_ARGUMENT', `the reward model scored row ${b} ${s[b]}: not finite.`);
        col[b] = s[b]!;
      }
    }
    return col;
  });
  const total = new Float32Array(batch.B);
  perSource.forEach((col, k) => col.forEach((v, b) => (total[b]! += weights[k]! * v)));
  return { total, perSource };
}

/** Check reward models: one label, the policy's vocabulary. */
export function checkRewardSources(policy: RlPolicy, sources: ReadonlyArray<RewardFunction | RewardModel>): void {
  if (sources.length === 0) throw new AlignError('CONFIG_INVALID', 'no reward: pass a reward function or a reward model.');
  sources.forEach((s, k) => {
    if (typeof s === 'function') return;
    if (!s || typeof s.forward !== 'function') throw new AlignError('CONFIG_INVALID', `reward ${k} is neither a function nor a model with forward().`);
    if (s.numLabels !== undefined && s.numLabels !== 1) throw new AlignError('CONFIG_INVALID', `reward model ${k} has ${s.numLabels} labels: a reward model has one (numLabels 1).`);
    if (s.backbone) checkVocab(policy, s.backbone.config.vocabSize, `reward model ${k}`);
  });
}

/** Optimizer settings shared by both trainers (TRL TrainingArguments defaults except the learning rate). */
export interface OptimOptions {
  /** Learning rate (TRL PPOConfig 3e-6, GRPOConfig 1e-6). */
  learningRate?: number;
  /** Warmup + cosine decay (cosineLr of @llm/train) over steps instead of a constant rate. */
  schedule?: LrSchedule;
  /** AdamW (TRL/HF: betas 0.9/0.999, eps 1e-8, weight decay 0). */
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
  /** Global-norm gradient clip (HF max_grad_norm 1.0; 0 = off). */
  maxGradNorm?: number;
}

export const lrAt = (step: number, lr: number, schedule: LrSchedule | undefined): number => (schedule ? cosineLr(step, schedule) : lr);

/**
 * One AdamW update: gradients of `lossFn` for every named parameter, global-norm clipped
 * (torch clip_grad_norm_), applied; the metric scalars lossFn returns are read back and freed.
 */
export function optimizerStep(opt: AdamW, params: Array<[string, tf.Variable]>, lr: number, maxGradNorm: number, lossFn: () => { loss: tf.Scalar; metrics: Record<string, tf.Scalar> }): { loss: number; gradNorm: number; metrics: Record<string, number> } {
  const byVar = new Map(params.map(([n, v]) => [v.name, n]));
  let kept: Record<string, tf.Scalar> = {};
  const { value, grads } = tf.variableGrads(() => {
    const r = lossFn();
    kept = Object.fromEntries(Object.entries(r.metrics).map(([k, v]) => [k, tf.keep(v)]));
    return r.loss;
  }, params.map(([, v]) => v));
  const named = new Map<string, tf.Tensor>(Object.entries(grads).map(([vn, g]) => [byVar.get(vn)!, g]));
  const gradNorm = named.size ? tf.tidy(() => tf.sqrt(tf.addN([...named.values()].map((g) => g.square().sum()))).dataSync()[0]!) : 0;
  if (maxGradNorm > 0 && gradNorm > maxGradNorm) {
    const scale = maxGradNorm / (gradNorm + 1e-6);
    for (const [n, g] of named) {
      named.set(n, g.mul(scale));
      g.dispose();
    }
  }
  opt.step(named, lr);
  tf.dispose([...named.values()]);
  const loss = value.dataSync()[0]!;
  value.dispose();
  const metrics = Object.fromEntries(Object.entries(kept).map(([k, v]) => [k, v.dataSync()[0]!]));
  tf.dispose(Object.values(kept));
  return { loss, gradNorm, metrics };
}

/** Resolve a positive integer option. */
export function posInt(name: string, v: number | undefined, dflt: number): number {
  const x = v ?? dflt;
  if (!Number.isInteger(x) || x < 1) throw new AlignError('CONFIG_INVALID', `${name} must be a positive integer, got ${x}.`);
  return x;
}

/** Resolve a finite number option in [lo, ∞). */
export function num(name: string, v: number | undefined, dflt: number, lo = -Infinity): number {
  const x = v ?? dflt;
  if (typeof x !== 'number' || !Number.isFinite(x) || x < lo) throw new AlignError('CONFIG_INVALID', `${name} must be a finite number ≥ ${lo}, got ${x}.`);
  return x;
}

/** Let an abort (or other events) land between steps. */
export const yieldToEvents = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Per-row means of a [B·R] host array over the mask: Σ_t mask·x per row. */
export function rowSums(x: ArrayLike<number>, mask: ArrayLike<number>, B: number, R: number): Float32Array {
  const out = new Float32Array(B);
  for (let b = 0; b < B; b++) for (let t = 0; t < R; t++) if (mask[b * R + t]) out[b]! += x[b * R + t]!;
  return out;
}

export function mean(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i]!;
  return xs.length ? s / xs.length : 0;
}
