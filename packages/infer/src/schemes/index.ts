/**
 * compileForInference's side of @llm/quant's quantized linears: one SchemeLinears per compile
 * converts each quantized module once (convert.ts), hands out row ranges of it as LinearSources
 * (GPT-2's fused c_attn is read as three), logs each fallback once in `fallbacks`, and records
 * the schemes that ran for `engine.weights`.
 *
 *   const q = new SchemeLinears(fallbacks);
 *   q.source(model.linear('model.layers.0.mlp.up_proj'), 'model.layers.0.mlp.up_proj');
 *   q.label('f32')   // 'nf4+f32' when NF4 linears and a plain f32 head ran, 'f32' when none is quantized
 */
import { GGML_TYPE } from '@llm/quant';
import type { LinearSource } from '../engine/source.js';
import { convertQuantized, dequantized, isQuantizedLinear, type ConvertedLinear } from './convert.js';

export { isQuantizedLinear } from './convert.js';

export class SchemeLinears {
  /** Scheme names that ran, and the plain format when plain linears ran too, in order of first use. */
  private readonly used = new Set<string>();
  private readonly cache = new Map<object, ConvertedLinear>();

  constructor(private readonly fallbacks: string[]) {}

  /** A plain linear ran in format `weights`. */
  plain(weights: string): void {
    this.used.add(weights);
  }

  /**
   * Rows [rowsFrom, rowsTo) of quantized linear `m` as a LinearSource; `f32` forces f32 rows
   * (MoE routers run in f32 whatever their weights).
   */
  source(m: unknown, name: string, rowsFrom = 0, rowsTo?: number, f32 = false): LinearSource {
    if (!isQuantizedLinear(m)) throw new TypeError(`${name} is not a quantized linear`);
    const to = rowsTo ?? m.outFeatures;
    if (f32) {
      const w = dequantized(m).subarray(rowsFrom * m.inFeatures, to * m.inFeatures);
      return { fmt: GGML_TYPE.F32, rows: to - rowsFrom, cols: m.inFeatures, data: new Uint8Array(w.slice().buffer), bias: null };
    }
    let c = this.cache.get(m);
    if (!c) {
      c = convertQuantized(m);
      this.cache.set(m, c);
      if (c.fallback) this.fallbacks.push(`${name}: ${c.scheme} → f32 (${c.fallback}; dequantized exactly)`);
    }
    this.used.add(c.scheme);
    const bias = c.bias ? c.bias.slice(rowsFrom, to) : null;
    return { fmt: c.fmt, rows: to - rowsFrom, cols: c.cols, data: c.data.subarray(rowsFrom * c.rowBytes, to * c.rowBytes), bias };
  }

  /** engine.weights: `weights` when no quantized linear ran, else the formats that ran joined by '+'. */
  label(weights: string): string {
    return this.used.size === 0 || (this.used.size === 1 && this.used.has(weights)) ? weights : [...this.used].join('+');
  }
}
