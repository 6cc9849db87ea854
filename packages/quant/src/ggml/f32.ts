/**
 * F32 (ggml type 0): little-endian IEEE float32, 4 bytes per element, no blocks.
 *
 *   quantizeF32(Float32Array.of(1))   // → bytes 00 00 80 3f
 */

/** Little-endian float32 bytes of `x`. */
export function quantizeF32(x: Float32Array): Uint8Array {
  const out = new Uint8Array(x.length * 4);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < x.length; i++) dv.setFloat32(i * 4, x[i] as number, true);
  return out;
}

/** `n` floats from little-endian float32 `bytes` (length checked by the caller). */
export function dequantizeF32(bytes: Uint8Array, n: number): Float32Array {
  const out = new Float32Array(n);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < n; i++) out[i] = dv.getFloat32(i * 4, true);
  return out;
}
