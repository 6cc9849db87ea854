/**
 * Quantized linear modules: the LinearModule contract of @llm/transformer (`apply(x [N, in]) →
 * [N, out]`, inFeatures / outFeatures), so they stand in for a Linear through
 * `model.replaceModule(name, module)`. Each keeps its packed data as its state (on the device as
 * int32 tensors — tfjs has no uint8 dtype — and on the host as the quantizer's arrays) and
 * dequantizes on the fly in tfjs at every apply: the weight [out, in] is rebuilt with float32 ops
 * that give exactly the quantizer's `dequantize()` values, then y = x · Wᵀ + b. Frozen: no
 * trainable weights (namedParameters lists only the bias, as a non-trainable variable).
 *
 *   const q = new Nf4Linear(quantizeNf4({ data, shape: [out, in] }), bias);
 *   model.replaceModule('model.layers.0.mlp.up_proj', q);
 *
 * Call dispose() on a module you drop (model.dispose() frees the bias only).
 */
import { tf, ownedVariable } from '@llm/tensor-gpu';
import type { LinearModule } from '@llm/transformer';
import { QuantError } from '../errors.js';
import { NF4_CODE, type Nf4Weight } from '../quantizers/nf4.js';
import { INV_127, type Int8Weight } from '../quantizers/int8.js';
import type { Int4Weight } from '../quantizers/int4.js';
import type { QuantizedWeight } from '../quantizers/index.js';

/** What every quantized linear shares. */
export abstract class QuantizedLinear implements LinearModule {
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly bias: tf.Variable | null;
  abstract readonly weight: QuantizedWeight;
  protected readonly state: tf.Tensor[] = [];
  private disposed = false;

  constructor(shape: readonly [number, number], bias: tf.Tensor | Float32Array | null | undefined) {
    this.outFeatures = shape[0];
    this.inFeatures = shape[1];
    if (bias && (bias instanceof Float32Array ? bias.length : bias.size) !== this.outFeatures) {
      throw new QuantError('INVALID_ARGUMENT', `quantized linear: bias has ${bias instanceof Float32Array ? bias.length : bias.size} values for ${this.outFeatures} outputs.`);
    }
    this.bias = bias ? ownedVariable(bias instanceof Float32Array ? tf.tensor1d(bias) : tf.tidy(() => bias.reshape([this.outFeatures]).clone()), false) : null;
  }

  /** 'int8' | 'int4' | 'nf4' */
  get scheme(): QuantizedWeight['scheme'] {
    return this.weight.scheme;
  }

  /** Kept device tensors of the packed state (tf.keep'd, freed by dispose). */
  protected keep<T extends tf.Tensor>(t: T): T {
    tf.keep(t);
    this.state.push(t);
    return t;
  }

  /** The dequantized weight [out, in] as a new tensor (what apply multiplies by). */
  abstract dequantizedWeight(): tf.Tensor2D;

  apply(x: tf.Tensor): tf.Tensor {
    if (this.disposed) throw new QuantError('INVALID_ARGUMENT', 'quantized linear: apply() after dispose().');
    return tf.tidy(() => {
      const y = tf.matMul(x, this.dequantizedWeight(), false, true); // [N, out]
      return this.bias ? y.add(this.bias) : y;
    });
  }

  namedParameters(): Array<[string, tf.Variable]> {
    return this.bias ? [['bias', this.bias]] : [];
  }

  /** Packed bytes including scales / constants (the bias is not counted). */
  byteSize(): number {
    return this.weight.byteSize();
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    tf.dispose(this.state);
    this.bias?.dispose();
  }
}

/** 256-entry lookup tables byte → value of its high / low nibble (exact small floats or code values). */
function nibbleTables(values: ArrayLike<number>, highFirst: boolean): { first: tf.Tensor1D; second: tf.Tensor1D } {
  const hi = new Float32Array(256);
  const lo = new Float32Array(256);
  for (let b = 0; b < 256; b++) {
    hi[b] = values[b >> 4]!;
    lo[b] = values[b & 15]!;
  }
  return highFirst ? { first: tf.tensor1d(hi), second: tf.tensor1d(lo) } : { first: tf.tensor1d(lo), second: tf.tensor1d(hi) };
}

