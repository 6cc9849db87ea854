/**
 * @llm/quant's quantized linears → the engine's weight rows. Each scheme goes to the private block
 * format that holds its weights exactly (src/kernels/format.ts SCHEME_FORMATS), from the module's
 * own codes and scales; what no block format can hold goes to f32 rows of @llm/quant's own
 * dequantization (exact too, just larger) with the reason:
 *
 *   scheme        module                      format   f32 fallback when
 *   int8          Int8Linear                  q8_f32   outlier columns kept in f32; in % 32 ≠ 0
 *   int4          Int4Linear                  q4_z     groupSize % 32 ≠ 0; in % 32 ≠ 0
 *   nf4           Nf4Linear                   nf4      block size % 32 ≠ 0; in % 32 ≠ 0
 *   gptq          GptqLinear (GPTQ, AWQ)      q4_z     a g_idx not constant on each 32 columns
 *                                                      (act-order); an AWQ input scale; in % 32 ≠ 0
 *
 *   convertQuantized(new Nf4Linear(quantizeNf4(w)))  // → { scheme: 'nf4', fmt: 102, …, fallback: null }
 */
import { GGML_TYPE, INV_127, GptqLinear, Int4Linear, Int8Linear, Nf4Linear, QuantizedLinear, unpackGptqCodes, unpackGptqZeros, unpackInt4 } from '@llm/quant';
import { float16BitsToFloat32 } from '@llm/tensor-gpu';
import { SCHEME_FORMATS } from '../kernels/format.js';
import { nf4Rows, q4zRows, q8f32Rows } from './blocks.js';

/** A quantized linear as engine rows [rows = out, cols = in]. */
export interface ConvertedLinear {
  /** 'int8' | 'int4' | 'nf4' | 'gptq' (GptqLinear: GPTQ and AWQ). */
  scheme: string;
  /** The kernel format id (a SCHEME_FORMATS id, or GGML_TYPE.F32 for a fallback). */
  fmt: number;
  rows: number;
  cols: number;
  /** rows × rowBytes bytes. */
  data: Uint8Array;
  rowBytes: number;
  bias: Float32Array | null;
  /** Why the rows are f32 (null: the scheme's own block format). */
  fallback: string | null;
}


/** Whether `m` is one of @llm/quant's quantized linears (QuantizedLinear or GptqLinear). */
export function isQuantizedLinear(m: unknown): m is QuantizedLinear | GptqLinear {
  return m instanceof QuantizedLinear || m instanceof GptqLinear;
}

/** The engine rows of a quantized linear (see the table above). */
export function convertQuantized(m: QuantizedLinear | GptqLinear): ConvertedLinear {
  if (m instanceof GptqLinear) return gptq(m);
  const bias = m.bias ? Float32Array.from(m.bias.dataSync() as Float32Array) : null;
  if (m instanceof Int8Linear) return int8(m, bias);
  if (m instanceof Int4Linear) return int4(m, bias);
  if (m instanceof Nf4Linear) return nf4(m, bias);
  return f32Rows(m.scheme, m.outFeatures, m.inFeatures, dequantized(m), bias, `${m.constructor.name} has no block format`);
}

/** @llm/quant's dequantized weight [out, in] (f32; GptqLinear's [in, out] transposed, an AWQ input scale folded in). */
export function dequantized(m: QuantizedLinear | GptqLinear): Float32Array {
  return m instanceof GptqLinear ? transpose(m.dequantize(), m.inFeatures, m.outFeatures) : m.weight.dequantize();
}

function block(scheme: string, fmt: keyof typeof SCHEME_FORMATS, rows: number, cols: number, data: Uint8Array, bias: Float32Array | null): ConvertedLinear {
  const f = SCHEME_FORMATS[fmt];
  return { scheme, fmt: f.id, rows, cols, data, rowBytes: (cols / f.blockSize) * f.blockBytes, bias, fallback: null };
}

