/**
 * Import a GGUF (gpt2 or llama architecture; F32/F16/Q8_0/Q4_0/Q4_1 tensors, dequantized to
 * float32) as our model and tokenizer.
 *
 *   const { model, tokenizer } = await importGguf('model.gguf');
 *   await model.save('out/ckpt');                         // an HF checkpoint directory
 */
import { resolveConfig, TransformerLM, type ModelConfig, type ModelConfigInput } from '@llm/transformer';
import { tf } from '@llm/tensor-gpu';
import { Tokenizer } from '@llm/tokenizer-bpe';
import { QuantError } from '../errors.js';
import { decodeTensor } from './codec.js';
import type { GgufValue } from './format.js';
import { readGguf, tensorData, type GgufFile, type ReadGgufOptions } from './reader.js';
import { tokenizerFromMetadata } from './tokenizer-meta.js';
import { fromGgufLayout, hfShape, tensorMappings } from './tensors.js';

export interface ImportedGguf {
  model: TransformerLM;
  /** null when the file has no tokenizer metadata (an ids-only export). */
  tokenizer: Tokenizer | null;
  /** The chat template the file carries, if any. */
  chatTemplate: string | null;
}

const invalid = (msg: string) => new QuantError('GGUF_INVALID', `GGUF: ${msg}`);

function num(meta: Map<string, GgufValue>, key: string, dflt?: number): number {
  const v = meta.get(key);
  if (!v) {
    if (dflt !== undefined) return dflt;
    throw invalid(`required key ${key} is missing`);
  }
  if (v.type === 9 || v.type === 8 || v.type === 7) throw invalid(`${key} must be a number`);
  const n = Number(v.value);
  if (!Number.isFinite(n)) throw invalid(`${key} is not finite`);
  return n;
}

/** The ModelConfig a GGUF's keys and tensors describe. */
export function configFromGguf(g: GgufFile): ModelConfig {
  const meta = g.metadata;
  const archV = meta.get('general.architecture');
  if (!archV || archV.type !== 8) throw invalid('general.architecture is missing');
  const arch = archV.value;
  if (arch !== 'gpt2' && arch !== 'llama') throw new QuantError('GGUF_UNSUPPORTED', `GGUF: architecture "${arch}" is not supported (gpt2, llama)`);
  const emb = g.tensors.find((t) => t.name === 'token_embd.weight');
  if (!emb || emb.shape.length !== 2) throw invalid('token_embd.weight is missing or not 2-D');
  const tied = !g.tensors.some((t) => t.name === 'output.weight');
  const nEmbd = num(meta, `${arch}.embedding_length`);
  const nHead = num(meta, `${arch}.attention.head_count`);
  const id = (k: string): number | null => (meta.has(k) ? num(meta, k) : null);
  const common = {
    vocabSize: emb.shape[0]!,
    nLayer: num(meta, `${arch}.block_count`),
    nHead,
    nEmbd,
    blockSize: num(meta, `${arch}.context_length`),
    intermediateSize: num(meta, `${arch}.feed_forward_length`),
    tieWordEmbeddings: tied,
    dropout: 0,
    attnDropout: 0,
    bosTokenId: id('tokenizer.ggml.bos_token_id'),
    eosTokenId: id('tokenizer.ggml.eos_token_id'),
    padTokenId: id('tokenizer.ggml.padding_token_id'),
  };
  let input: ModelConfigInput;
  if (arch === 'gpt2') {
    input = { ...common, family: 'gpt2', normEps: num(meta, 'gpt2.attention.layer_norm_epsilon', 1e-5), activation: 'gelu_tanh', bias: true };
  } else {
    const headDim = num(meta, 'llama.attention.key_length', nEmbd / nHead);
    if (num(meta, 'llama.rope.dimension_count', headDim) !== headDim) throw new QuantError('GGUF_UNSUPPORTED', 'GGUF: partial RoPE (rope.dimension_count ≠ head dim) is not supported');
    input = {
      ...common,
      family: 'llama',
      nKvHead: num(meta, 'llama.attention.head_count_kv', nHead),
      headDim,
      normEps: num(meta, 'llama.attention.layer_norm_rms_epsilon', 1e-5),
      ...(meta.has('llama.expert_count') && num(meta, 'llama.expert_count') > 0
        ? { nExperts: num(meta, 'llama.expert_count'), nExpertsPerTok: num(meta, 'llama.expert_used_count', 2) }
        : {}),
      ropeTheta: num(meta, 'llama.rope.freq_base', 10000),
      bias: false,
    };
  }
  try {
    return resolveConfig(input);
  } catch (e) {
    throw invalid(`its architecture keys do not form a valid model: ${(e as Error).message}`);
  }
}

/** Read a GGUF file into our model (float32 weights) and tokenizer. */
export async function importGguf(file: string, opts: ReadGgufOptions = {}): Promise<ImportedGguf> {
  const g = await readGguf(file, opts);
  return importParsedGguf(g);
}

/** importGguf over an already parsed file. */
export function importParsedGguf(g: GgufFile): ImportedGguf {
  const cfg = configFromGguf(g);
  const byName = new Map(g.tensors.map((t) => [t.name, t]));
  const mappings = tensorMappings(cfg);
  const known = new Set(mappings.map((m) => m.gguf));
  const extra = g.tensors.filter((t) => !known.has(t.name) && t.name !== 'rope_freqs.weight');
  if (extra.length) throw new QuantError('GGUF_UNSUPPORTED', `GGUF: tensors this ${cfg.family} model does not use: ${extra.slice(0, 5).map((t) => t.name).join(', ')}`);
  const weights = new Map<string, tf.Tensor>();
  try {
    for (const m of mappings) {
      const t = byName.get(m.gguf);
      if (!t) throw invalid(`tensor ${m.gguf} is missing`);
      if (t.shape.length !== m.shape.length || t.shape.some((d, i) => d !== m.shape[i])) throw invalid(`tensor ${m.gguf} has shape [${t.shape.join(', ')}], the config implies [${m.shape.join(', ')}]`);
      const n = m.shape.reduce((a, b) => a * b, 1);
      const x = fromGgufLayout(m, cfg, decodeTensor(t.type, tensorData(g, t), n));
      if (m.parts) {
        const per = n / m.parts.length;
        m.parts.forEach((name, e) => weights.set(name, tf.tensor(x.slice(e * per, (e + 1) * per), m.shape.slice(1))));
      } else weights.set(m.hf, tf.tensor(x, hfShape(m)));
    }
    const def = tokenizerFromMetadata(g.metadata);
    if (def) {
      let maxId = -1;
      for (const id of def.ranks.values()) maxId = Math.max(maxId, id);
      for (const id of def.specialTokens.values()) maxId = Math.max(maxId, id);
      if (maxId >= cfg.vocabSize) throw invalid(`the tokenizer has ids up to ${maxId}, but token_embd.weight has only ${cfg.vocabSize} rows`);
    }
    const model = new TransformerLM(cfg, weights);
    const ct = g.metadata.get('tokenizer.chat_template');
    return { model, tokenizer: def ? new Tokenizer(def) : null, chatTemplate: ct && ct.type === 8 ? ct.value : null };
  } finally {
    tf.dispose([...weights.values()]);
  }
}
