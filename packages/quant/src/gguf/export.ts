/**
 * Export a model (+ tokenizer) to a GGUF llama.cpp runs.
 *
 *   await exportGguf('out/ckpt', 'model.gguf', { type: 'f16' });            // a checkpoint directory
 *   await exportGguf({ model, tokenizer }, 'model.gguf', { type: 'q8_0' });  // objects in memory
 *
 * Keys follow llama.cpp (gguf-py/gguf/constants.py Keys; src/llama-arch.cpp): general.architecture,
 * general.name, general.file_type, {arch}.context_length, .embedding_length, .block_count,
 * .feed_forward_length, .attention.head_count(_kv), .attention.layer_norm(_rms)_epsilon,
 * .rope.dimension_count, .rope.freq_base, .vocab_size; tokenizer.* from tokenizer-meta.ts.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { loadModel, type ModelConfig, type TransformerLM } from '@llm/transformer';
import { Tokenizer, loadTokenizer, type TokenizerDefinition } from '@llm/tokenizer-bpe';
import { QuantError } from '../errors.js';
import { q4kmTypeFor } from '../ggml/index.js';
import { encodeTensor } from './codec.js';
import { gv, type GgufValue } from './format.js';
import { tokenizerMetadata } from './tokenizer-meta.js';
import { tensorMappings, toGgufLayout } from './tensors.js';
import { writeGguf, type GgufTensorInput } from './writer.js';

export const GGUF_EXPORT_TYPES = ['f32', 'f16', 'q8_0', 'q4_0', 'q4_1', 'q4_k_m'] as const;
export type GgufExportType = (typeof GGUF_EXPORT_TYPES)[number];

/** llama.cpp's LLAMA_FTYPE_* (general.file_type) and the ggml type of the big matrices. */
const FTYPE: Record<GgufExportType, { ftype: number; type: number }> = {
  f32: { ftype: 0, type: 0 },
  f16: { ftype: 1, type: 1 },
  q4_0: { ftype: 2, type: 2 },
  q4_1: { ftype: 3, type: 3 },
  q8_0: { ftype: 7, type: 8 },
  q4_k_m: { ftype: 15, type: 12 },
};

export interface ExportGgufOptions {
  /** Tensor type of the weight matrices (norms, biases and position embeddings stay F32). Default f32. */
  type?: GgufExportType;
  /** Write no tokenizer metadata (only ids can be used with the file). */
  idsOnly?: boolean;
  /** general.name (default the directory name or "llm-ts"). */
  name?: string;
  /** tokenizer.chat_template (default: the directory's chat_template.jinja / tokenizer_config.json). */
  chatTemplate?: string;
}

export interface ModelAndTokenizer {
  model: TransformerLM;
  tokenizer?: Tokenizer | TokenizerDefinition | null;
}

const first = (v: number | readonly number[] | null): number | null => (v === null ? null : typeof v === 'number' ? v : (v[0] ?? null));

async function isFile(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}

async function chatTemplateOf(dir: string): Promise<string | undefined> {
  if (await isFile(join(dir, 'chat_template.jinja'))) return readFile(join(dir, 'chat_template.jinja'), 'utf8');
  if (await isFile(join(dir, 'tokenizer_config.json'))) {
    try {
      const j = JSON.parse(await readFile(join(dir, 'tokenizer_config.json'), 'utf8')) as { chat_template?: unknown };
      if (typeof j.chat_template === 'string') return j.chat_template;
    } catch {
      /* a broken tokenizer_config.json carries no template */
    }
  }
  return undefined;
}

/** The general.* and architecture keys for a config. */
export function modelMetadata(cfg: ModelConfig, name: string, ftype: number): Map<string, GgufValue> {
  const a = cfg.family;
  const m = new Map<string, GgufValue>([
    ['general.architecture', gv.str(a)],
    ['general.name', gv.str(name)],
    ['general.file_type', gv.u32(ftype)],
    ['general.quantization_version', gv.u32(2)],
    ['general.alignment', gv.u32(32)],
    [`${a}.vocab_size`, gv.u32(cfg.vocabSize)],
    [`${a}.context_length`, gv.u32(cfg.blockSize)],
    [`${a}.embedding_length`, gv.u32(cfg.nEmbd)],
    [`${a}.block_count`, gv.u32(cfg.nLayer)],
    [`${a}.feed_forward_length`, gv.u32(cfg.intermediateSize)],
    [`${a}.attention.head_count`, gv.u32(cfg.nHead)],
  ]);
  if (a === 'gpt2') {
    if (cfg.activation !== 'gelu_tanh') throw new QuantError('UNSUPPORTED', `export-gguf: llama.cpp's gpt2 uses the tanh GELU; this model uses "${cfg.activation}"`);
    m.set('gpt2.attention.layer_norm_epsilon', gv.f32(cfg.normEps));
  } else {
    m.set('llama.attention.head_count_kv', gv.u32(cfg.nKvHead));
    m.set('llama.attention.layer_norm_rms_epsilon', gv.f32(cfg.normEps));
    m.set('llama.rope.dimension_count', gv.u32(cfg.headDim));
    m.set('llama.rope.freq_base', gv.f32(cfg.ropeTheta));
    m.set('llama.attention.key_length', gv.u32(cfg.headDim));
    m.set('llama.attention.value_length', gv.u32(cfg.headDim));
    if (cfg.nExperts > 0) {
      m.set('llama.expert_count', gv.u32(cfg.nExperts));
      m.set('llama.expert_used_count', gv.u32(cfg.nExpertsPerTok));
    }
  }
  return m;
}

