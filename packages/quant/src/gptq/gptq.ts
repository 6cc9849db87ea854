/**
 * GPTQ (Frantar et al. 2022) on one weight matrix, following AutoGPTQ's `GPTQ.fasterquant`
 * (auto_gptq/quantization/gptq.py) step for step, on host float64 arrays:
 *
 *   1. dead inputs (H_ii = 0): H_ii = 1 and W[:, i] = 0
 *   2. act-order: columns sorted by descending diag(H) (perm), H permuted alike
 *   3. damping: H += damp · mean(diag H) · I (damp = 0.01)
 *   4. U = upper Cholesky factor of H⁻¹ (cholesky → cholesky_inverse → cholesky upper)
 *   5. blocks of 128 columns; inside a block, column by column: (at a group start) the group's
 *      scale/zero from the current W[:, g:g+gs] — as AutoGPTQ, the *block-level* W, which does not yet
 *      hold this block's column-by-column updates; q = quant(w); err = (w − dq) / U_ii;
 *      W1[:, i:] −= err · U[i, i:]; after the block W[:, i2:] −= Err1 · U[i1:i2, i2:] (lazy update)
 *   6. g_idx[i] = i // gs in permuted order, then everything back to the original column order.
 *
 *   const H = hessian(X, n);                              // 2·XᵀX/n, [in, in]
 *   const q = gptqQuantize(W, out, inF, H, { groupSize: 128, actOrder: true });
 *   q.codes; q.scales; q.zeros; q.gIdx;                   // → packGptq(q) for the HF layout
 */
import { QuantError } from '../errors.js';
import { findParams, quantCode, type QuantizedWeight } from './quantizer.js';

export interface GptqOptions {
  /** Input columns per scale/zero group; −1 = one group per row. Default 128. */
  groupSize?: number;
  /** Quantize columns in order of descending diag(H) (AutoGPTQ desc_act). Default false. */
  actOrder?: boolean;
  /** Columns per lazy-update block. Default 128. */
  blockSize?: number;
  /** Damping as a fraction of mean(diag H). Default 0.01. */
  dampPercent?: number;
  /** Default 4. */
  bits?: number;
  /** Symmetric quantization (zero fixed at 2^(bits−1)). Default false. */
  sym?: boolean;
}

export interface GptqResult extends QuantizedWeight {
  /** Dequantized weight [out, in] (float32), what the quantized layer computes with. */
  dequant: Float32Array;
  /** Σ (w − q)² / U_ii² / 2 over the matrix (AutoGPTQ's reported loss). */
  loss: number;
}

/** Lower Cholesky factor of the symmetric positive definite A [n, n] (row-major); throws if not PD. */
export function choleskyLower(A: Float64Array, n: number): Float64Array {
  const L = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let s = A[j * n + j]!;
    for (let k = 0; k < j; k++) s -= L[j * n + k]! * L[j * n + k]!;
    if (!(s > 0)) throw new QuantError('UNSUPPORTED', `GPTQ: the damped Hessian is not positive definite (pivot ${j} = ${s}); raise dampPercent or give more calibration data.`);
    const d = Math.sqrt(s);
    L[j * n + j] = d;
    for (let i = j + 1; i < n; i++) {
      let t = A[i * n + j]!;
      for (let k = 0; k < j; k++) t -= L[i * n + k]! * L[j * n + k]!;
      L[i * n + j] = t / d;
    }
  }
  return L;
}

/** torch.cholesky_inverse(L): A⁻¹ from A's lower factor L (A = LLᵀ → A⁻¹ = L⁻ᵀL⁻¹). */
export function choleskyInverse(L: Float64Array, n: number): Float64Array {
  const Li = new Float64Array(n * n); // L⁻¹, lower
  for (let j = 0; j < n; j++) {
    Li[j * n + j] = 1 / L[j * n + j]!;
    for (let i = j + 1; i < n; i++) {
      let s = 0;
      for (let k = j; k < i; k++) s += L[i * n + k]! * Li[k * n + j]!;
      Li[i * n + j] = -s / L[i * n + i]!;
    }
  }
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = i; k < n; k++) s += Li[k * n + i]! * Li[k * n + j]!;
      inv[i * n + j] = s;
      inv[j * n + i] = s;
    }
  }
  return inv;
}

