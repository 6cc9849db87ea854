/**
 * A GPTQ/AWQ 4-bit linear with the module-tree contract (`apply(x [N, in]) → [N, out]`): the
 * packed HF/AutoGPTQ tensors (qweight, qzeros, scales, g_idx) plus an optional bias and an
 * optional per-input-channel scale (AWQ, where 1/s could not be folded into a previous op). The
 * weight is dequantized on the host on every call (for fast inference, @llm/infer's compileForInference runs it on its own kernel).
 *
 *   const q = gptqQuantize(W, out, inF, H, { groupSize: 128 });
 *   model.replaceModule(name, new GptqLinear(packGptq(q), bias));
 */
import { tf } from '@llm/tensor-gpu';
import type { LinearModule } from '@llm/transformer';
import { dequantizePacked, validatePacked, type PackedGptq } from './pack.js';

export class GptqLinear implements LinearModule {
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly packed: PackedGptq;
  readonly bias: Float32Array | null;
  /** AWQ's unfolded activation scale s [in]: the layer computes (x / s)·W'. */
  readonly inputScale: Float32Array | null;

  constructor(packed: PackedGptq, bias?: Float32Array | null, inputScale?: Float32Array | null) {
    validatePacked(packed, 'GptqLinear');
    this.packed = packed;
    this.inFeatures = packed.inFeatures;
    this.outFeatures = packed.outFeatures;
    this.bias = bias ?? null;
    this.inputScale = inputScale ?? null;
  }

  /** Dequantized weight [in, out] (the 1/s of an input scale folded in). */
  dequantize(): Float32Array {
    return dequantizePacked(this.packed, this.inputScale);
  }

  apply(x: tf.Tensor): tf.Tensor {
    const w = this.dequantize();
    return tf.tidy(() => {
      const y = tf.matMul(x, tf.tensor2d(w, [this.inFeatures, this.outFeatures])); // [N, out]
      return this.bias ? y.add(tf.tensor1d(this.bias)) : y;
    });
  }

  /** No trainable weights (the packed tensors are not tf.Variables). */
  namedParameters(): Array<[string, tf.Variable]> {
    return [];
  }

  /** Bytes of the quantized representation (qweight, qzeros, scales f16, g_idx, bias f16-equivalent f32). */
  byteSize(): number {
    const p = this.packed;
    return p.qweight.byteLength + p.qzeros.byteLength + p.scales.byteLength + p.gIdx.byteLength + (this.bias?.byteLength ?? 0) + (this.inputScale?.byteLength ?? 0);
  }
}