/**
 * Write `source` (a checkpoint directory, or a model and its tokenizer) as a GGUF at `file`.
 * A source without a tokenizer is an error unless `idsOnly` is set.
 */
export async function exportGguf(source: string | ModelAndTokenizer, file: string, opts: ExportGgufOptions = {}): Promise<void> {
  const type = opts.type ?? 'f32';
  if (!GGUF_EXPORT_TYPES.includes(type)) throw new QuantError('INVALID_ARGUMENT', `export-gguf: --type must be one of ${GGUF_EXPORT_TYPES.join(', ')}, got "${String(type)}"`);
  let model: TransformerLM;
  let def: TokenizerDefinition | null = null;
  let chatTemplate = opts.chatTemplate;
  let name = opts.name;
  let ownModel = false;
  if (typeof source === 'string') {
    const tokPath = join(source, 'tokenizer.json');
    const hasTok = await isFile(tokPath);
    if (!hasTok && !opts.idsOnly) {
      throw new QuantError('INVALID_ARGUMENT', `export-gguf: ${source} has no tokenizer.json, so llama.cpp could not tokenize text for this model. Add the tokenizer, or pass --ids-only to export a file used with token ids only.`);
    }
    model = await loadModel(source);
    ownModel = true;
    if (hasTok && !opts.idsOnly) def = await loadTokenizer(tokPath);
    chatTemplate ??= await chatTemplateOf(source);
    name ??= source.replace(/\/+$/, '').split('/').pop() || 'llm-ts';
  } else {
    model = source.model;
    const t = source.tokenizer;
    if (!t && !opts.idsOnly) throw new QuantError('INVALID_ARGUMENT', 'export-gguf: no tokenizer given; pass one, or set idsOnly to export a file used with token ids only.');
    if (t && !opts.idsOnly) def = t instanceof Tokenizer ? t.definition : t;
  }
  try {
    const cfg = model.config;
    const { ftype, type: ggmlType } = FTYPE[type];
    const metadata = modelMetadata(cfg, name ?? 'llm-ts', ftype);
    if (def) {
      for (const [k, v] of tokenizerMetadata(def, { vocabSize: cfg.vocabSize, bosTokenId: cfg.bosTokenId ?? def.specialTokens.get('<|endoftext|>') ?? null, eosTokenId: first(cfg.eosTokenId) ?? def.specialTokens.get('<|endoftext|>') ?? null, padTokenId: cfg.padTokenId, ...(chatTemplate !== undefined ? { chatTemplate } : {}) })) {
        metadata.set(k, v);
      }
    }
    const params = new Map(model.namedParameters());
    const tensors: GgufTensorInput[] = tensorMappings(cfg).map((m) => {
      const rowLength = m.shape[m.shape.length - 1]!;
      const big = m.shape.length >= 2 && m.gguf !== 'position_embd.weight' && !m.gguf.endsWith('ffn_gate_inp.weight');
      let t = big ? ggmlType : 0;
      if (type === 'q4_k_m') {
        const layer = /^blk\.(\d+)\./.exec(m.gguf);
        t = q4kmTypeFor(m.gguf, layer ? Number(layer[1]) : 0, cfg.nLayer, { ncols: rowLength, nDims: m.shape.length, tiedEmbeddings: cfg.tieWordEmbeddings });
      } else if (big && t !== 0 && t !== 1 && rowLength % 32 !== 0) t = 1; // rows that do not fill blocks: F16, as llama.cpp's converter falls back
      return {
        name: m.gguf,
        shape: m.shape,
        type: t,
        data: () => {
          const v = params.get(m.hf);
          let x: Float32Array;
          if (m.parts) {
            x = new Float32Array(m.shape.reduce((a, b) => a * b, 1));
            const per = x.length / m.parts.length;
            m.parts.forEach((name, e) => {
              const w = params.get(name);
              if (!w) throw new QuantError('UNSUPPORTED', `export-gguf: the model has no plain weight "${name}" (merge adapters or quantized wrappers first)`);
              x.set(w.dataSync() as Float32Array, e * per);
            });
          } else if (v) x = v.dataSync() as Float32Array;
          else if (m.hf.endsWith('.bias') && !cfg.bias) x = new Float32Array(m.shape.reduce((a, b) => a * b, 1)); // gpt2 without biases: zeros, as HF save does
          else throw new QuantError('UNSUPPORTED', `export-gguf: the model has no plain weight "${m.hf}" (merge adapters or quantized wrappers first)`);
          return encodeTensor(t, toGgufLayout(m, cfg, x), rowLength);
        },
      };
    });
    await writeGguf(file, { metadata, tensors });
  } finally {
    if (ownModel) model.dispose();
  }
}
