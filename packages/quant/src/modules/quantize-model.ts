/**
 * quantizeModel: replace a model's linear layers, by name through the module tree, with quantized
 * ones, and report the bytes per parameter.
 *
 *   const report = quantizeModel(model, { scheme: 'nf4' });
 *   report.total.bytesPerParam;   // ≈ 0.52 for NF4 + double quant
 *
 * Skipped by default: `lm_head` (bitsandbytes / HF keep the output head in full precision, and a
 * tied head IS the embedding). Embeddings and norms are not linears and are never touched. Only
 * plain Linear modules are quantized (a LoRA wrapper or an already quantized module is an error
 * unless skipped).
 *
 * Calibration (int8 only here): token ids [B, T] run through the model once; for every linear the
 * per-input-column max |x| decides LLM.int8's outlier columns (|x| ≥ threshold). Without it the
 * weights' own columns decide (see quantizers/int8.ts).
 */
import { tf } from '@llm/tensor-gpu';
import { Linear, type LinearModule, type TransformerLM } from '@llm/transformer';
import { QuantError } from '../errors.js';
import { quantizeInt4 } from '../quantizers/int4.js';
import { quantizeInt8 } from '../quantizers/int8.js';
import { quantizeNf4 } from '../quantizers/nf4.js';
import type { QuantizedWeight, WeightMatrix } from '../quantizers/index.js';
import { QuantizedLinear, quantizedLinear } from './quantized-linear.js';

export type QuantScheme = 'int8' | 'int4' | 'nf4';
export const QUANT_SCHEMES: readonly QuantScheme[] = ['int8', 'int4', 'nf4'];

export interface QuantizeOptions {
  scheme: QuantScheme;
  /** int4: input columns per group (default 128); nf4: block size (default 64). */
  groupSize?: number;
  /** int4: symmetric (default true) or asymmetric with zero points. */
  symmetric?: boolean;
  /** nf4: double quantization of the absmax constants (default true). */
  doubleQuant?: boolean;
  /** int8: outlier threshold (default 6.0; 0 turns outliers off). */
  threshold?: number;
  /** Linears left in float32: names, a RegExp or a predicate. Default: lm_head. */
  skip?: readonly string[] | RegExp | ((name: string) => boolean);
  /** int8: calibration token ids [B, T] (int32) for the activation outlier columns. */
  calibration?: tf.Tensor;
}

export interface LayerReport {
  name: string;
  scheme: QuantScheme;
  /** Weight parameters (out · in; the bias stays float32 and is not counted). */
  parameters: number;
  /** Packed bytes including scales and constants. */
  bytes: number;
  bytesPerParam: number;
}

export interface QuantizeReport {
  scheme: QuantScheme;
  layers: LayerReport[];
  skipped: string[];
  total: { parameters: number; bytes: number; bytesPerParam: number };
}

/** The float32 weight of a plain Linear as [out, in] (GPT-2 Conv1D [in, out] is transposed). */
export function linearWeight(m: LinearModule, name: string): { w: WeightMatrix; bias: Float32Array | null } {
  if (!(m instanceof Linear)) {
    throw new QuantError('UNSUPPORTED', `"${name}" is not a plain Linear (it is a ${m.constructor?.name ?? typeof m}); only float linears can be quantized — skip it, or merge its adapter first.`);
  }
  const raw = m.weight.dataSync() as Float32Array;
  const out = m.outFeatures;
  const inF = m.inFeatures;
  let data: Float32Array;
  if (m.layout === 'out_in') {
    data = Float32Array.from(raw);
  } else {
    data = new Float32Array(out * inF);
    for (let i = 0; i < inF; i++) for (let o = 0; o < out; o++) data[o * inF + i] = raw[i * out + o]!;
  }
  return { w: { data, shape: [out, inF] }, bias: m.bias ? Float32Array.from(m.bias.dataSync() as Float32Array) : null };
}

/** Quantize one [out, in] weight by the options' scheme. */
export function quantizeWeight(w: WeightMatrix, opts: QuantizeOptions, activationAbsMax?: Float32Array): QuantizedWeight {
  switch (opts.scheme) {
    case 'int8':
      return quantizeInt8(w, { threshold: opts.threshold ?? 6, ...(activationAbsMax ? { activationAbsMax } : {}) });
    case 'int4':
      return quantizeInt4(w, { groupSize: opts.groupSize ?? 128, symmetric: opts.symmetric ?? true });
    case 'nf4':
      return quantizeNf4(w, { blockSize: opts.groupSize ?? 64, doubleQuant: opts.doubleQuant ?? true });
    default:
      throw new QuantError('INVALID_ARGUMENT', `unknown scheme "${(opts as { scheme: unknown }).scheme}"; use one of ${QUANT_SCHEMES.join(', ')}.`);
  }
}

