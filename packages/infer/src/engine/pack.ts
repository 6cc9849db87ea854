/**
 * Packs a ModelSource into the arena once: weights, the model and layer records, RoPE tables,
 * the KV pool and the scratch buffers of a step of up to maxN tokens.
 *
 *   const packed = packModel(arena, source, { maxN: 64, blockTokens: 16, blocks: 32 });
 *   wasm.forward(packed.model, batchRecord);
 *
 * Dimension legend: N tokens per call, C width, H heads, K kv heads, D head dim, I MLP width,
 * V vocab, P positions, L layers, E experts.
 */
import { ropeTables, tf } from '@llm/tensor-gpu';
import { InferError } from '../errors.js';
import type { Arena } from './arena.js';
import { ACT, M, P as PW, Y } from './layout.js';
import type { LinearSource, MlpSource, ModelSource, NormSource } from './source.js';

export interface PackOptions {
  /** Tokens one wasm call takes (larger inputs are chunked). */
  maxN: number;
  blockTokens: number;
  /** KV pool blocks. */
  blocks: number;
  /** Threads the scratch is sized for (each has its own attention scores). */
  threads: number;
  /** 'q8': linears whose weights have an integer-dot kernel run on quantized activations (Q8 / Q8_K; their scratch is allocated). */
  activations: 'f32' | 'q8';
}

export interface PackedModel {
  /** Byte offset of the model record. */
  model: number;
  /** Batch record and its arrays (sized for maxN tokens). */
  batch: { record: number; tokens: number; pos: number; tables: number; out: number; logits: number; tableSlab: number; tableWords: number };
  maxN: number;
  blockTokens: number;
  blocks: number;
  /** Bytes of one KV block (keys; values the same) = L · BT · K · D · 4. */
  blockBytes: number;
  poolK: number;
  poolV: number;
  /** Bytes of packed weights (what the weight format changes). */
  weightBytes: number;
  /** The activations the linears run on: 'q8' when asked and at least one linear has an integer-dot kernel, else 'f32'. */
  activations: 'f32' | 'q8';
}

/**
 * The quantized activations each format's integer-dot kernel multiplies (assembly/kernels/index.ts
 * q8Kind): 'q8' (blocks of 32) for q4_0, q4_1, q5_0, q8_0 and the private q8_f32 (100) / q4_z (101);
 * 'q8k' (super-blocks of 256) for q4_K, q6_K. None for f32, f16, nf4.
 */
export const Q8_KIND: ReadonlyMap<number, 'q8' | 'q8k'> = new Map([
  [2, 'q8'], [3, 'q8'], [6, 'q8'], [8, 'q8'], [100, 'q8'], [101, 'q8'], [12, 'q8k'], [14, 'q8k'],
]);

/** Bytes of one token's Q8 activations of width `cols` (blocks { f32 d; f32 s; i8 q[32] }, assembly/kernels/q8act.ts). */
export const q8RowBytes = (cols: number): number => Math.ceil(cols / 32) * 40;
/** Bytes of one token's Q8_K activations (blocks { f32 d; i8 q[256]; i16 bsums[16] }, assembly/kernels/q8k.ts). */
export const q8kRowBytes = (cols: number): number => Math.ceil(cols / 256) * 292;

/** The quantized activation kinds the linears of `src` (the head included) want. */
function q8Kinds(src: ModelSource): Set<'q8' | 'q8k'> {
  const lins = [src.head, ...src.layers.flatMap((l) => [l.q, l.k, l.v, l.o, ...(l.mlp ? [l.mlp] : l.experts).flatMap((m) => [m.gate, m.up, m.down])])];
  const kinds = new Set<'q8' | 'q8k'>();
  for (const l of lins) if (l && Q8_KIND.has(l.fmt)) kinds.add(Q8_KIND.get(l.fmt)!);
  return kinds;
}

/** RoPE tables [P, D/2] of the tfjs model (@llm/tensor-gpu's ropeTables), as host arrays. */
function hostRopeTables(P: number, D: number, theta: number): { cos: Float32Array; sin: Float32Array } {
  const t = ropeTables({ positions: P, headDim: D, theta });
  try {
    return { cos: t.cos.dataSync() as Float32Array, sin: t.sin.dataSync() as Float32Array };
  } finally {
    tf.dispose([t.cos, t.sin]);
  }
}

