// The whole model for a flat list of N tokens in one call: embeddings → every layer → final norm
// → head for the tokens that want logits. Each token carries its position and its sequence's
// block table, so one call serves prefill (many tokens of one sequence), batch decode (one token
// of each of B sequences at different positions) and mixes of both. This step's k/v are written
// to the cache before attention, so each token sees its sequence's positions ≤ its own.
//
//   host: write the model record once, a batch record per call, then forward(model, batch)
//   e.g. batch { N: 3, tokens [5, 9, 2], pos [0, 1, 7], tables [A, A, B], out [1, 2] } runs a
//        two-token prefill of sequence A and one decode token of sequence B, and writes the
//        logits of tokens 1 and 2 as [2, V].
//
// Quantized activations (model word M_QACT = 1): each linear input that feeds a linear with an
// integer-dot kernel is quantized once per kind its consumers want (Q8: kernels/q8act.ts, Q8_K:
// q8k.ts) by tokens — the normed x (shared by q, k, v; by up and gate) in the same phase as its
// norm, attention's output and the MLP hidden after a barrier of their own — and a barrier
// always separates it from the products that read it.

import { matmul, matmul_q8 } from '../kernels/index';
import * as M from './layout';
import { iword, word } from './layout';
import { layerNorm, rmsNorm } from './norms';
import { rope } from './rope';
import { attend, writeKv } from './attention';
import { linear, mlp, mlpWants, qptr, quantizeIn, wants } from './mlp';
import { moe } from './moe';
import { barrier, part } from './sync';

function norm(m: usize, x: usize, y: usize, w: usize, b: usize, C: i32, r0: i32, r1: i32): void {
  const eps = load<f32>(m + (<usize>M.M_EPS << 2));
  if (iword(m, M.M_FAMILY) == 0) layerNorm(x, y, w, b, C, eps, r0, r1);
  else rmsNorm(x, y, w, C, eps, r0, r1);
}

/** x[t, c] += y[t, c] for columns [c0, c1) of [n, C]. */
function addCols(x: usize, y: usize, n: i32, C: i32, c0: i32, c1: i32): void {
  for (let t = 0; t < n; t++) for (let c = c0; c < c1; c++) {
    const o = (<usize>t * <usize>C + <usize>c) << 2;
    store<f32>(x + o, load<f32>(x + o) + load<f32>(y + o));
  }
}

/** The quantized inputs the E experts' (mlp records at `experts`) up / gate want, as wants() bits. */
function expertsWant(qact: bool, experts: usize, E: i32): i32 {
  let w = 0;
  for (let e = 0; e < E; e++) w |= mlpWants(qact, experts + <usize>e * (<usize>M.P_WORDS << 2));
  return w;
}

/** Runs the batch record at `b` through the model record at `m` (see layout.ts), one thread. */
export function forward(m: usize, b: usize): void {
  forward_thread(m, b, 0, 1, 0);
}

/**
 * The same as thread `tid` of `nth`, all on one memory, with the barrier record at `bar`
 * (sync.ts). Every thread must call it with the same m, b, nth, bar.
 */
