// Word offsets of the two records the host writes before calling `forward` (all i32/u32 words;
// pointers are byte offsets into the shared memory, 0 = absent). src/engine/layout.ts mirrors them.
//
//   model record (M_*): dims, global weights, KV pool, scratch buffers, pointer to L layer records
//   layer record (Y_*): norms, q/k/v/o linears (format, weight, bias), FFN (dense MLP or router + experts)
//   mlp record  (P_*): gate (llama only), up, down linears
//   batch record (B_*): the N tokens of this call and which of them want logits
//
// Dimension legend: N tokens, C width, H heads, K kv heads, D head dim, I MLP width, V vocab,
// L layers, E experts.

export const M_FAMILY = 0; // 0 gpt2 (LayerNorm, learned positions), 1 llama (RMSNorm, RoPE)
export const M_C = 1;
export const M_H = 2;
export const M_K = 3;
export const M_D = 4;
export const M_I = 5;
export const M_V = 6;
export const M_L = 7;
export const M_E = 8; // experts (0 = dense)
export const M_TOPK = 9;
export const M_ACT = 10; // 0 gelu_tanh, 1 gelu (erf), 2 silu (gated)
export const M_EPS = 11; // f32 bits
export const M_WTE = 12; // f32 [V, C]
export const M_WPE = 13; // f32 [P, C] (gpt2)
export const M_LNF_W = 14;
export const M_LNF_B = 15;
export const M_HEAD_FMT = 16;
export const M_HEAD = 17; // [V, C] rows in M_HEAD_FMT
export const M_COS = 18; // f32 [P, D/2] (llama)
export const M_SIN = 19;
export const M_BT = 20; // positions per cache block
export const M_POOLK = 21; // f32 blocks of [L, BT, K, D]
export const M_POOLV = 22;
export const M_LAYERS = 23; // L layer records of Y_WORDS words
export const M_MAXN = 24;
export const S_X = 25; // [N, C] residual stream
export const S_XN = 26; // [N, C] normed
export const S_Q = 27; // [N, H·D]
export const S_K = 28; // [N, K·D]
export const S_V = 29; // [N, K·D]
export const S_ATT = 30; // [N, H·D]
export const S_PROJ = 31; // [N, C]
export const S_H1 = 32; // [N, I]
export const S_H2 = 33; // [N, I]
export const S_SCORES = 34; // [threads, P] attention scores of one (token, head) per thread
export const S_ROUTER = 35; // [N, E] router probabilities
export const S_XE = 36; // [N, C] rows routed to one expert / final normed rows
export const S_YE = 37; // [N, C] that expert's output
export const S_IDX = 38; // i32 [N] token of each routed row
export const S_GW = 39; // f32 [N] gate weight of each routed row
export const S_PICK = 40; // i32 [N, TOPK] chosen experts
export const S_PW = 41; // f32 [N, TOPK] their renormalised weights
export const M_P = 42; // positions (blockSize): stride of each thread's scores
export const M_NTH = 43; // threads the scratch was sized for
export const M_QACT = 44; // 1: linears with an integer-dot kernel (kernels/index.ts q8Kind) run on quantized activations
export const S_XQ = 45; // Q8 [N, max(C, H·D)] (kernels/q8act.ts: per token cols/32 blocks { f32 d; f32 s; i8 q[32] })
export const S_HQ = 46; // Q8 [N, I] the down projection's input
export const S_XEQ = 47; // Q8 [N, C] rows routed to one expert
export const S_XK = 48; // Q8_K [N, max(C, H·D)] (kernels/q8k.ts: per token cols/256 blocks { f32 d; i8 q[256]; i16 bsums[16] })
export const S_HK = 49; // Q8_K [N, I]
export const S_XEK = 50; // Q8_K [N, C]
export const M_WORDS = 52;

export const Y_LN1_W = 0;
export const Y_LN1_B = 1;
export const Y_Q = 2; // fmt, w, b at +0, +1, +2
export const Y_K = 5;
export const Y_V = 8;
export const Y_O = 11;
export const Y_LN2_W = 14;
export const Y_LN2_B = 15;
export const Y_ROUTER = 16; // f32 [E, C]
export const Y_EXPERTS = 17; // E mlp records of P_WORDS words
export const Y_MLP = 18; // the dense mlp record (P_WORDS words)
export const Y_WORDS = 32;

export const P_GATE = 0; // fmt, w, b
export const P_UP = 3;
export const P_DOWN = 6;
export const P_WORDS = 9;

export const B_N = 0;
export const B_NOUT = 1;
export const B_TOKENS = 2; // i32 [N]
export const B_POS = 3; // i32 [N] position of each token in its sequence
export const B_TABLE = 4; // u32 [N] pointer to each token's sequence block table (i32 block ids)
export const B_OUT = 5; // i32 [NOUT] tokens whose logits are wanted
export const B_LOGITS = 6; // f32 [NOUT, V]
export const B_WORDS = 8;

/** Word `i` of the record at `p`. */
// @ts-ignore: decorator
@inline export function word(p: usize, i: i32): usize {
  return <usize>load<u32>(p + (<usize>i << 2));
}

/** Word `i` as i32. */
// @ts-ignore: decorator
@inline export function iword(p: usize, i: i32): i32 {
  return load<i32>(p + (<usize>i << 2));
}
