import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as api from './index.js';

// The public surface: each part of the package lists the names it exports here.
describe('@llm/quant public surface', () => {
  it('exports the ggml block formats', () => {
    expect(Object.keys(api)).toEqual(
      expect.arrayContaining([
        'GGML_TYPE',
        'GGML_TYPES',
        'QK_K',
        'ggmlTypeInfo',
        'isSupportedGgmlType',
        'tensorBytes',
        'quantizeRow',
        'dequantizeRow',
        'q4kmTypeFor',
        'useMoreBits',
      ]),
    );
  });
  it('exports GGUF read/write and model export/import', () => {
    expect(Object.keys(api)).toEqual(
      expect.arrayContaining(['GgufValueType', 'GGUF_LIMITS', 'GGML_TYPE_NAMES', 'gv', 'parseGguf', 'readGguf', 'tensorData', 'writeGguf', 'serializeGguf', 'exportGguf', 'GGUF_EXPORT_TYPES', 'importGguf', 'importParsedGguf', 'configFromGguf']),
    );
  });
  it('exports the weight-only quantizers, quantized linears and quantized checkpoints', () => {
    expect(Object.keys(api)).toEqual(
      expect.arrayContaining([
        'INV_127', 'quantizeInt8', 'makeInt8', 'quantizeInt4', 'makeInt4', 'packInt4', 'unpackInt4', 'dequantizeInt4', 'quantizeNf4', 'makeNf4', 'doubleQuantize', 'dequantizeNested', 'dynamicMap', 'quantizeBlockwise', 'dequantizeBlockwise', 'NF4_CODE', 'roundHalfEven',
        'QuantizedLinear', 'Int8Linear', 'Int4Linear', 'Nf4Linear', 'quantizedLinear',
        'quantizeModel', 'quantizeWeight', 'quantizationReport', 'linearWeight', 'activationAbsMax', 'skipPredicate', 'QUANT_SCHEMES',
        'saveQuantizedModel', 'loadQuantizedModel', 'quantizationConfig', 'QUANT_FORMAT', 'QUANT_FORMAT_VERSION',
      ]),
    );
  });
  it('documents the weight-only schemes in its README', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    expect(readme).toMatch(/## Weight-only quantization/);
  });
  it('documents GGUF in its README', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    expect(readme).toMatch(/## GGUF/);
  });
  it('documents the block formats in its README', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    expect(readme).toMatch(/## ggml block formats/);
  });
  it('exports GPTQ and AWQ', () => {
    expect(Object.keys(api)).toEqual(
      expect.arrayContaining([
        'gptqQuantize', 'HessianAccumulator', 'choleskyLower', 'choleskyInverse', 'inverseCholeskyUpper', 'rtnQuantize', 'dequantizeGroups', 'gptqFindParams',
        'packGptq', 'unpackGptqCodes', 'unpackGptqZeros', 'dequantizeGptq', 'GptqLinear', 'calibrationSequences', 'sequentialGroups', 'captureInputs',
        'gptqQuantizeModel', 'saveGptqCheckpoint', 'loadGptqCheckpoint',
        'awqQuantizeModel', 'awqSearch', 'awqScales', 'awqQuantizeScaled', 'awqEffectiveWeight', 'int4Groups', 'awqClipSearch', 'awqClipSkipped', 'AWQ_CLIP_SKIP',
      ]),
    );
  });
  it('documents GPTQ and AWQ in its README', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    expect(readme).toMatch(/## GPTQ and AWQ/);
  });
});
