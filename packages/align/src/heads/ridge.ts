/**
 * A light regressor on a model's embeddings: pooled last hidden states (mean over real tokens, or
 * the last real token) → ridge regression in closed form (float64 on the host, Cholesky), the
 * intercept unpenalized (sklearn's Ridge with fit_intercept).
 *
 *   const X = embedTexts(backbone, texts, { pooling: 'mean', padId: 0 });      // { data [N·C], rows N, cols C }
 *   const ridge = fitRidge(X, targets, { lambda: 1 });
 *   ridge.predict(embedTexts(backbone, newTexts, { pooling: 'mean', padId: 0 })); // Float64Array [N]
 *
 * w = (XcᵀXc + λI)⁻¹ Xcᵀ(y − ȳ), b = ȳ − x̄·w  (Xc: X with column means x̄ removed).
 * Dimension legend: N texts, T positions, C width.
 */
import { tf } from '@llm/tensor-gpu';
import { poolLastToken, type RunOptions, type ModelOutput } from '@llm/transformer';
import { AlignError } from '../errors.js';
import { collateIds, maskRows } from '../data/collate.js';

export interface Features {
  /** Row-major [N, C]. */
  data: Float64Array;
  rows: number;
  cols: number;
}

export interface EmbedOptions {
  pooling?: 'mean' | 'last';
  padId?: number;
  batchSize?: number;
}

/** Pooled last hidden states of token rows (no gradient; frees what it makes). */
export function embedTexts(model: { run(ids: tf.Tensor, opts?: RunOptions): ModelOutput }, texts: ReadonlyArray<readonly number[]>, opts: EmbedOptions = {}): Features {
  const { pooling = 'mean', padId = 0, batchSize = 16 } = opts;
  if (pooling !== 'mean' && pooling !== 'last') throw new AlignError('CONFIG_INVALID', `pooling must be 'mean' or 'last', got ${JSON.stringify(pooling)}.`);
  if (texts.length === 0 || texts.some((t) => t.length === 0)) throw new AlignError('INVALID_ARGUMENT', 'embedTexts: every text needs at least one token.');
  const parts: Float32Array[] = [];
  let C = 0;
  for (let s = 0; s < texts.length; s += batchSize) {
    const b = collateIds(texts.slice(s, s + batchSize), padId);
    const pooled = tf.tidy(() => {
      const ids = tf.tensor2d(b.inputs, [b.rows, b.length], 'int32'); // [N, T]
      const mask = maskRows(b);
      const out = model.run(ids, { attentionMask: mask, logits: false });
      out.auxLoss?.dispose();
      if (pooling === 'last') return poolLastToken(out.hidden, mask); // [N, C]
      const m = tf.tensor2d(Float32Array.from(b.mask), [b.rows, b.length]).expandDims(2); // [N, T, 1]
      return out.hidden.mul(m).sum(1).div(m.sum(1)) as tf.Tensor2D; // [N, C]
    });
    C = pooled.shape[1]!;
    parts.push(Float32Array.from(pooled.dataSync()));
    pooled.dispose();
  }
  const data = new Float64Array(texts.length * C);
  let o = 0;
  for (const p of parts) data.set(p, o), (o += p.length);
  return { data, rows: texts.length, cols: C };
}

export interface RidgeModel {
  weights: Float64Array; // [C]
  bias: number;
  lambda: number;
  predict(x: Features): Float64Array;
}

export function fitRidge(x: Features, y: ArrayLike<number>, opts: { lambda?: number } = {}): RidgeModel {
  const lambda = opts.lambda ?? 1;
  const { rows: N, cols: C, data } = x;
  if (!(Number.isFinite(lambda) && lambda >= 0)) throw new AlignError('CONFIG_INVALID', `lambda must be ≥ 0, got ${lambda}.`);
  if (y.length !== N || N === 0) throw new AlignError('INVALID_ARGUMENT', `fitRidge: ${N} feature rows but ${y.length} targets.`);
  const mean = new Float64Array(C);
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) mean[c]! += data[n * C + c]! / N;
  let ym = 0;
  for (let n = 0; n < N; n++) ym += y[n]! / N;
  const A = new Float64Array(C * C); // XcᵀXc + λI
  const rhs = new Float64Array(C); // Xcᵀ(y − ȳ)
  const row = new Float64Array(C);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) row[c] = data[n * C + c]! - mean[c]!;
    const yc = y[n]! - ym;
    for (let i = 0; i < C; i++) {
      rhs[i]! += row[i]! * yc;
      for (let j = 0; j <= i; j++) A[i * C + j]! += row[i]! * row[j]!;
    }
  }
  for (let i = 0; i < C; i++) {
    A[i * C + i]! += Math.max(lambda, 1e-10); // a tiny ridge keeps λ = 0 solvable when C > N
    for (let j = 0; j < i; j++) A[j * C + i] = A[i * C + j]!;
  }
  const w = choleskySolve(A, rhs, C);
  let bias = ym;
  for (let c = 0; c < C; c++) bias -= mean[c]! * w[c]!;
  const predict = (f: Features) => {
    if (f.cols !== C) throw new AlignError('INVALID_ARGUMENT', `predict: features have ${f.cols} columns, the model ${C}.`);
    const out = new Float64Array(f.rows);
    for (let n = 0; n < f.rows; n++) {
      let s = bias;
      for (let c = 0; c < C; c++) s += f.data[n * C + c]! * w[c]!;
      out[n] = s;
    }
    return out;
  };
  return { weights: w, bias, lambda, predict };
}

/** Solves A x = b for symmetric positive-definite A [C, C] (row-major). */
function choleskySolve(A: Float64Array, b: Float64Array, C: number): Float64Array {
  const L = new Float64Array(C * C);
  for (let i = 0; i < C; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i * C + j]!;
      for (let k = 0; k < j; k++) s -= L[i * C + k]! * L[j * C + k]!;
      if (i === j) {
        if (!(s > 0)) throw new AlignError('INVALID_ARGUMENT', 'fitRidge: the system is not positive definite; raise lambda.');
        L[i * C + i] = Math.sqrt(s);
      } else L[i * C + j] = s / L[j * C + j]!;
    }
  }
  const z = new Float64Array(C);
  for (let i = 0; i < C; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= L[i * C + k]! * z[k]!;
    z[i] = s / L[i * C + i]!;
  }
  const x = new Float64Array(C);
  for (let i = C - 1; i >= 0; i--) {
    let s = z[i]!;
    for (let k = i + 1; k < C; k++) s -= L[k * C + i]! * x[k]!;
    x[i] = s / L[i * C + i]!;
  }
  return x;
}