/** The first n values of packed nibbles, decoded through the tables: [n]. */
function decodeNibbles(packed: tf.Tensor1D, t: { first: tf.Tensor1D; second: tf.Tensor1D }, n: number): tf.Tensor1D {
  const pairs = tf.stack([tf.gather(t.first, packed), tf.gather(t.second, packed)], 1); // [bytes, 2]
  const flat = pairs.reshape([-1]) as tf.Tensor1D; // [2·bytes]
  return flat.size === n ? flat : flat.slice(0, n);
}

/** Scale [blocks·size] values by one factor per block (the last block may be partial): [n]. */
function scaleBlocks(values: tf.Tensor1D, factors: tf.Tensor1D, size: number, n: number): tf.Tensor1D {
  const blocks = factors.shape[0];
  const padded = blocks * size === n ? values : values.pad([[0, blocks * size - n]]); // [blocks·size]
  const out = padded.reshape([blocks, size]).mul(factors.reshape([blocks, 1])).reshape([-1]) as tf.Tensor1D; // [blocks·size]
  return blocks * size === n ? out : out.slice(0, n);
}

/** NF4 (bitsandbytes) linear, with or without double-quantized absmax. */
export class Nf4Linear extends QuantizedLinear {
  readonly weight: Nf4Weight;
  private readonly packed: tf.Tensor1D;
  private readonly tables: { first: tf.Tensor1D; second: tf.Tensor1D };
  private readonly absmax: tf.Tensor1D | null;
  private readonly nested: { codes: tf.Tensor1D; absmax: tf.Tensor1D; code: tf.Tensor1D; offset: tf.Scalar } | null;

  constructor(weight: Nf4Weight, bias?: tf.Tensor | Float32Array | null) {
    super(weight.shape, bias);
    this.weight = weight;
    this.packed = this.keep(tf.tensor1d(Int32Array.from(weight.packed), 'int32'));
    const t = nibbleTables(NF4_CODE, true);
    this.tables = { first: this.keep(t.first), second: this.keep(t.second) };
    this.absmax = weight.absmax ? this.keep(tf.tensor1d(weight.absmax)) : null;
    const n = weight.nested;
    this.nested = n
      ? {
          codes: this.keep(tf.tensor1d(Int32Array.from(n.codes), 'int32')),
          absmax: this.keep(tf.tensor1d(n.absmax)),
          code: this.keep(tf.tensor1d(n.code)),
          offset: this.keep(tf.scalar(n.offset)),
        }
      : null;
  }

  dequantizedWeight(): tf.Tensor2D {
    return tf.tidy(() => {
      const [out, inF] = this.weight.shape;
      const n = out * inF;
      let absmax: tf.Tensor1D;
      if (this.nested) {
        const nb = this.nested.codes.shape[0];
        const vals = tf.gather(this.nested.code, this.nested.codes) as tf.Tensor1D; // [blocks]
        absmax = scaleBlocks(vals, this.nested.absmax, this.weight.nested!.blockSize, nb).add(this.nested.offset) as tf.Tensor1D; // [blocks]
      } else {
        absmax = this.absmax!;
      }
      const codes = decodeNibbles(this.packed, this.tables, n); // [n]
      return scaleBlocks(codes, absmax, this.weight.blockSize, n).reshape([out, inF]) as tf.Tensor2D; // [out, in]
    });
  }
}

/**
 * Group-wise int4 linear: w = (q − zero) · scale per group of `groupSize` input columns, codes
 * packed by packInt4 (low nibble first). GPTQ / AWQ build it from their own codes, scales and
 * zeros with makeInt4 (contiguous groups, no g_idx: reorder act-order columns before packing).
 */
