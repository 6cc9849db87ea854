export { GgufValueType, GGUF_LIMITS, GGML_TYPE_NAMES, gv, type GgufValue, type GgufScalar, type GgufArray, type GgufLimits, type GgufTensorInfo } from './format.js';
export { parseGguf, readGguf, tensorData, type GgufFile, type ReadGgufOptions } from './reader.js';
export { writeGguf, serializeGguf, type GgufWriteInput, type GgufTensorInput } from './writer.js';
export { exportGguf, GGUF_EXPORT_TYPES, type GgufExportType, type ExportGgufOptions, type ModelAndTokenizer } from './export.js';
export { importGguf, importParsedGguf, configFromGguf, type ImportedGguf } from './import.js';
