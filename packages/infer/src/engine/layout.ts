/**
 * Word offsets of the records the host writes for the wasm `forward` (mirror of
 * assembly/engine/layout.ts — keep the two in step). Every word is a u32/i32; pointers are byte
 * offsets into the shared memory, 0 = absent.
 *
 *   model[M.C] = nEmbd; model[M.LAYERS] = byte offset of L layer records of Y.WORDS words
 *   layer[Y.Q + 0..2] = (ggml format id, weight ptr, bias ptr) of the q projection
 */
export const M = {
  FAMILY: 0, C: 1, H: 2, K: 3, D: 4, I: 5, V: 6, L: 7, E: 8, TOPK: 9, ACT: 10, EPS: 11,
  WTE: 12, WPE: 13, LNF_W: 14, LNF_B: 15, HEAD_FMT: 16, HEAD: 17, COS: 18, SIN: 19, BT: 20,
  POOLK: 21, POOLV: 22, LAYERS: 23, MAXN: 24,
  X: 25, XN: 26, Q: 27, K_: 28, V_: 29, ATT: 30, PROJ: 31, H1: 32, H2: 33, SCORES: 34,
  ROUTER: 35, XE: 36, YE: 37, IDX: 38, GW: 39, PICK: 40, PW: 41, P: 42, NTH: 43,
  QACT: 44, XQ: 45, HQ: 46, XEQ: 47, XK: 48, HK: 49, XEK: 50,
  WORDS: 52,
} as const;

export const Y = {
  LN1_W: 0, LN1_B: 1, Q: 2, K: 5, V: 8, O: 11, LN2_W: 14, LN2_B: 15, ROUTER: 16, EXPERTS: 17, MLP: 18,
  WORDS: 32,
} as const;

export const P = { GATE: 0, UP: 3, DOWN: 6, WORDS: 9 } as const;

export const B = { N: 0, NOUT: 1, TOKENS: 2, POS: 3, TABLE: 4, OUT: 5, LOGITS: 6, WORDS: 8 } as const;

/** Activation codes of model[M.ACT]. */
export const ACT = { gelu_tanh: 0, gelu: 1, silu: 2 } as const;
