/**
 * NF4 (4-bit NormalFloat) exactly as bitsandbytes / QLoRA quantize it, with optional double
 * quantization of the per-block absmax constants. Follows bitsandbytes' PyTorch reference ops
 * (bitsandbytes/backends/default/ops.py `quantize_4bit`, `quantize_blockwise`, and
 * bitsandbytes/functional.py `quantize_4bit(compress_statistics=True)`, `create_dynamic_map`):
 *
 *   - the weight is flattened (row-major [out, in]) and cut into blocks of 64 values;
 *   - absmax per block; each value is scaled by the float32 reciprocal of its block's absmax
 *     (x · (1/absmax), clamped to [-1, 1]) and mapped to the nearest of the 16 NF4 codes
 *     (torch.bucketize against the midpoints: a value exactly on a midpoint takes the lower code);
 *   - two codes per byte, the FIRST element in the HIGH nibble;
 *   - double quantization: offset = mean(absmax), summed in float64 and rounded once to float32
 *     (bitsandbytes takes torch's float32 absmax.mean(), whose last bit depends on torch's SIMD
 *     reduction order — CPU AVX2 vs AVX-512 vs CUDA — so it can differ from ours by 1 ulp on some
 *     inputs; the committed fixtures record both and agree), then absmax − offset is quantized
 *     blockwise in blocks of 256 with bitsandbytes' signed 8-bit dynamic map
 *     (create_dynamic_map(signed=True, max_exponent_bits=7)), each block scaled by its own absmax
 *     (float32). Dequantized absmax = dynamic[q] · absmax2 + offset.
 *
 *   const q = quantizeNf4({ data, shape: [out, in] });          // double quant on by default
 *   q.packed;        // Uint8Array ⌈n/2⌉
 *   q.dequantize();  // Float32Array [out·in], what bitsandbytes' dequantize_4bit returns
 */
import { QuantError } from '../errors.js';
import { checkChoice, checkMatrix, f32, type WeightMatrix } from './common.js';

/** The 16 NF4 values (bitsandbytes/backends/utils.py _NF4_QUANT_TABLE, float32). */
export const NF4_CODE: Float32Array = Float32Array.from([
  -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635, -0.18477343022823334,
  -0.09105003625154495, 0.0, 0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
  0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0,
]);

/** Midpoints between sorted codes, float32 ((code[i] + code[i+1]) / 2 in float32, as bitsandbytes). */
export function codeBounds(code: Float32Array): Float32Array {
  const b = new Float32Array(code.length - 1);
  for (let i = 0; i < b.length; i++) b[i] = f32(f32(code[i]! + code[i + 1]!) / 2);
  return b;
}

