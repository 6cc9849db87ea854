/**
 * Tokenizer ⇄ GGUF metadata (llama.cpp's "gpt2" BPE vocab, src/llama-vocab.cpp):
 * tokenizer.ggml.model = "gpt2", .pre (pre-tokenizer name: "gpt-2", "llama-bpe" = cl100k's regex,
 * "gpt-4o" = o200k's), .tokens (GPT-2 byte-to-unicode strings, by id), .token_type (1 normal,
 * 3 control, 5 unused), .merges ("a b", by rank), bos/eos/pad ids, add_bos_token, chat_template.
 */
import {
  CL100K_PATTERN,
  GPT2_PATTERN,
  O200K_PATTERN,
  fromHfTokenizerJson,
  toHfTokenizerJson,
  type TokenizerDefinition,
} from '@llm/tokenizer-bpe';
import { QuantError } from '../errors.js';
import { gv, type GgufValue } from './format.js';

export const TOKEN_TYPE = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, USER_DEFINED: 4, UNUSED: 5, BYTE: 6 } as const;

const PRE_BY_PATTERN = new Map<string, string>([
  [GPT2_PATTERN, 'gpt-2'],
  [CL100K_PATTERN, 'llama-bpe'],
  [O200K_PATTERN, 'gpt-4o'],
]);
const PATTERN_BY_PRE = new Map<string, string>([
  ['gpt-2', GPT2_PATTERN],
  ['default', GPT2_PATTERN],
  ['llama-bpe', CL100K_PATTERN],
  ['llama3', CL100K_PATTERN],
  ['gpt-4o', O200K_PATTERN],
]);

export interface TokenizerMetaOptions {
  /** Rows of the model's embedding: the token list is padded with unused "[PAD{i}]" tokens up to it. */
  vocabSize: number;
  bosTokenId: number | null;
  eosTokenId: number | null;
  padTokenId: number | null;
  chatTemplate?: string;
}

/** The tokenizer.* keys for a byte-level BPE tokenizer. */
export function tokenizerMetadata(def: TokenizerDefinition, opts: TokenizerMetaOptions): Map<string, GgufValue> {
  const pre = PRE_BY_PATTERN.get(def.pattern);
  if (!pre) {
    throw new QuantError('UNSUPPORTED', `export-gguf: the tokenizer's pre-tokenization pattern is not one llama.cpp knows (GPT-2, cl100k or o200k); llama.cpp would split text differently. Export with --ids-only to leave the tokenizer out.`);
  }
  const hf = toHfTokenizerJson(def);
  const n = Math.max(opts.vocabSize, ...Object.values(hf.model.vocab).map((i) => i + 1), ...[...def.specialTokens.values()].map((i) => i + 1));
  if (n > opts.vocabSize) throw new QuantError('UNSUPPORTED', `export-gguf: the tokenizer has ids up to ${n - 1} but the model's vocabulary has ${opts.vocabSize} rows`);
  const tokens: string[] = new Array(n);
  const types: number[] = new Array(n).fill(TOKEN_TYPE.UNUSED);
  for (const [s, id] of Object.entries(hf.model.vocab)) {
    tokens[id] = s;
    types[id] = TOKEN_TYPE.NORMAL;
  }
  for (const [s, id] of def.specialTokens) {
    tokens[id] = s;
    types[id] = TOKEN_TYPE.CONTROL;
  }
  for (let i = 0; i < n; i++) if (tokens[i] === undefined) tokens[i] = `[PAD${i}]`;
  const m = new Map<string, GgufValue>([
    ['tokenizer.ggml.model', gv.str('gpt2')],
    ['tokenizer.ggml.pre', gv.str(pre)],
    ['tokenizer.ggml.tokens', gv.strs(tokens)],
    ['tokenizer.ggml.token_type', gv.i32s(types)],
    ['tokenizer.ggml.merges', gv.strs(hf.model.merges)],
  ]);
  if (opts.bosTokenId !== null) m.set('tokenizer.ggml.bos_token_id', gv.u32(opts.bosTokenId));
  if (opts.eosTokenId !== null) m.set('tokenizer.ggml.eos_token_id', gv.u32(opts.eosTokenId));
  if (opts.padTokenId !== null) m.set('tokenizer.ggml.padding_token_id', gv.u32(opts.padTokenId));
  m.set('tokenizer.ggml.add_bos_token', gv.bool(false));
  m.set('tokenizer.ggml.add_eos_token', gv.bool(false));
  if (opts.chatTemplate !== undefined) m.set('tokenizer.chat_template', gv.str(opts.chatTemplate));
  return m;
}

const strArray = (meta: Map<string, GgufValue>, key: string): string[] | undefined => {
  const v = meta.get(key);
  if (!v) return undefined;
  if (v.type !== 9 || v.itemType !== 8) throw new QuantError('GGUF_INVALID', `GGUF: ${key} must be an array of strings`);
  return v.value as string[];
};

/** The tokenizer a GGUF's tokenizer.* keys describe, or null when it has none. */
export function tokenizerFromMetadata(meta: Map<string, GgufValue>): TokenizerDefinition | null {
  const model = meta.get('tokenizer.ggml.model');
  if (!model) return null;
  if (model.type !== 8 || model.value !== 'gpt2') throw new QuantError('GGUF_UNSUPPORTED', `GGUF: tokenizer.ggml.model ${JSON.stringify(String(model.value))} is not supported (only "gpt2" byte-level BPE)`);
  const preV = meta.get('tokenizer.ggml.pre');
  const pre = preV && preV.type === 8 ? preV.value : 'default';
  const pattern = PATTERN_BY_PRE.get(pre);
  if (!pattern) throw new QuantError('GGUF_UNSUPPORTED', `GGUF: tokenizer.ggml.pre "${pre}" is not supported (gpt-2, llama-bpe, gpt-4o)`);
  const tokens = strArray(meta, 'tokenizer.ggml.tokens');
  const merges = strArray(meta, 'tokenizer.ggml.merges') ?? [];
  if (!tokens) throw new QuantError('GGUF_INVALID', 'GGUF: tokenizer.ggml.tokens is missing');
  const tt = meta.get('tokenizer.ggml.token_type');
  let types: number[] | null = null;
  if (tt) {
    if (tt.type !== 9 || tt.itemType !== 5 || tt.value.length !== tokens.length) throw new QuantError('GGUF_INVALID', 'GGUF: tokenizer.ggml.token_type must be an i32 array as long as tokenizer.ggml.tokens');
    types = tt.value as number[];
  }
  const vocab: Record<string, number> = Object.create(null) as Record<string, number>;
  const added: Array<{ id: number; content: string; single_word: boolean; lstrip: boolean; rstrip: boolean; normalized: boolean; special: boolean }> = [];
  tokens.forEach((s, id) => {
    const t = types ? types[id] : TOKEN_TYPE.NORMAL;
    if (t === TOKEN_TYPE.UNUSED) return;
    if (t === TOKEN_TYPE.CONTROL || t === TOKEN_TYPE.USER_DEFINED) added.push({ id, content: s, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
    else vocab[s] = id;
  });
  const json = {
    version: '1.0',
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, ignore_merges: true, vocab, merges },
  };
  let def: TokenizerDefinition;
  try {
    def = fromHfTokenizerJson(json, { name: 'gguf' });
  } catch (e) {
    throw new QuantError('GGUF_INVALID', `GGUF: the tokenizer metadata does not form a byte-level BPE tokenizer: ${(e as Error).message}`, { cause: e });
  }
  return { ...def, pattern };
}