/** Upper factor U of H⁻¹ (H⁻¹ = UᵀU), as torch.linalg.cholesky(cholesky_inverse(cholesky(H)), upper=True). */
export function inverseCholeskyUpper(H: Float64Array, n: number): Float64Array {
  const inv = choleskyInverse(choleskyLower(H, n), n);
  const L = choleskyLower(inv, n);
  const U = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) U[i * n + j] = L[j * n + i]!;
  return U;
}

/**
 * GPTQ-quantize W [out, in] (row-major, any layout converted by the caller) with the Hessian
 * H [in, in] of the layer's inputs. H is not modified.
 */
export function gptqQuantize(Win: ArrayLike<number>, out: number, inF: number, Hin: ArrayLike<number>, opts: GptqOptions = {}): GptqResult {
  const bits = opts.bits ?? 4;
  const sym = opts.sym ?? false;
  const bs = opts.blockSize ?? 128;
  const damp = opts.dampPercent ?? 0.01;
  const gsOpt = opts.groupSize ?? 128;
  const actOrder = opts.actOrder ?? false;
  if (Win.length !== out * inF) throw new QuantError('INVALID_ARGUMENT', `gptqQuantize: W has ${Win.length} values, expected ${out}·${inF}.`);
  if (Hin.length !== inF * inF) throw new QuantError('INVALID_ARGUMENT', `gptqQuantize: H has ${Hin.length} values, expected ${inF}².`);
  if (gsOpt !== -1 && (!Number.isInteger(gsOpt) || gsOpt < 1)) throw new QuantError('INVALID_ARGUMENT', `gptqQuantize: groupSize must be a positive integer or -1, got ${gsOpt}.`);
  const maxq = 2 ** bits - 1;
  const n = inF;
  let W = Float64Array.from(Win);
  let H = Float64Array.from(Hin);
  // AutoGPTQ calls find_params on the whole W once before anything (used when groupSize = −1).
  const whole = gsOpt === -1 ? findParams(W, out, n, 0, n, bits, sym) : null;
  // 1. dead inputs
  for (let i = 0; i < n; i++) {
    if (H[i * n + i] === 0) {
      H[i * n + i] = 1;
      for (let r = 0; r < out; r++) W[r * n + i] = 0;
    }
  }
  // 2. act-order
  let perm: Int32Array | null = null;
  if (actOrder) {
    const diag = Array.from({ length: n }, (_, i) => H[i * n + i]!);
    // torch.argsort(descending=True); ties by index (stable) — exact ties are rare with real data.
    perm = Int32Array.from(Array.from({ length: n }, (_, i) => i).sort((a, b) => diag[b]! - diag[a]! || a - b));
    const W2 = new Float64Array(out * n);
    for (let r = 0; r < out; r++) for (let c = 0; c < n; c++) W2[r * n + c] = W[r * n + perm[c]!]!;
    const H2 = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) H2[i * n + j] = H[perm[i]! * n + perm[j]!]!;
    W = W2;
    H = H2;
  }
  // 3. damping
  let mean = 0;
  for (let i = 0; i < n; i++) mean += H[i * n + i]!;
  mean /= n;
  for (let i = 0; i < n; i++) H[i * n + i]! += damp * mean;
  // 4. U = chol(H⁻¹) upper
  const U = inverseCholeskyUpper(H, n);
  // 5. blocks
  const gs = gsOpt === -1 ? n : gsOpt;
  const G = Math.ceil(n / gs);
  const codesP = new Uint8Array(out * n); // permuted column order
  const scales = new Float64Array(G * out);
  const zeros = new Float64Array(G * out);
  let cur = whole ?? { scale: new Float64Array(out), zero: new Float64Array(out) };
  if (whole) {
    scales.set(whole.scale, 0);
    zeros.set(whole.zero, 0);
  }
  let loss = 0;
  for (let i1 = 0; i1 < n; i1 += bs) {
    const i2 = Math.min(i1 + bs, n);
    const cnt = i2 - i1;
    const W1 = new Float64Array(out * cnt);
    for (let r = 0; r < out; r++) for (let j = 0; j < cnt; j++) W1[r * cnt + j] = W[r * n + i1 + j]!;
    const Err1 = new Float64Array(out * cnt);
    for (let i = 0; i < cnt; i++) {
      const col = i1 + i;
      if (gsOpt !== -1 && col % gs === 0) {
        cur = findParams(W, out, n, col, Math.min(col + gs, n), bits, sym);
        const g = col / gs;
        scales.set(cur.scale, g * out);
        zeros.set(cur.zero, g * out);
      }
      const d = U[col * n + col]!;
      for (let r = 0; r < out; r++) {
        const w = W1[r * cnt + i]!;
        const s = cur.scale[r]!;
        const z = cur.zero[r]!;
        const q = quantCode(w, s, z, maxq);
        codesP[r * n + col] = q;
        const dq = s * (q - z);
        loss += ((w - dq) * (w - dq)) / (d * d) / 2;
        const err = (w - dq) / d;
        Err1[r * cnt + i] = err;
        const row = r * cnt;
        const urow = col * n + i1;
        for (let j = i; j < cnt; j++) W1[row + j]! -= err * U[urow + j]!;
      }
    }
    // lazy update of the columns after the block: W[:, i2:] −= Err1 · U[i1:i2, i2:]
    if (i2 < n) {
      for (let r = 0; r < out; r++) {
        const wrow = r * n;
        for (let k = 0; k < cnt; k++) {
          const e = Err1[r * cnt + k]!;
          if (e === 0) continue;
          const urow = (i1 + k) * n;
          for (let c = i2; c < n; c++) W[wrow + c]! -= e * U[urow + c]!;
        }
      }
    }
  }
  // 6. back to the original order
  const gIdx = new Int32Array(n);
  const codes = new Uint8Array(out * n);
  for (let p = 0; p < n; p++) {
    const c = perm ? perm[p]! : p;
    gIdx[c] = Math.floor(p / gs);
    for (let r = 0; r < out; r++) codes[r * n + c] = codesP[r * n + p]!;
  }
  const dequant = new Float32Array(out * n);
  for (let r = 0; r < out; r++) {
    for (let c = 0; c < n; c++) {
      const g = gIdx[c]! * out + r;
      dequant[r * n + c] = scales[g]! * (codes[r * n + c]! - zeros[g]!);
    }
  }
  return { bits, groupSize: gs, out, inF: n, codes, scales, zeros, gIdx, dequant, loss };
}

/**
 * Running Hessian as AutoGPTQ's `add_batch`: H ← H·n/(n+b) + (2/(n+b))·XᵀX for a batch of b
 * samples (sequences) whose rows (tokens) are X [rows, in]. Only H's relative size matters to GPTQ.
 */
export class HessianAccumulator {
  readonly H: Float64Array;
  nsamples = 0;
  constructor(readonly n: number) {
    this.H = new Float64Array(n * n);
  }
  /** xtx = XᵀX [in, in] of a batch of `samples` sequences. */
  add(xtx: ArrayLike<number>, samples: number): void {
    const tot = this.nsamples + samples;
    const keep = this.nsamples / tot;
    const k = 2 / tot;
    const H = this.H;
    for (let i = 0; i < H.length; i++) H[i] = H[i]! * keep + k * xtx[i]!;
    this.nsamples = tot;
  }
}
