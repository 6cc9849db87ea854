/**
 * llama2.c's legacy checkpoint format (Karpathy's run.c `.bin`): a header of seven int32
 * (dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len — a negative vocab_size
 * means the classifier is NOT shared with the embedding), then float32 tensors in run.c's order.
 * run.c applies RoPE to adjacent pairs (x[2i], x[2i+1]); our Llama (as HF's) rotates split halves,
 * so q and k projection rows are permuted as HF's conversion script does.
 *
 *   const model = loadLlama2c(readFileSync('stories260K.bin'));   // TransformerLM, family 'llama'
 *   model.config.nEmbd; // 64
 *
 * Dimension legend: C dim, F hidden_dim, L layers, H heads, K kv heads, D head dim, V vocab, P seq_len.
 */
import { tf } from '@llm/tensor-gpu';
import { TransformerError } from './errors.js';
import { TransformerLM } from './model.js';
import type { ModelConfigInput } from './config.js';
import type { LimitOptions } from './limits.js';

const HEADER_INTS = 7;

/** The header of a llama2.c checkpoint, as our config (RMSNorm eps 1e-5 and RoPE θ 10000, as run.c). */
export function llama2cConfig(bytes: Uint8Array): { config: ModelConfigInput; shared: boolean } {
  if (bytes.byteLength < HEADER_INTS * 4) throw bad(`${bytes.byteLength} bytes is shorter than the 28-byte header`);
  const h = new DataView(bytes.buffer, bytes.byteOffset, HEADER_INTS * 4);
  const [dim, hidden, nLayer, nHead, nKvHead, vocab, seqLen] = Array.from({ length: HEADER_INTS }, (_, i) => h.getInt32(i * 4, true));
  const shared = vocab! > 0;
  const config: ModelConfigInput = {
    family: 'llama', vocabSize: Math.abs(vocab!), nLayer: nLayer!, nHead: nHead!, nKvHead: nKvHead!, nEmbd: dim!,
    intermediateSize: hidden!, blockSize: seqLen!, normEps: 1e-5, ropeTheta: 10000, tieWordEmbeddings: shared,
  };
  for (const [k, v] of Object.entries({ dim, hidden_dim: hidden, n_layers: nLayer, n_heads: nHead, n_kv_heads: nKvHead, seq_len: seqLen, vocab_size: Math.abs(vocab!) })) {
    if (!(v! > 0) || v! > 1 << 24) throw bad(`header field ${k} = ${v} is out of range (not a llama2.c checkpoint?)`);
  }
  return { config, shared };
}

/**
 * Our (HF-named, HF-layout) weights from a llama2.c checkpoint's bytes. Checks the byte count
 * against the header before reading anything.
 */
export function readLlama2c(bytes: Uint8Array): { config: ModelConfigInput; weights: Map<string, { data: Float32Array; shape: number[] }> } {
  const { config, shared } = llama2cConfig(bytes);
  const { nEmbd: C, intermediateSize: F, nLayer: L, nHead: H, nKvHead: K, vocabSize: V, blockSize: P } = config as Required<ModelConfigInput>;
  const D = C / H;
  if (!Number.isInteger(D) || D % 2) throw bad(`dim ${C} / n_heads ${H} is not an even head dim`);
  const sizes = [V * C, L * C, L * C * C, L * K * D * C, L * K * D * C, L * C * C, L * C, L * F * C, L * C * F, L * F * C, C, P * D / 2, P * D / 2, shared ? 0 : V * C];
  const floats = sizes.reduce((a, b) => a + b, 0);
  const need = HEADER_INTS * 4 + floats * 4;
  if (bytes.byteLength !== need) throw bad(`the header implies ${need} bytes but the file has ${bytes.byteLength} (truncated or not a llama2.c checkpoint)`);
  // Copy once so the floats are aligned whatever the input's byte offset.
  const all = new Float32Array(bytes.slice(HEADER_INTS * 4).buffer);
  let at = 0;
  const take = (n: number) => all.subarray(at, (at += n));
  const out = new Map<string, { data: Float32Array; shape: number[] }>();
  const perLayer = (n: number, name: (l: number) => string, shape: number[], fix?: (w: Float32Array) => Float32Array) => {
    const block = take(L * n);
    for (let l = 0; l < L; l++) {
      const w = block.subarray(l * n, (l + 1) * n);
      out.set(name(l), { data: fix ? fix(w) : w, shape });
    }
  };
  const p = (l: number, rest: string) => `model.layers.${l}.${rest}`;
  out.set('model.embed_tokens.weight', { data: take(V * C), shape: [V, C] });
  perLayer(C, (l) => p(l, 'input_layernorm.weight'), [C]);
  perLayer(C * C, (l) => p(l, 'self_attn.q_proj.weight'), [H * D, C], (w) => ropeRowsToHalves(w, H, D, C));
  perLayer(K * D * C, (l) => p(l, 'self_attn.k_proj.weight'), [K * D, C], (w) => ropeRowsToHalves(w, K, D, C));
  perLayer(K * D * C, (l) => p(l, 'self_attn.v_proj.weight'), [K * D, C]);
  perLayer(C * C, (l) => p(l, 'self_attn.o_proj.weight'), [C, H * D]);
  perLayer(C, (l) => p(l, 'post_attention_layernorm.weight'), [C]);
  perLayer(F * C, (l) => p(l, 'mlp.gate_proj.weight'), [F, C]);
  perLayer(C * F, (l) => p(l, 'mlp.down_proj.weight'), [C, F]);
  perLayer(F * C, (l) => p(l, 'mlp.up_proj.weight'), [F, C]);
  out.set('model.norm.weight', { data: take(C), shape: [C] });
  take(P * D); // run.c's precomputed RoPE tables (freq_cis_real, freq_cis_imag): recomputed by the model
  if (!shared) out.set('lm_head.weight', { data: take(V * C), shape: [V, C] });
  return { config, weights: out };
}

/** A TransformerLM from a llama2.c checkpoint's bytes (see readLlama2c). */
export function loadLlama2c(bytes: Uint8Array, opts: LimitOptions = {}): TransformerLM {
  const { config, weights } = readLlama2c(bytes);
  const tensors = new Map([...weights].map(([n, w]) => [n, tf.tensor(w.data, w.shape)]));
  try {
    return new TransformerLM(config, tensors, opts);
  } finally {
    tf.dispose([...tensors.values()]);
  }
}

/**
 * Rows of a q or k projection [heads·D, C] reordered from run.c's adjacent RoPE pairs to HF's
 * split halves: within each head, row 2i goes to i and row 2i+1 to D/2 + i (HF's permute).
 */
function ropeRowsToHalves(w: Float32Array, heads: number, D: number, C: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < D / 2; i++) {
      for (const [from, to] of [[2 * i, i], [2 * i + 1, D / 2 + i]] as const) {
        out.set(w.subarray((h * D + from) * C, (h * D + from + 1) * C), (h * D + to) * C);
      }
    }
  }
  return out;
}

const bad = (msg: string) => new TransformerError('CHECKPOINT_INVALID', `llama2.c checkpoint: ${msg}.`);
