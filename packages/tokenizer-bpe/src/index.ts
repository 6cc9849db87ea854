// @llm/tokenizer-bpe — byte-level BPE: encode/decode with tiktoken parity, training, file formats.
export { TokenizerError, type TokenizerErrorCode } from './errors.js';
export { bytesToBinary, binaryToBytes, type TokenizerDefinition } from './definition.js';
export { Tokenizer, type TokenizerOptions, type EncodeOptions, type StreamingDecoder } from './encoder.js';
export { getEncoding, getEncodingDefinition, ENCODING_NAMES, type EncodingName } from './encodings.js';
export { GPT2_PATTERN, CL100K_PATTERN, O200K_PATTERN, compilePattern } from './patterns.js';
export { translateTiktokenPattern } from './pattern-translate.js';
export {
  parseTiktokenFile,
  serializeTiktokenFile,
  loadTiktokenFile,
  saveTiktokenFile,
  parseTiktokenJson,
  type TiktokenFileOptions,
} from './formats/tiktoken.js';
export {
  trainBpe,
  trainBpeSync,
  trainBpeWithMerges,
  type TrainOptions,
  type TrainProgress,
  type TrainResult,
} from './train/train.js';
export { toHfTokenizerJson, fromHfTokenizerJson, type HfTokenizerJson, type HfAddedToken } from './formats/hf-json.js';
export { toCompactJson, fromCompactJson, stringifyCompactJson, type CompactTokenizerJson } from './formats/minbpe-json.js';
export {
  saveTokenizer,
  loadTokenizer,
  parseTokenizerFile,
  serializeTokenizer,
  sniffTokenizerFormat,
  TOKENIZER_FILE_FORMATS,
  type TokenizerFileFormat,
  type LoadTokenizerOptions,
} from './formats/save-load.js';
