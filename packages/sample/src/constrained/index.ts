/**
 * Constrained decoding: regex and JSON-schema constraints that mask tokens so the generated text
 * always matches. Re-export from the package's src/index.ts.
 *
 *   const vocab = indexVocab(vocabFromTokenizer(tok));
 *   const c = jsonSchemaConstraint({ type: 'array', items: { type: 'integer' } }, vocab, { eosIds: [eos] });
 */
export { regexConstraint, type RegexState, type RegexConstraintOptions } from './regex-constraint.js';
export {
  jsonSchemaConstraint,
  schemaToRegex,
  type JsonSchemaOptions,
  type JsonSchemaConstraintOptions,
} from './json-schema.js';
export type { JsonWhitespace } from './json-regex.js';
export { vocabFromTokenizer, type TokenizerBytes } from './vocab.js';
export { indexVocab, VocabIndex } from './vocab-index.js';
