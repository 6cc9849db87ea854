/**
 * F16 (ggml type 1): little-endian IEEE half, 2 bytes per element, no blocks; float32 → half
 * rounds to nearest, ties to even (GGML_FP32_TO_FP16).
 *
 *   quantizeF16(Float32Array.of(1.5)) // → bytes 00 3e
 */
import { float16BitsToFloat32, float32ToFloat16Bits } from '@llm/tensor-gpu';

/** Little-endian fp16 bytes of `x`. */
export function quantizeF16(x: Float32Array): Uint8Array {
  const bits = float32ToFloat16Bits(x);
  const out = new Uint8Array(x.length * 2);
  for (let i = 0; i < bits.length; i++) {
    const h = bits[i] as number;
    out[2 * i] = h & 0xff;
    out[2 * i + 1] = h >>> 8;
  }
  return out;
}

/** `n` floats from little-endian fp16 `bytes` (length checked by the caller). */
export function dequantizeF16(bytes: Uint8Array, n: number): Float32Array {
  const bits = new Uint16Array(n);
  for (let i = 0; i < n; i++) bits[i] = (bytes[2 * i] as number) | ((bytes[2 * i + 1] as number) << 8);
  return float16BitsToFloat32(bits);
}
