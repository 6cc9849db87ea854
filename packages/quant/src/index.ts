// ggml block formats (src/ggml): type table, row quantize/dequantize, llama.cpp's Q4_K_M mix.
export { GGML_TYPE, GGML_TYPES, QK_K, ggmlTypeInfo, isSupportedGgmlType, tensorBytes } from './ggml/index.js';
export type { GgmlType, GgmlTypeInfo, GgmlTypeName, Q4kmOptions } from './ggml/index.js';
export { quantizeRow, dequantizeRow, q4kmTypeFor, useMoreBits } from './ggml/index.js';
// GGUF read/write, model export/import (src/gguf).
export { GgufValueType, GGUF_LIMITS, GGML_TYPE_NAMES, gv, parseGguf, readGguf, tensorData, writeGguf, serializeGguf } from './gguf/index.js';
export { exportGguf, GGUF_EXPORT_TYPES, importGguf, importParsedGguf, configFromGguf } from './gguf/index.js';
export type { GgufValue, GgufScalar, GgufArray, GgufLimits, GgufTensorInfo, GgufFile, ReadGgufOptions, GgufWriteInput, GgufTensorInput } from './gguf/index.js';
export type { GgufExportType, ExportGgufOptions, ModelAndTokenizer, ImportedGguf } from './gguf/index.js';
// Weight-only quantizers (src/quantizers), quantized linear modules and quantizeModel (src/modules),
// quantized checkpoints (src/checkpoint).
export { INV_127, quantizeInt8, makeInt8, quantizeInt4, makeInt4, packInt4, unpackInt4, dequantizeInt4, quantizeNf4, makeNf4, doubleQuantize, dequantizeNested, dynamicMap, quantizeBlockwise, dequantizeBlockwise, NF4_CODE, roundHalfEven } from './quantizers/index.js';
export type { WeightMatrix, Int8Weight, Int8Options, Int4Weight, Int4Options, Nf4Weight, Nf4Options, NestedAbsmax, QuantizedWeight } from './quantizers/index.js';
export { QuantizedLinear, Int8Linear, Int4Linear, Nf4Linear, quantizedLinear } from './modules/quantized-linear.js';
export { quantizeModel, quantizeWeight, quantizationReport, linearWeight, activationAbsMax, skipPredicate, QUANT_SCHEMES } from './modules/quantize-model.js';
export type { QuantScheme, QuantizeOptions, QuantizeReport, LayerReport } from './modules/quantize-model.js';
export { saveQuantizedModel, loadQuantizedModel, quantizationConfig, QUANT_FORMAT, QUANT_FORMAT_VERSION } from './checkpoint/quantized-checkpoint.js';
export type { SaveQuantizedOptions } from './checkpoint/quantized-checkpoint.js';
// GPTQ (src/gptq) and AWQ (src/awq): calibrated 4-bit quantization, HF/AutoGPTQ packed layout and checkpoints.
export { gptqQuantize, HessianAccumulator, choleskyLower, choleskyInverse, inverseCholeskyUpper } from './gptq/gptq.js';
export type { GptqOptions, GptqResult } from './gptq/gptq.js';
export { rtnQuantize, dequantize as dequantizeGroups, findParams as gptqFindParams } from './gptq/quantizer.js';
export type { QuantizedWeight as GroupQuantizedWeight, GroupParams } from './gptq/quantizer.js';
export { packGptq, unpackCodes as unpackGptqCodes, unpackZeros as unpackGptqZeros, dequantizePacked as dequantizeGptq } from './gptq/pack.js';
export type { PackedGptq } from './gptq/pack.js';
export { GptqLinear } from './gptq/module.js';
export { calibrationSequences, sequentialGroups, captureInputs } from './gptq/calibrate.js';
export type { CalibrationOptions, LinearGroup, GroupKind } from './gptq/calibrate.js';
export { gptqQuantizeModel } from './gptq/model.js';
export type { GptqModelOptions, GptqQuantizationConfig, GptqReport } from './gptq/model.js';
export { saveGptqCheckpoint, loadGptqCheckpoint } from './gptq/checkpoint.js';
export { awqQuantizeModel, awqSearch, awqScales, awqQuantizeScaled, awqEffectiveWeight, int4Groups, awqClipSearch, awqClipSkipped, AWQ_CLIP_SKIP } from './awq/awq.js';
export type { AwqModelOptions, AwqReport, AwqGroupResult, AwqClipResult } from './awq/awq.js';