export function forward_thread(m: usize, b: usize, tid: i32, nth: i32, bar: usize): void {
  const C = iword(m, M.M_C);
  const H = iword(m, M.M_H);
  const K = iword(m, M.M_K);
  const D = iword(m, M.M_D);
  const I = iword(m, M.M_I);
  const V = iword(m, M.M_V);
  const L = iword(m, M.M_L);
  const E = iword(m, M.M_E);
  const topk = iword(m, M.M_TOPK);
  const act = iword(m, M.M_ACT);
  const BT = iword(m, M.M_BT);
  const llama = iword(m, M.M_FAMILY) == 1;
  const n = iword(b, M.B_N);
  const tokens = word(b, M.B_TOKENS);
  const pos = word(b, M.B_POS);
  const tables = word(b, M.B_TABLE);
  const x = word(m, M.S_X);
  const xn = word(m, M.S_XN);
  const q = word(m, M.S_Q);
  const k = word(m, M.S_K);
  const v = word(m, M.S_V);
  const att = word(m, M.S_ATT);
  const proj = word(m, M.S_PROJ);
  const h1 = word(m, M.S_H1);
  const h2 = word(m, M.S_H2);
  const poolK = word(m, M.M_POOLK);
  const poolV = word(m, M.M_POOLV);
  const P = iword(m, M.M_P);
  const qact = iword(m, M.M_QACT) != 0;
  const xq = word(m, M.S_XQ);
  const hq = word(m, M.S_HQ);
  const xk = word(m, M.S_XK);
  const hk = word(m, M.S_HK);
  const scores = word(m, M.S_SCORES) + (<usize>tid * <usize>P << 2);
  const blockBytes = <usize>L * <usize>BT * <usize>(K * D) << 2;
  const rowBytes = <usize>C << 2;
  // this thread's tokens, columns of C, and (token, head) pairs
  const t0 = part(n, tid, nth);
  const t1 = part(n, tid + 1, nth);
  const c0 = part(C, tid, nth);
  const c1 = part(C, tid + 1, nth);

  // embeddings (+ learned positions)
  const wte = word(m, M.M_WTE);
  const wpe = word(m, M.M_WPE);
  for (let t = t0; t < t1; t++) {
    const id = load<i32>(tokens + (<usize>t << 2));
    const xr = x + <usize>t * rowBytes;
    memory.copy(xr, wte + <usize>id * rowBytes, rowBytes);
    if (!llama) {
      const pr = wpe + <usize>load<i32>(pos + (<usize>t << 2)) * rowBytes;
      for (let c = 0; c < C; c++) store<f32>(xr + (<usize>c << 2), load<f32>(xr + (<usize>c << 2)) + load<f32>(pr + (<usize>c << 2)));
    }
  }

  const layers = word(m, M.M_LAYERS);
  for (let l = 0; l < L; l++) {
    const y = layers + <usize>l * (<usize>M.Y_WORDS << 2);
    norm(m, x, xn, word(y, M.Y_LN1_W), word(y, M.Y_LN1_B), C, t0, t1);
    const qkv = wants(qact, y, M.Y_Q) | wants(qact, y, M.Y_K) | wants(qact, y, M.Y_V);
    quantizeIn(qkv, xn, xq, xk, C, t0, t1);
    const xnq = qptr(qkv, 1, xq), xnk = qptr(qkv, 2, xk);
    barrier(bar, nth);
    linear(y, M.Y_Q, xn, xnq, xnk, q, H * D, C, n, part(H * D, tid, nth), part(H * D, tid + 1, nth));
    linear(y, M.Y_K, xn, xnq, xnk, k, K * D, C, n, part(K * D, tid, nth), part(K * D, tid + 1, nth));
    linear(y, M.Y_V, xn, xnq, xnk, v, K * D, C, n, part(K * D, tid, nth), part(K * D, tid + 1, nth));
    barrier(bar, nth);
    if (llama) {
      rope(q, pos, word(m, M.M_COS), word(m, M.M_SIN), H, D, t0, t1);
      rope(k, pos, word(m, M.M_COS), word(m, M.M_SIN), K, D, t0, t1);
    }
    writeKv(k, v, poolK, poolV, blockBytes, pos, tables, l, BT, K * D, t0, t1);
    barrier(bar, nth);
    attend(q, att, poolK, poolV, blockBytes, pos, tables, scores, l, BT, H, K, D, part(n * H, tid, nth), part(n * H, tid + 1, nth));
    barrier(bar, nth);
    const ow = wants(qact, y, M.Y_O);
    if (ow) {
      quantizeIn(ow, att, xq, xk, H * D, t0, t1);
      barrier(bar, nth);
    }
    linear(y, M.Y_O, att, qptr(ow, 1, xq), qptr(ow, 2, xk), proj, C, H * D, n, c0, c1);
    addCols(x, proj, n, C, c0, c1);
    barrier(bar, nth);
    norm(m, x, xn, word(y, M.Y_LN2_W), word(y, M.Y_LN2_B), C, t0, t1);
    const ffn = E > 0 ? expertsWant(qact, word(y, M.Y_EXPERTS), E) : mlpWants(qact, y + (<usize>M.Y_MLP << 2));
    quantizeIn(ffn, xn, xq, xk, C, t0, t1);
    const fq = qptr(ffn, 1, xq), fk = qptr(ffn, 2, xk);
    barrier(bar, nth);
    if (E > 0) {
      moe(word(y, M.Y_ROUTER), word(y, M.Y_EXPERTS), xn, fq, fk, word(m, M.S_XEQ), word(m, M.S_XEK), hq, hk, qact, proj, word(m, M.S_ROUTER), word(m, M.S_PICK), word(m, M.S_PW),
        word(m, M.S_XE), word(m, M.S_YE), word(m, M.S_IDX), word(m, M.S_GW), h1, h2, C, I, E, topk, n, act, tid, nth, bar);
    } else {
      mlp(y + (<usize>M.Y_MLP << 2), xn, fq, fk, proj, h1, h2, hq, hk, qact, C, I, n, act, tid, nth, bar);
    }
    addCols(x, proj, n, C, c0, c1);
    barrier(bar, nth);
  }

  // final norm (thread 0) and head (split) for the wanted tokens only
  const nOut = iword(b, M.B_NOUT);
  const headW = wants(qact, m, M.M_HEAD_FMT); // the head's (fmt, w) words sit in the model record
  if (tid == 0) {
    const outIdx = word(b, M.B_OUT);
    const xe = word(m, M.S_XE);
    for (let i = 0; i < nOut; i++) {
      const t = load<i32>(outIdx + (<usize>i << 2));
      memory.copy(xe + <usize>i * rowBytes, x + <usize>t * rowBytes, rowBytes);
    }
    norm(m, xe, xn, word(m, M.M_LNF_W), word(m, M.M_LNF_B), C, 0, nOut);
    quantizeIn(headW, xn, xq, xk, C, 0, nOut);
  }
  barrier(bar, nth);
  const hx = headW == 1 ? xq : headW == 2 ? xk : 0;
  if (hx) matmul_q8(iword(m, M.M_HEAD_FMT), word(m, M.M_HEAD), hx, word(b, M.B_LOGITS), V, C, nOut, part(V, tid, nth), part(V, tid + 1, nth));
  else matmul(iword(m, M.M_HEAD_FMT), word(m, M.M_HEAD), xn, word(b, M.B_LOGITS), V, C, nOut, part(V, tid, nth), part(V, tid + 1, nth));
  barrier(bar, nth);
}