/** A skip predicate from the option (default: lm_head). */
export function skipPredicate(skip: QuantizeOptions['skip']): (name: string) => boolean {
  if (skip === undefined) return (n) => n === 'lm_head';
  if (typeof skip === 'function') return skip;
  if (skip instanceof RegExp) return (n) => skip.test(n);
  const set = new Set(skip);
  return (n) => set.has(n);
}

/** Per-input-column max |x| of every named linear's inputs over one forward of `ids`. */
export function activationAbsMax(model: TransformerLM, names: readonly string[], ids: tf.Tensor): Map<string, Float32Array> {
  const seen = new Map<string, Float32Array>();
  const originals = new Map<string, LinearModule>();
  for (const name of names) {
    const base = model.getModule(name);
    const acc = new Float32Array(base.inFeatures);
    seen.set(name, acc);
    const recorder: LinearModule = {
      inFeatures: base.inFeatures,
      outFeatures: base.outFeatures,
      apply: (x) => {
        const m = tf.tidy(() => x.abs().max(0)).dataSync() as Float32Array; // [in]
        for (let j = 0; j < acc.length; j++) acc[j] = Math.max(acc[j]!, m[j]!);
        return base.apply(x);
      },
      namedParameters: () => base.namedParameters(),
    };
    originals.set(name, model.replaceModule(name, recorder));
  }
  try {
    tf.dispose(model.forward(ids));
  } finally {
    for (const [name, m] of originals) model.replaceModule(name, m);
  }
  return seen;
}

export function quantizeModel(model: TransformerLM, opts: QuantizeOptions): QuantizeReport {
  if (!QUANT_SCHEMES.includes(opts?.scheme)) throw new QuantError('INVALID_ARGUMENT', `quantizeModel: scheme must be one of ${QUANT_SCHEMES.join(', ')}, got ${String(opts?.scheme)}.`);
  if (opts.calibration && opts.scheme !== 'int8') throw new QuantError('INVALID_ARGUMENT', `quantizeModel: calibration is used by int8 only (its outlier columns); ${opts.scheme} round-to-nearest needs none — drop it.`);
  const skip = skipPredicate(opts.skip);
  const names = model.linearNames().filter((n) => !skip(n));
  const skipped = model.linearNames().filter((n) => skip(n));
  for (const name of names) linearWeightCheck(model.getModule(name), name);
  const act = opts.calibration && opts.scheme === 'int8' ? activationAbsMax(model, names, opts.calibration) : null;
  const tiedEmbedding = model.layout.tied ? model.param(model.layout.embedName) : null;
  const layers: LayerReport[] = [];
  for (const name of names) {
    const old = model.getModule(name);
    const { w, bias } = linearWeight(old, name);
    const q = quantizedLinear(quantizeWeight(w, opts, act?.get(name)), bias);
    model.replaceModule(name, q);
    for (const [, v] of old.namedParameters()) if (v !== tiedEmbedding) v.dispose();
    const parameters = q.inFeatures * q.outFeatures;
    layers.push({ name, scheme: opts.scheme, parameters, bytes: q.byteSize(), bytesPerParam: q.byteSize() / parameters });
  }
  return { scheme: opts.scheme, layers, skipped, total: totals(layers) };
}

function linearWeightCheck(m: LinearModule, name: string): void {
  if (!(m instanceof Linear)) {
    const what = m instanceof QuantizedLinear ? `already quantized (${m.scheme})` : `not a plain Linear (${m.constructor?.name ?? typeof m})`;
    throw new QuantError('UNSUPPORTED', `quantizeModel: "${name}" is ${what}; only float linears can be quantized — skip it (opts.skip) or start from the float model.`);
  }
}

/** A report of the quantized modules a model holds now (e.g. after loadQuantizedModel). */
export function quantizationReport(model: TransformerLM): QuantizeReport {
  const layers: LayerReport[] = [];
  const skipped: string[] = [];
  let scheme: QuantScheme | null = null;
  for (const name of model.linearNames()) {
    const m = model.getModule(name);
    if (!(m instanceof QuantizedLinear)) {
      skipped.push(name);
      continue;
    }
    scheme = m.scheme;
    const parameters = m.inFeatures * m.outFeatures;
    layers.push({ name, scheme: m.scheme, parameters, bytes: m.byteSize(), bytesPerParam: m.byteSize() / parameters });
  }
  if (!scheme) throw new QuantError('INVALID_ARGUMENT', 'quantizationReport: the model has no quantized linears.');
  return { scheme, layers, skipped, total: totals(layers) };
}

function totals(layers: LayerReport[]): QuantizeReport['total'] {
  const parameters = layers.reduce((a, l) => a + l.parameters, 0);
  const bytes = layers.reduce((a, l) => a + l.bytes, 0);
  return { parameters, bytes, bytesPerParam: parameters ? bytes / parameters : 0 };
}