export function packModel(arena: Arena, src: ModelSource, opts: PackOptions): PackedModel {
  const cfg = src.config;
  const { nEmbd: C, nHead: H, nKvHead: K, headDim: D, intermediateSize: I, vocabSize: V, nLayer: L, blockSize: P } = cfg;
  const E = cfg.nExperts;
  const llama = cfg.family === 'llama';
  let weightBytes = 0;
  const f32 = (a: Float32Array | null): number => {
    if (!a) return 0;
    weightBytes += a.byteLength;
    return arena.put(a);
  };
  const lin = (rec: number, at: number, l: LinearSource | null): void => {
    if (!l) return;
    weightBytes += l.data.byteLength;
    const w = arena.put(l.data);
    const b = f32(l.bias);
    arena.u32(rec + at * 4, 3).set([l.fmt, w, b]);
  };
  const mlp = (rec: number, m: MlpSource): void => {
    lin(rec, PW.GATE, m.gate);
    lin(rec, PW.UP, m.up);
    lin(rec, PW.DOWN, m.down);
  };
  const norm = (rec: number, wAt: number, bAt: number, n: NormSource): void => {
    arena.u32(rec + wAt * 4, 1)[0] = f32(n.weight);
    arena.u32(rec + bAt * 4, 1)[0] = f32(n.bias);
  };

  const model = arena.alloc(M.WORDS * 4);
  const layers = arena.alloc(L * Y.WORDS * 4);
  const words = (): Uint32Array => arena.u32(model, M.WORDS);
  const set = (k: number, v: number): void => {
    words()[k] = v;
  };
  set(M.FAMILY, llama ? 1 : 0);
  set(M.C, C); set(M.H, H); set(M.K, K); set(M.D, D); set(M.I, I); set(M.V, V); set(M.L, L);
  set(M.E, E); set(M.TOPK, E > 0 ? cfg.nExpertsPerTok : 0); set(M.ACT, ACT[cfg.activation]);
  new Float32Array(words().buffer, model + M.EPS * 4, 1)[0] = cfg.normEps;
  set(M.LAYERS, layers);
  set(M.WTE, f32(src.embed));
  set(M.WPE, f32(src.positions));
  for (let l = 0; l < L; l++) {
    const y = layers + l * Y.WORDS * 4;
    const s = src.layers[l]!;
    norm(y, Y.LN1_W, Y.LN1_B, s.ln1);
    lin(y, Y.Q, s.q);
    lin(y, Y.K, s.k);
    lin(y, Y.V, s.v);
    lin(y, Y.O, s.o);
    norm(y, Y.LN2_W, Y.LN2_B, s.ln2);
    if (E > 0) {
      if (!s.router || s.experts.length !== E) throw new InferError('BAD_WEIGHTS', `layer ${l}: an MoE layer needs a router [${E}, ${C}] and ${E} experts, got ${s.experts.length}.`);
      arena.u32(y + Y.ROUTER * 4, 1)[0] = f32(s.router);
      const ex = arena.alloc(E * PW.WORDS * 4);
      arena.u32(y + Y.EXPERTS * 4, 1)[0] = ex;
      s.experts.forEach((m, e) => mlp(ex + e * PW.WORDS * 4, m));
    } else {
      if (!s.mlp) throw new InferError('BAD_WEIGHTS', `layer ${l}: a dense layer needs its MLP weights.`);
      mlp(y + Y.MLP * 4, s.mlp);
    }
  }
  const lnf = src.lnf;
  set(M.LNF_W, f32(lnf.weight));
  set(M.LNF_B, f32(lnf.bias));
  if (src.head) {
    weightBytes += src.head.data.byteLength;
    set(M.HEAD_FMT, src.head.fmt);
    set(M.HEAD, arena.put(src.head.data));
  } else {
    set(M.HEAD_FMT, 0);
    set(M.HEAD, words()[M.WTE]!);
  }
  if (llama) {
    const { cos, sin } = hostRopeTables(P, D, cfg.ropeTheta);
    set(M.COS, arena.put(cos));
    set(M.SIN, arena.put(sin));
  }

  // KV pool and scratch
  const { maxN, blockTokens: BT, blocks } = opts;
  const blockBytes = L * BT * K * D * 4;
  set(M.BT, BT);
  const poolK = arena.alloc(blocks * blockBytes, 64);
  const poolV = arena.alloc(blocks * blockBytes, 64);
  set(M.POOLK, poolK);
  set(M.POOLV, poolV);
  set(M.MAXN, maxN);
  set(M.P, P);
  set(M.NTH, opts.threads);
  const kinds = opts.activations === 'q8' ? q8Kinds(src) : new Set<'q8' | 'q8k'>();
  const activations = kinds.size > 0 ? 'q8' : 'f32';
  set(M.QACT, activations === 'q8' ? 1 : 0);
  const buf = (k: number, floats: number): void => set(k, arena.alloc(Math.max(1, floats) * 4, 64));
  buf(M.X, maxN * C); buf(M.XN, maxN * C); buf(M.Q, maxN * H * D); buf(M.K_, maxN * K * D); buf(M.V_, maxN * K * D);
  buf(M.ATT, maxN * H * D); buf(M.PROJ, maxN * C); buf(M.H1, maxN * I); buf(M.H2, maxN * I); buf(M.SCORES, P * opts.threads);
  buf(M.XE, maxN * C);
  if (E > 0) {
    const k = cfg.nExpertsPerTok;
    buf(M.ROUTER, maxN * E); buf(M.YE, maxN * C); buf(M.IDX, maxN * k); buf(M.GW, maxN * k); buf(M.PICK, maxN * k); buf(M.PW, maxN * k);
  }
  const qbufs = (bytes: (cols: number) => number, x: number, h: number, xe: number): void => {
    const qbuf = (k: number, cols: number): void => set(k, arena.alloc(maxN * bytes(cols), 64));
    qbuf(x, Math.max(C, H * D));
    qbuf(h, I);
    if (E > 0) qbuf(xe, C);
  };
  if (kinds.has('q8')) qbufs(q8RowBytes, M.XQ, M.HQ, M.XEQ);
  if (kinds.has('q8k')) qbufs(q8kRowBytes, M.XK, M.HK, M.XEK);
  const tableWords = Math.ceil(P / BT);
  const record = arena.alloc(8 * 4);
  const batch = {
    record,
    tokens: arena.alloc(maxN * 4),
    pos: arena.alloc(maxN * 4),
    tables: arena.alloc(maxN * 4),
    out: arena.alloc(maxN * 4),
    logits: arena.alloc(maxN * V * 4, 64),
    tableSlab: arena.alloc(maxN * tableWords * 4),
    tableWords,
  };
  return { model, batch, maxN, blockTokens: BT, blocks, blockBytes, poolK, poolV, weightBytes, activations };
}