/** f32 rows [rows, cols] of a dequantized weight: the exact fallback. */
function f32Rows(scheme: string, rows: number, cols: number, w: Float32Array, bias: Float32Array | null, why: string): ConvertedLinear {
  const data = new Uint8Array(w.buffer.slice(w.byteOffset, w.byteOffset + w.byteLength));
  return { scheme, fmt: GGML_TYPE.F32, rows, cols, data, rowBytes: cols * 4, bias, fallback: why };
}

const notBlocks = (cols: number) => `${cols} inputs, not a multiple of 32`;

function int8(m: Int8Linear, bias: Float32Array | null): ConvertedLinear {
  const w = m.weight;
  const [out, cols] = w.shape;
  const why = w.outlierCols.length > 0 ? `${w.outlierCols.length} outlier columns kept in f32` : cols % 32 ? notBlocks(cols) : null;
  if (why) return f32Rows('int8', out, cols, w.dequantize(), bias, why);
  const d = w.absmax.map((a) => Math.fround(a * INV_127)); // [out]
  return block('int8', 'q8_f32', out, cols, q8f32Rows(w.q, d, out, cols), bias);
}

function int4(m: Int4Linear, bias: Float32Array | null): ConvertedLinear {
  const w = m.weight;
  const [out, cols] = w.shape;
  const g = w.groupSize;
  const why = g % 32 ? `group size ${g}, not a multiple of 32` : cols % 32 ? notBlocks(cols) : null;
  if (why) return f32Rows('int4', out, cols, w.dequantize(), bias, why);
  const codes = unpackInt4(w.packed, out * cols); // [out, in]
  const nG = Math.ceil(cols / g);
  const at = (r: number, b: number) => r * nG + Math.floor((32 * b) / g);
  const data = q4zRows(out, cols, (r, c) => codes[r * cols + c]!, (r, b) => w.scales[at(r, b)]!, (r, b) => w.zeros[at(r, b)]!);
  return block('int4', 'q4_z', out, cols, data, bias);
}

function nf4(m: Nf4Linear, bias: Float32Array | null): ConvertedLinear {
  const w = m.weight;
  const [out, cols] = w.shape;
  const why = w.blockSize % 32 ? `block size ${w.blockSize}, not a multiple of 32` : cols % 32 ? notBlocks(cols) : null;
  if (why) return f32Rows('nf4', out, cols, w.dequantize(), bias, why);
  const absmax = w.absmaxValues(); // per NF4 block (double quant dequantized by @llm/quant)
  const data = nf4Rows(w.packed, (r, b) => absmax[Math.floor((r * cols + 32 * b) / w.blockSize)]!, out, cols);
  return block('nf4', 'nf4', out, cols, data, bias);
}

/** The group of each 32-column block when g_idx is constant on it, else null (act-order). */
function blockGroups(gIdx: Int32Array): Int32Array | null {
  const groups = new Int32Array(gIdx.length / 32);
  for (let b = 0; b < groups.length; b++) {
    groups[b] = gIdx[32 * b]!;
    for (let c = 32 * b; c < 32 * b + 32; c++) if (gIdx[c] !== groups[b]) return null;
  }
  return groups;
}

function gptq(m: GptqLinear): ConvertedLinear {
  const p = m.packed;
  const { inFeatures: cols, outFeatures: out } = p;
  const groups = cols % 32 ? null : blockGroups(p.gIdx);
  const why = m.inputScale ? 'an AWQ input scale (per input column)' : cols % 32 ? notBlocks(cols) : groups ? null : 'act-order g_idx not constant on 32-column blocks';
  if (why) return f32Rows('gptq', out, cols, dequantized(m), m.bias, why);
  const codes = unpackGptqCodes(p); // [in, out]
  const zeros = unpackGptqZeros(p); // [G, out]
  const scales = float16BitsToFloat32(p.scales); // [G, out]
  const at = (r: number, b: number) => groups![b]! * out + r;
  const data = q4zRows(out, cols, (r, c) => codes[c * out + r]!, (r, b) => scales[at(r, b)]!, (r, b) => zeros[at(r, b)]!);
  return block('gptq', 'q4_z', out, cols, data, m.bias);
}

/** [rows, cols] → [cols, rows]. */
function transpose(a: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = a[r * cols + c]!;
  return t;
}
