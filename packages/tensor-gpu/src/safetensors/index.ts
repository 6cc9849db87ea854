/**
 * safetensors for @llm/tensor-gpu, written by hand and byte-compatible with the reference library.
 *
 *   const { tensors, metadata } = await readSafetensors('in.safetensors');
 *   await writeSafetensors('out.safetensors', tensors, metadata);
 */
export {
  DTYPE_INFO,
  isSafetensorsDtype,
  float32ToFloat16Bits,
  float16BitsToFloat32,
  float32ToBfloat16Bits,
  bfloat16BitsToFloat32,
  type SafetensorsDtype,
  type DtypeInfo,
} from './dtypes.js';
export {
  DEFAULT_MAX_HEADER_BYTES,
  parseSafetensors,
  readSafetensors,
  readSafetensorsHeader,
  type RawTensor,
  type SafetensorsEntry,
  type SafetensorsHeader,
  type SafetensorsFile,
  type ParseSafetensorsOptions,
} from './read.js';
export { rawToFloat32, rawToTensor } from './convert.js';
export { serializeSafetensors, writeSafetensors, tensorToRaw, type TensorInput, type TensorsInput } from './write.js';