/** torch.bucketize(x, bounds, right=False): the number of bounds strictly below x. */
export function bucketize(x: number, bounds: Float32Array): number {
  let lo = 0;
  let hi = bounds.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (bounds[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The 127 positive non-1 values of bitsandbytes' signed dynamic map, float32 bits in hex, as
 * create_dynamic_map(signed=True, max_exponent_bits=7) builds them in PyTorch (torch 1.13, CPU).
 * torch.linspace's float32 values depend on its vectorized kernel's lane order, so the map is
 * stored rather than recomputed; fixtures/make_quant_fixtures.py recomputes it in torch and the
 * tests compare bit for bit. (A checkpoint stores its map, so loading never depends on this.)
 */
const DYNAMIC_POSITIVE_HEX =
  '3513a3b7365a1a94370205ff37b2420638378034388aefb338ba1f4b3923d70b398ce70539c7e2833a016f013a1eecc13a3c6a803a59e83e3a7765ff3aa7ef9d' +
  '3af1a9fc3b1db22d3b428f5c3b676c8a3b8624dd3b9893743bab020d3bbd70a43bcfdf3b3be24dd33bf4bc6a3c0395813c0ccccd3c1604183c1f3b643c3ae148' +
  '3c68f5c33c8b851f3ca28f5c3cb9999a3cd0a3d73ce7ae133cfeb8523d0ae1473d1666673d21eb853d2d70a33d38f5c33d447ae13d5000003d5b851f3d670a3d' +
  '3d728f5d3d7e147a3d84cccd3d8a8f5d3d9051eb3d96147b3d9bd70a3da1999a3da75c283dad1eb83db2e1483db8a3d73dbe66673dc428f53dc9eb853ddb3334' +
  '3df800003e0a66663e18cccd3e2733333e3599993e4400003e5266663e60cccd3e6f33343e7d999a3e8600003e8d33343e9466663e9b999a3ea2cccc3eaa0000' +
  '3eb133323eb866663ebf999a3ec6cccc3ece00003ed533323edc66663ee3999a3eeacccc3ef200003ef933343f0033333f03cccd3f0766663f0b00003f0e999a' +
  '3f1233343f15cccd3f1966663f1d00003f20999a3f2433333f27cccd3f2b66673f2f00003f32999a3f3633343f39cccd3f3d66673f4100003f44999a3f483333' +
  '3f4bcccc3f4f66663f5300003f5699993f5a33333f5dcccc3f6166663f6500003f68999a3f6c33333f6fcccc3f7366663f7700003f7a99993f7e3333';

let dynamic: Float32Array | null = null;

/**
 * bitsandbytes' signed 8-bit dynamic quantization map: 256 sorted float32 values in [-1, 1]
 * (127 negatives, 0, 127 positives, 1).
 */
export function dynamicMap(): Float32Array {
  if (dynamic) return dynamic;
  const bits = new Uint32Array(256);
  for (let i = 0; i < 127; i++) {
    const b = parseInt(DYNAMIC_POSITIVE_HEX.slice(8 * i, 8 * i + 8), 16) >>> 0;
    bits[128 + i] = b;
    bits[126 - i] = (b | 0x80000000) >>> 0;
  }
  bits[127] = 0;
  bits[255] = 0x3f800000;
  dynamic = new Float32Array(bits.buffer);
  return dynamic;
}

/** Blockwise quantization with a sorted code (bitsandbytes quantize_blockwise / quantize_4bit's core). */
export function quantizeBlockwise(values: Float32Array, code: Float32Array, blockSize: number): { codes: Uint8Array; absmax: Float32Array } {
  const n = values.length;
  const nBlocks = Math.ceil(n / blockSize);
  const bounds = codeBounds(code);
  const codes = new Uint8Array(n);
  const absmax = new Float32Array(nBlocks);
  const tiny = f32(1e-38);
  for (let blk = 0; blk < nBlocks; blk++) {
    const lo = blk * blockSize;
    const hi = Math.min(n, lo + blockSize);
    let m = 0;
    for (let i = lo; i < hi; i++) m = Math.max(m, Math.abs(values[i]!));
    absmax[blk] = m;
    const inv = f32(1 / Math.max(m, tiny)); // 1.0 / absmax.clamp(min=1e-38), float32
    for (let i = lo; i < hi; i++) {
      const s = Math.min(1, Math.max(-1, f32(values[i]! * inv)));
      codes[i] = bucketize(s, bounds);
    }
  }
  return { codes, absmax };
}

/** code[q] · absmax of the block, float32 (bitsandbytes dequantize_blockwise). */
export function dequantizeBlockwise(codes: Uint8Array, absmax: Float32Array, code: Float32Array, blockSize: number): Float32Array {
  const out = new Float32Array(codes.length);
  for (let i = 0; i < codes.length; i++) out[i] = f32(code[codes[i]!]! * absmax[Math.floor(i / blockSize)]!);
  return out;
}

/** Two 4-bit codes per byte, the first element in the HIGH nibble (bitsandbytes' NF4 order); odd n pads a zero. */
export function packNibblesHighFirst(codes: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(codes.length / 2));
  for (let i = 0; i < out.length; i++) out[i] = ((codes[2 * i]! & 15) << 4) | ((codes[2 * i + 1] ?? 0) & 15);
  return out;
}

/** Inverse of packNibblesHighFirst: the first n codes. */
export function unpackNibblesHighFirst(packed: Uint8Array, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = i % 2 === 0 ? packed[i >> 1]! >> 4 : packed[i >> 1]! & 15;
  return out;
}

/** The double-quantized absmax constants (bitsandbytes' nested quant state). */
export interface NestedAbsmax {
  /** 8-bit codes of (absmax − offset), one per NF4 block. */
  codes: Uint8Array;
  /** absmax of each nested block of `blockSize` (float32). */
  absmax: Float32Array;
  /** The 256-value code (bitsandbytes' dynamic map). */
  code: Float32Array;
  /** mean of the absmax constants, float32. */
  offset: number;
  /** 256. */
  blockSize: number;
}

export interface Nf4Weight {
  readonly scheme: 'nf4';
  /** [out, in] */
  readonly shape: [number, number];
  /** NF4 block size (64). */
  readonly blockSize: number;
  /** ⌈out·in / 2⌉ bytes, first element of each pair in the high nibble. */
  readonly packed: Uint8Array;
  /** Per-block absmax (float32) when not double-quantized; null when `nested` holds them. */
  readonly absmax: Float32Array | null;
  readonly nested: NestedAbsmax | null;
  /** The absmax constants as dequantization uses them (nested ones dequantized). */
  absmaxValues(): Float32Array;
  /** The dequantized weight [out·in] (float32). */
  dequantize(): Float32Array;
  /** Bytes of packed data + constants (codes, absmax, nested map and offset). */
  byteSize(): number;
}

export interface Nf4Options {
  /** Values per block (default 64, QLoRA's). */
  blockSize?: number;
  /** Quantize the absmax constants too (default true, QLoRA's). */
  doubleQuant?: boolean;
  /** Nested block size (default 256, bitsandbytes'). */
  nestedBlockSize?: number;
}

export function quantizeNf4(w: WeightMatrix, opts: Nf4Options = {}): Nf4Weight {
  const shape = checkMatrix(w, 'quantizeNf4');
  const blockSize = opts.blockSize ?? 64;
  checkChoice(blockSize, [32, 64, 128, 256, 512, 1024, 2048, 4096], 'quantizeNf4: blockSize');
  const { codes, absmax } = quantizeBlockwise(w.data, NF4_CODE, blockSize);
  const packed = packNibblesHighFirst(codes);
  if (!(opts.doubleQuant ?? true)) return makeNf4(shape, blockSize, packed, absmax, null);
  return makeNf4(shape, blockSize, packed, null, doubleQuantize(absmax, opts.nestedBlockSize ?? 256));
}

/** bitsandbytes compress_statistics: offset = mean(absmax); (absmax − offset) 8-bit blockwise with the dynamic map. */
export function doubleQuantize(absmax: Float32Array, blockSize = 256): NestedAbsmax {
  checkChoice(blockSize, [64, 128, 256, 512, 1024, 2048, 4096], 'doubleQuantize: blockSize');
  let sum = 0;
  for (const a of absmax) sum += a;
  const offset = f32(sum / absmax.length);
  const centred = absmax.map((a) => f32(a - offset));
  const code = dynamicMap();
  const q = quantizeBlockwise(centred, code, blockSize);
  return { codes: q.codes, absmax: q.absmax, code: Float32Array.from(code), offset, blockSize };
}

/** Dequantized nested absmax: code[q] · absmax2 + offset (float32, as bitsandbytes). */
export function dequantizeNested(n: NestedAbsmax): Float32Array {
  const d = dequantizeBlockwise(n.codes, n.absmax, n.code, n.blockSize);
  return d.map((v) => f32(v + n.offset));
}

/** An Nf4Weight from stored parts (checkpoint loading); the parts are checked for consistency. */
export function makeNf4(shape: [number, number], blockSize: number, packed: Uint8Array, absmax: Float32Array | null, nested: NestedAbsmax | null): Nf4Weight {
  const n = shape[0] * shape[1];
  const nBlocks = Math.ceil(n / blockSize);
  if (packed.length !== Math.ceil(n / 2)) throw new QuantError('INVALID_ARGUMENT', `NF4: ${packed.length} packed bytes for ${n} values (expected ${Math.ceil(n / 2)}).`);
  if ((absmax === null) === (nested === null)) throw new QuantError('INVALID_ARGUMENT', 'NF4: give exactly one of absmax and nested absmax.');
  if (absmax && absmax.length !== nBlocks) throw new QuantError('INVALID_ARGUMENT', `NF4: ${absmax.length} absmax values for ${nBlocks} blocks.`);
  if (nested) {
    if (nested.codes.length !== nBlocks) throw new QuantError('INVALID_ARGUMENT', `NF4: ${nested.codes.length} nested absmax codes for ${nBlocks} blocks.`);
    if (nested.absmax.length !== Math.ceil(nBlocks / nested.blockSize)) throw new QuantError('INVALID_ARGUMENT', `NF4: ${nested.absmax.length} nested block scales for ${Math.ceil(nBlocks / nested.blockSize)} nested blocks.`);
    if (nested.code.length !== 256) throw new QuantError('INVALID_ARGUMENT', `NF4: the nested code has ${nested.code.length} values, not 256.`);
  }
  const absmaxValues = () => (absmax ? Float32Array.from(absmax) : dequantizeNested(nested!));
  return {
    scheme: 'nf4',
    shape,
    blockSize,
    packed,
    absmax,
    nested,
    absmaxValues,
    dequantize: () => dequantizeBlockwise(unpackNibblesHighFirst(packed, n), absmaxValues(), NF4_CODE, blockSize),
    byteSize: () => packed.length + (absmax ? absmax.length * 4 : nested!.codes.length + nested!.absmax.length * 4 + nested!.code.length * 4 + 4),
  };
}
