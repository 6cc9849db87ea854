/**
 * IEEE half <-> float conversions used inside ggml blocks (GGML_FP32_TO_FP16 rounds to nearest,
 * ties to even; GGML_FP16_TO_FP32 is exact), plus the float32 arithmetic helpers ggml's C code
 * relies on implicitly.
 *
 *   halfBits(1.5)          // → 0x3e00
 *   halfValue(0x3e00)      // → 1.5
 *   roundToHalf(0.1)       // → 0.0999755859375
 */
import { float16BitsToFloat32, float32ToFloat16Bits } from '@llm/tensor-gpu';

const one = new Float32Array(1);

/** fp16 bits of the float32 nearest `x` (ties to even). */
export function halfBits(x: number): number {
  one[0] = x;
  return float32ToFloat16Bits(one)[0] as number;
}

/** The float value of fp16 bits `h`. */
export function halfValue(h: number): number {
  return float16BitsToFloat32(Uint16Array.of(h))[0] as number;
}

/** `x` rounded through fp16 and back, as `GGML_FP16_TO_FP32(GGML_FP32_TO_FP16(x))`. */
export function roundToHalf(x: number): number {
  return halfValue(halfBits(x));
}

/** C float arithmetic: every intermediate of ggml's float code is rounded to float32. */
export const f32 = Math.fround;

/**
 * ggml's `nearest_int(float)`: round to nearest, ties to EVEN (it adds 1.5·2^23 in float32 and
 * reads the mantissa). ggml asserts |x| ≤ 4194303.
 *
 *   nearestInt(2.5) // → 2     nearestInt(3.5) // → 4     nearestInt(-0.5) // → -0 (0)
 */
export function nearestInt(x: number): number {
  return Math.fround(x + 12582912) - 12582912;
}

/** C's `roundf`: round to nearest, ties AWAY from zero. */
export function roundf(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

/**
 * Stores `x` as fp16 at out[at], little-endian (every block's d / m / dmin field).
 *
 *   writeHalf(out, 0, 1.5)   // out[0] = 0x00, out[1] = 0x3e
 */
export function writeHalf(out: Uint8Array, at: number, x: number): void {
  const h = halfBits(x);
  out[at] = h & 0xff;
  out[at + 1] = h >>> 8;
}

/**
 * The value of largest magnitude among x[start, start + n) — the first one on ties, sign kept —
 * as ggml's Q4_0 / Q5_0 reference quantizers pick it.
 *
 *   signedAbsMax(Float32Array.of(1, -3, 3), 0, 3)   // -3
 */
export function signedAbsMax(x: Float32Array, start: number, n: number): number {
  let amax = 0;
  let max = 0;
  for (let j = start; j < start + n; j++) {
    const v = x[j] as number;
    if (amax < Math.abs(v)) {
      amax = Math.abs(v);
      max = v;
    }
  }
  return max;
}