export class Int4Linear extends QuantizedLinear {
  readonly weight: Int4Weight;
  private readonly packed: tf.Tensor1D;
  private readonly tables: { first: tf.Tensor1D; second: tf.Tensor1D };
  private readonly scales: tf.Tensor3D;
  private readonly zeros: tf.Tensor3D;

  constructor(weight: Int4Weight, bias?: tf.Tensor | Float32Array | null) {
    super(weight.shape, bias);
    this.weight = weight;
    const [out, inF] = weight.shape;
    const nG = Math.ceil(inF / weight.groupSize);
    this.packed = this.keep(tf.tensor1d(Int32Array.from(weight.packed), 'int32'));
    const t = nibbleTables(Array.from({ length: 16 }, (_, i) => i), false);
    this.tables = { first: this.keep(t.first), second: this.keep(t.second) };
    this.scales = this.keep(tf.tensor3d(weight.scales, [out, nG, 1]));
    this.zeros = this.keep(tf.tensor3d(Float32Array.from(weight.zeros), [out, nG, 1]));
  }

  dequantizedWeight(): tf.Tensor2D {
    return tf.tidy(() => {
      const [out, inF] = this.weight.shape;
      const g = this.weight.groupSize;
      const nG = Math.ceil(inF / g);
      let q: tf.Tensor = decodeNibbles(this.packed, this.tables, out * inF).reshape([out, inF]); // [out, in]
      if (nG * g !== inF) q = q.pad([[0, 0], [0, nG * g - inF]]); // [out, nG·g]
      const w = q.reshape([out, nG, g]).sub(this.zeros).mul(this.scales).reshape([out, nG * g]); // [out, nG·g]
      return (nG * g === inF ? w : w.slice([0, 0], [out, inF])) as tf.Tensor2D; // [out, in]
    });
  }
}

/** int8 absmax linear with float32 outlier input columns. */
export class Int8Linear extends QuantizedLinear {
  readonly weight: Int8Weight;
  private readonly q: tf.Tensor2D;
  private readonly absmax: tf.Tensor2D;
  private readonly inv127: tf.Scalar;
  private readonly outliers: { w: tf.Tensor2D; index: tf.Tensor1D } | null;

  constructor(weight: Int8Weight, bias?: tf.Tensor | Float32Array | null) {
    super(weight.shape, bias);
    this.weight = weight;
    const [out, inF] = weight.shape;
    this.q = this.keep(tf.tensor2d(Int32Array.from(weight.q), [out, inF], 'int32'));
    this.absmax = this.keep(tf.tensor2d(weight.absmax, [out, 1]));
    this.inv127 = this.keep(tf.scalar(INV_127));
    const k = weight.outlierCols.length;
    if (k > 0) {
      // column j of the full weight = column index[j] of [dequantized int8 | outlier columns]
      const index = Int32Array.from({ length: inF }, (_, j) => j);
      weight.outlierCols.forEach((c, i) => (index[c] = inF + i));
      this.outliers = { w: this.keep(tf.tensor2d(weight.outliers, [out, k])), index: this.keep(tf.tensor1d(index, 'int32')) };
    } else {
      this.outliers = null;
    }
  }

  dequantizedWeight(): tf.Tensor2D {
    return tf.tidy(() => {
      const w = this.q.toFloat().mul(this.absmax).mul(this.inv127) as tf.Tensor2D; // [out, in]
      if (!this.outliers) return w;
      return tf.gather(tf.concat([w, this.outliers.w], 1), this.outliers.index, 1) as tf.Tensor2D; // [out, in]
    });
  }
}

/** The module for a quantized weight. */
export function quantizedLinear(weight: QuantizedWeight, bias?: tf.Tensor | Float32Array | null): QuantizedLinear {
  switch (weight.scheme) {
    case 'nf4':
      return new Nf4Linear(weight, bias);
    case 'int4':
      return new Int4Linear(weight, bias);
    case 'int8':
      return new Int8Linear(weight, bias);
  }
}
