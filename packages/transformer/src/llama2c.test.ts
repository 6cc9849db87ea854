import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@llm/tensor-gpu';
import { randomArray } from '@llm/kit';
import { loadLlama2c, readLlama2c } from './llama2c.js';
import { expectError, useWasm } from './testing/helpers.js';

beforeAll(useWasm);

interface Hp { dim: number; hidden: number; L: number; H: number; K: number; V: number; P: number; shared: boolean }

/** A llama2.c .bin: the header, then every tensor in run.c's order (random values). */
function writeBin(hp: Hp, seed: number): Uint8Array {
  const { dim: C, hidden: F, L, H, K, V, P } = hp;
  const D = C / H;
  const sizes = [V * C, L * C, L * C * C, L * K * D * C, L * K * D * C, L * C * C, L * C, L * F * C, L * C * F, L * F * C, C, P * D / 2, P * D / 2, hp.shared ? 0 : V * C];
  const floats = randomArray(sizes.reduce((a, b) => a + b, 0), seed, 0.3);
  const out = new Uint8Array(28 + floats.length * 4);
  new Int32Array(out.buffer, 0, 7).set([C, F, L, H, K, hp.shared ? V : -V, P]);
  new Float32Array(out.buffer, 28).set(floats);
  return out;
}

/**
 * run.c's forward, written out plainly (the independent reference): adjacent-pair RoPE on the file's
 * own q/k rows, GQA by kv_mul, SwiGLU, RMSNorm eps 1e-5. Returns logits [T, V] of a token sequence.
 */
function runC(bytes: Uint8Array, tokens: number[]): Float32Array[] {
  const h = new Int32Array(bytes.buffer.slice(0, 28));
  const [C, F, L, H, K, v, P] = Array.from(h) as [number, number, number, number, number, number, number];
  const V = Math.abs(v);
  const D = C / H;
  const w = new Float32Array(bytes.buffer.slice(28));
  let at = 0;
  const take = (n: number) => w.subarray(at, (at += n));
  const emb = take(V * C), rmsAtt = take(L * C), wq = take(L * C * C), wk = take(L * K * D * C), wv = take(L * K * D * C);
  const wo = take(L * C * C), rmsFfn = take(L * C), w1 = take(L * F * C), w2 = take(L * C * F), w3 = take(L * F * C);
  const rmsFinal = take(C);
  take(P * D);
  const wcls = v > 0 ? emb : take(V * C);
  const matvec = (W: Float32Array, off: number, x: Float64Array, rows: number, cols: number) => {
    const y = new Float64Array(rows);
    for (let r = 0; r < rows; r++) { let s = 0; for (let c = 0; c < cols; c++) s += W[off + r * cols + c]! * x[c]!; y[r] = s; }
    return y;
  };
  const rms = (x: Float64Array, g: Float32Array, off: number) => {
    let ss = 0; for (const a of x) ss += a * a;
    const s = 1 / Math.sqrt(ss / x.length + 1e-5);
    return x.map((a, i) => a * s * g[off + i]!);
  };
  const kc = Array.from({ length: L }, () => [] as Float64Array[]);
  const vc = Array.from({ length: L }, () => [] as Float64Array[]);
  const out: Float32Array[] = [];
  tokens.forEach((tok, pos) => {
    let x = Float64Array.from(emb.subarray(tok * C, (tok + 1) * C));
    for (let l = 0; l < L; l++) {
      const xb = rms(x, rmsAtt, l * C);
      const q = matvec(wq, l * C * C, xb, C, C), k = matvec(wk, l * K * D * C, xb, K * D, C), vv = matvec(wv, l * K * D * C, xb, K * D, C);
      for (let i = 0; i < C; i += 2) {
        const freq = 1 / Math.pow(10000, (i % D) / D);
        const [c, s] = [Math.cos(pos * freq), Math.sin(pos * freq)];
        for (const vec of i < K * D ? [q, k] : [q]) { const [a, b] = [vec[i]!, vec[i + 1]!]; vec[i] = a * c - b * s; vec[i + 1] = a * s + b * c; }
      }
      kc[l]!.push(k); vc[l]!.push(vv);
      const att = new Float64Array(C);
      for (let hh = 0; hh < H; hh++) {
        const kh = Math.floor(hh / (H / K));
        const sc = kc[l]!.map((kt) => { let s = 0; for (let d = 0; d < D; d++) s += q[hh * D + d]! * kt[kh * D + d]!; return s / Math.sqrt(D); });
        const m = Math.max(...sc); const e = sc.map((a) => Math.exp(a - m)); const z = e.reduce((a, b) => a + b, 0);
        vc[l]!.forEach((vt, t) => { for (let d = 0; d < D; d++) att[hh * D + d]! += (e[t]! / z) * vt[kh * D + d]!; });
      }
      x = x.map((a, i) => a + matvec(wo, l * C * C, att, C, C)[i]!);
      const xb2 = rms(x, rmsFfn, l * C);
      const g = matvec(w1, l * F * C, xb2, F, C), u = matvec(w3, l * F * C, xb2, F, C);
      const hb = g.map((a, i) => (a / (1 + Math.exp(-a))) * u[i]!);
      const down = matvec(w2, l * C * F, hb, C, F);
      x = x.map((a, i) => a + down[i]!);
    }
    out.push(Float32Array.from(matvec(wcls, 0, rms(x, rmsFinal, 0), V, C)));
  });
  return out;
}

function ourLogits(bytes: Uint8Array, tokens: number[]): Float32Array {
  const model = loadLlama2c(bytes);
  try {
    return tf.tidy(() => model.forward(tf.tensor2d([tokens], [1, tokens.length], 'int32')).dataSync() as Float32Array);
  } finally {
    model.dispose();
  }
}

function expectClose(bytes: Uint8Array, tokens: number[], tol: number): void {
  const ref = runC(bytes, tokens);
  const ours = ourLogits(bytes, tokens);
  const V = ref[0]!.length;
  let worst = 0;
  ref.forEach((row, t) => row.forEach((a, i) => { worst = Math.max(worst, Math.abs(a - ours[t * V + i]!)); }));
  expect(worst).toBeLessThan(tol);
}

describe('llama2.c checkpoints', () => {
  it('match run.c\'s forward (adjacent-pair RoPE on the file\'s rows), GQA, unshared classifier', () => {
    const hp = { dim: 16, hidden: 24, L: 2, H: 4, K: 2, V: 11, P: 8, shared: false };
    expectClose(writeBin(hp, 1), [3, 1, 4, 1, 5, 9, 2], 1e-4);
  });

  it('shared classifier reads no lm_head and ties it', () => {
    const hp = { dim: 8, hidden: 12, L: 1, H: 2, K: 2, V: 7, P: 4, shared: true };
    const bytes = writeBin(hp, 2);
    expect(readLlama2c(bytes).weights.has('lm_head.weight')).toBe(false);
    expectClose(bytes, [0, 6, 2], 1e-4);
  });

  it('refuses truncated and non-llama2.c files with CHECKPOINT_INVALID', async () => {
    const bytes = writeBin({ dim: 8, hidden: 12, L: 1, H: 2, K: 2, V: 7, P: 4, shared: true }, 3);
    await expectError(() => readLlama2c(bytes.subarray(0, 100)), 'CHECKPOINT_INVALID', /implies \d+ bytes but the file has 100/);
    await expectError(() => readLlama2c(bytes.subarray(0, 10)), 'CHECKPOINT_INVALID', /shorter than the 28-byte header/);
    await expectError(() => readLlama2c(new Uint8Array(64).fill(0xff)), 'CHECKPOINT_INVALID', /out of range/);
  });
});
