// @llm/tokenizer-bpe — byte-level BPE: encode/decode with tiktoken parity, training, file formats.
export { TokenizerError, type TokenizerErrorCode } from './errors.js';
export { bytesToBinary, binaryToBytes, type TokenizerDefinition } from './definition.js';
export { Tokenizer, type TokenizerOptions, type EncodeOptions, type StreamingDecoder } from './encoder.js';
export { getEncoding, getEncodingDefinition, ENCODING_NAMES, type EncodingName } from './encodings.js';
export { GPT2_PATTERN, CL100K_PATTERN, O200K_PATTERN, compilePattern } from './patterns.js';
export { SafePattern, compileSafePattern } from './pattern/safe-pattern.js';
export { TOKENIZER_LIMITS, resolveLimits, type TokenizerLimits } from './limits.js';
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
export { trainBpeReference } from './train/reference.js';
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
/**
 * Chat templates: a conversation → the string a chat model reads, as HF's
 * `apply_chat_template(messages, tokenize=False)` renders it (ChatML built in; HF Jinja templates
 * through @huggingface/jinja; loaded from a checkpoint as HF does — `chat_template.jinja` wins over
 * `tokenizer_config.json`'s `chat_template`).
 *
 *   const messages = [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi!' }];
 *   applyChatTemplate(messages, { template: 'chatml', addGenerationPrompt: true });
 *   // → '<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi!<|im_end|>\n<|im_start|>assistant\n'
 *
 *   const zephyr = await loadChatTemplate('models/zephyr');   // a checkpoint directory
 *   applyChatTemplate(messages, { template: zephyr, addGenerationPrompt: true });
 *   // → '<|system|>\nBe brief.</s>\n<|user|>\nHi!</s>\n<|assistant|>\n'
 *
 *   renderChatSegments(messages, { template: 'chatml' });      // markup vs content, for safe encoding
 *   // → [{ text: '<|im_start|>system\n', source: 'template' }, { text: 'Be brief.', source: 'content', message: 0 }, …]
 *   encodeChat(tok, messages, { template: 'chatml' });          // ids: specials only from the template's markup
 */
export { applyChatTemplate } from './chat/apply.js';
export { renderChatSegments } from './chat/segments.js';
export { encodeChat } from './chat/encode.js';
export { chatmlTemplate, CHATML_TEMPLATE, CHATML_SPECIAL_TOKENS } from './chat/chatml.js';
export { jinjaChatTemplate, type JinjaChatTemplateOptions } from './chat/template.js';
export { loadChatTemplate, type LoadChatTemplateOptions } from './chat/load.js';
export type { ChatMessage, ChatTemplate, ChatTool, ChatSegment, ApplyChatTemplateOptions } from './chat/types.js';
